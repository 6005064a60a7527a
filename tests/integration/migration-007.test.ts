import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWriter, MIGRATIONS_DIR, migrationOrder, openWriter } from '../../collectors/store/database.ts';
import { tempDir } from '../helpers/index.ts';

/**
 * 007 on a database filled by the previous release: report 1 was already assigned at the first collection
 * (its assignment time is unknown), report 2 was filed after that collection and seen assigned at the next
 * (kept), report 3 was filed before the second collection, missed by it, and seen assigned at the third
 * (unknown again). Values worked out by hand from the runs below.
 */
const I = 'coop.example';
const dir = tempDir('fp-m007-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function buildBefore007(file: string): Promise<void> {
  const inst = await DuckDBInstance.create(file);
  const c = await inst.connect();
  await c.run(
    `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
  );
  for (const f of migrationOrder(readdirSync(MIGRATIONS_DIR))) {
    const v = Number(f.slice(0, 3));
    if (v >= 7 && v !== 9) continue;
    await c.run(readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8'));
    await c.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [v, f]);
  }
  const stmts = [
    `INSERT INTO runs (kind, started_at, finished_at, status) VALUES
       ('instance', '2026-10-01T06:00:00Z', '2026-10-01T06:05:00Z', 'ok'),
       ('instance', '2026-10-02T06:00:00Z', '2026-10-02T06:05:00Z', 'failed'),
       ('instance', '2026-10-03T06:00:00Z', '2026-10-03T06:05:00Z', 'ok')`,
    `INSERT INTO run_sources VALUES (1, 'admin.reports', 'ok', 3, 0, NULL, '2026-10-01T06:04:00Z'),
       (2, 'admin.reports', 'failed', 0, 1, 'HTTP 503', '2026-10-02T06:04:00Z'),
       (3, 'admin.reports', 'ok', 3, 0, NULL, '2026-10-03T06:04:00Z')`,
    `INSERT INTO report_records (instance, report_id, category, created_at, updated_at, action_taken, action_taken_at,
       forwarded, target_origin, target_domain, assigned_account_id, first_assigned_seen_at, rule_ids, first_seen_at, last_seen_at) VALUES
     ('${I}', '1', 'spam', '2025-01-05T10:00:00Z', NULL, false, NULL, false, 'local', NULL, '9',
      '2026-10-01T06:01:00Z', [], '2026-10-01T06:01:00Z', '2026-10-03T06:01:00Z'),
     ('${I}', '2', 'spam', '2026-10-01T12:00:00Z', NULL, false, NULL, false, 'local', NULL, '9',
      '2026-10-03T06:01:00Z', [], '2026-10-03T06:01:00Z', '2026-10-03T06:01:00Z'),
     ('${I}', '3', 'spam', '2026-09-30T12:00:00Z', NULL, false, NULL, false, 'local', NULL, '9',
      '2026-10-03T06:02:00Z', [], '2026-10-03T06:02:00Z', '2026-10-03T06:02:00Z'),
     ('${I}', '4', 'spam', '2026-09-01T12:00:00Z', NULL, false, NULL, false, 'local', NULL, '9',
      '2026-10-03T06:02:00Z', [], '2026-10-01T06:02:00Z', '2026-10-03T06:02:00Z')`,
    `INSERT INTO retention_observations VALUES ('${I}', 'month', '2025-06-01', 0, '2025-06-01', 40, 0.8, '2026-10-01T06:00:00Z'),
       ('${I}', 'month', '2025-06-01', 0, '2025-06-01', 41, 0.82, '2026-10-03T06:00:00Z')`
  ];
  for (const s of stmts) await c.run(s);
  c.closeSync();
  inst.closeSync();
}

describe('migration 007', () => {
  it('forgets assignment times that were only the first sighting, keeps every row, adds reporter_domain', async () => {
    const file = path.join(dir, 'old.duckdb');
    await buildBefore007(file);
    const db = await openWriter(file, 'test');
    try {
      const rows = await db.all<{ report_id: string; a: string | null; reporter_domain: string | null }>(
        `SELECT report_id, strftime(first_assigned_seen_at, '%Y-%m-%dT%H:%M') AS a, reporter_domain
         FROM reports ORDER BY report_id`
      );
      expect(rows).toEqual([
        // first sighting at the first collection, filed long before: unknown
        { report_id: '1', a: null, reporter_domain: null },
        // filed after the first collection (the second failed), seen assigned at the third: kept
        { report_id: '2', a: '2026-10-03T06:01', reporter_domain: null },
        // filed before the first collection, first seen at the third: unknown
        { report_id: '3', a: null, reporter_domain: null },
        // seen unassigned first, assigned later: a real sighting, kept
        { report_id: '4', a: '2026-10-03T06:02', reporter_domain: null }
      ]);
      const r = await db.all<{ cohort: string; t: string }>(
        `SELECT CAST(cohort AS VARCHAR) AS cohort, strftime(last_reported_at, '%Y-%m-%dT%H:%M') AS t FROM retention_reported`
      );
      expect(r).toEqual([{ cohort: '2025-06-01', t: '2026-10-03T06:00' }]);
    } finally {
      await closeWriter(db);
    }
  });
});
