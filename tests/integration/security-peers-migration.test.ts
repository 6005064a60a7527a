import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { storedNodeinfoText } from '../../collectors/peers/redact.ts';
import { closeWriter, MIGRATIONS_DIR, migrationOrder, openWriter } from '../../collectors/store/database.ts';
import { rawHash } from '../../collectors/store/peers.ts';
import { ROOT, tempDir } from '../helpers/index.ts';

const NI = path.join(ROOT, 'tests', 'fixtures', 'nodeinfo');
const AKKOMA = readFileSync(path.join(NI, 'akkoma_3.0.0_soc.hyena.network.nodeinfo-2.0.json'), 'utf8').trim();
const MASTODON = JSON.stringify(
  JSON.parse(readFileSync(path.join(NI, 'mastodon_4.5.0-nightly_mastodon.social.nodeinfo-2.0.json'), 'utf8'))
);

/**
 * A database as the crawler left it before issue 14: the schema of the migrations before 006, and documents
 * stored as served, under the hash of the text served (what writeObservations did then).
 */
async function oldDatabase(file: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  try {
    await conn.run(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
    );
    for (const f of migrationOrder(readdirSync(MIGRATIONS_DIR))) {
      const v = Number(f.slice(0, 3));
      if (v >= 6 && v !== 9) continue;
      await conn.run(readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8'));
      await conn.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [v, f]);
    }
    const docs = [
      ['akkoma.example', AKKOMA],
      ['mastodon.example', MASTODON]
    ] as const;
    for (const [domain, text] of docs) {
      const hash = rawHash(text);
      await conn.run('INSERT INTO peer_raw_docs (hash, raw) VALUES ($1, $2::JSON)', [hash, text]);
      for (const run of [1, 2])
        await conn.run(
          `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, raw_hash, crawl_day)
           VALUES ($1, $2, $3::TIMESTAMPTZ, 'ok', $4, $5::DATE)`,
          [run, domain, `2026-11-0${run}T03:00:00Z`, hash, `2026-11-0${run}`]
        );
      await conn.run(
        `INSERT INTO peer_hosts (domain, state, first_seen_at, last_outcome, last_raw_hash)
         VALUES ($1, 'ok', '2026-11-01T03:00:00Z', 'ok', $2)`,
        [domain, hash]
      );
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe('migration 006 redacts NodeInfo documents stored before issue 14', () => {
  it('replaces each stored document by its redacted text, and every reference follows', async () => {
    const file = path.join(tempDir(), 'old.duckdb');
    await oldDatabase(file);
    const fed = (JSON.parse(AKKOMA) as { metadata: { federation: { mrf_simple: Record<string, string[]> } } })
      .metadata.federation.mrf_simple;
    const blocked = Object.values(fed).flat();
    expect(blocked.length).toBeGreaterThan(5);

    const db = await openWriter(file, 'test');
    try {
      const versions = await db.all<{ version: number }>('SELECT version FROM schema_migrations');
      expect(versions.map((v) => v.version)).toContain(6);
      const rows = await db.all<{ domain: string; run_id: number; raw: string; raw_hash: string }>(
        `SELECT o.domain, o.run_id, r.raw::VARCHAR AS raw, o.raw_hash
         FROM peer_obs o LEFT JOIN peer_obs_raw r USING (run_id, domain) ORDER BY domain, run_id`
      );
      expect(rows).toHaveLength(4);
      const akkoma = rows.filter((r) => r.domain === 'akkoma.example');
      for (const r of akkoma) {
        expect(r.raw).toBe(storedNodeinfoText(AKKOMA));
        expect(r.raw_hash).toBe(rawHash(r.raw));
        for (const d of blocked) expect(r.raw).not.toContain(d);
        expect(r.raw).not.toContain('mrf_simple');
      }
      // A document with nothing to drop is left as it was, under its old hash.
      for (const r of rows.filter((x) => x.domain === 'mastodon.example')) {
        expect(r.raw).toBe(MASTODON);
        expect(r.raw_hash).toBe(rawHash(MASTODON));
      }
      const [raw] = await db.all<{ n: number; left: number }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE raw::VARCHAR LIKE '%quarantined%' OR raw::VARCHAR LIKE '%botsin.space%') AS left
         FROM peer_raw_docs`
      );
      expect(raw).toEqual({ n: 2, left: 0 });
      const hosts = await db.all<{ domain: string; last_raw_hash: string }>(
        'SELECT domain, last_raw_hash FROM peer_hosts ORDER BY domain'
      );
      expect(hosts).toEqual([
        { domain: 'akkoma.example', last_raw_hash: rawHash(storedNodeinfoText(AKKOMA)!) },
        { domain: 'mastodon.example', last_raw_hash: rawHash(MASTODON) }
      ]);
    } finally {
      closeWriter(db);
    }
  });
});
