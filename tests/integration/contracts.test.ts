import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openWriter, type Db } from '../../collectors/store/database.ts';
import { tempDir } from '../helpers/index.ts';

/** The stable SQL views of PRODUCT.md: users' scripts rely on these names and columns. */
const VIEWS: Record<string, string[]> = {
  collection_runs: ['run_id', 'kind', 'started_at', 'finished_at', 'status', 'items', 'errors', 'message'],
  daily_metrics: ['instance', 'day', 'metric', 'value'],
  reports: [
    'instance',
    'report_id',
    'category',
    'created_at',
    'resolved_at',
    'action_taken',
    'forwarded',
    'target_origin',
    'target_domain',
    'reporter_domain',
    'first_assigned_seen_at'
  ],
  retention_cohorts: ['instance', 'frequency', 'cohort', 'period_index', 'users', 'rate', 'observed_at'],
  own_domain_blocks: [
    'instance',
    'domain',
    'digest',
    'severity',
    'reject_media',
    'reject_reports',
    'public_comment',
    'first_seen_at',
    'removed_at'
  ],
  peer_observations: [
    'domain',
    'observed_at',
    'outcome',
    'http_status',
    'software',
    'software_version',
    'users_total',
    'users_active_month',
    'users_active_halfyear',
    'local_posts',
    'open_registrations',
    'suspect'
  ],
  peer_latest: [
    'domain',
    'first_seen_at',
    'last_seen_at',
    'in_peers_list',
    'outcome',
    'software',
    'software_version',
    'users_total',
    'users_active_month',
    'observed_at'
  ],
  peers_limiting_us: ['peer_domain', 'severity', 'matched_by', 'comment', 'first_seen_at', 'last_seen_at'],
  federation_daily: ['day', 'peers_known', 'peers_reachable', 'reach_users', 'reach_active_month']
};

const TYPES: Record<string, Record<string, string>> = {
  daily_metrics: { day: 'DATE', metric: 'VARCHAR', value: 'DOUBLE' },
  retention_cohorts: { cohort: 'DATE', period_index: 'INTEGER', users: 'INTEGER', rate: 'DOUBLE' },
  peer_observations: { suspect: 'BOOLEAN' }
};

describe('stable SQL views (PRODUCT.md contract)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openWriter(path.join(tempDir(), 'contract.duckdb'), 'test');
  });
  afterAll(() => closeWriter(db));

  for (const [view, columns] of Object.entries(VIEWS)) {
    it(`${view} has its contracted columns`, async () => {
      const rows = await db.all<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1`,
        [view]
      );
      const have = new Map(rows.map((r) => [r.column_name, r.data_type]));
      expect(columns.filter((c) => !have.has(c))).toEqual([]);
      for (const [col, type] of Object.entries(TYPES[view] ?? {})) expect(have.get(col)).toBe(type);
      // Empty until their collector runs, but queryable.
      await db.all(`SELECT * FROM ${view} LIMIT 1`);
    });
  }
});
