import type { Db } from '../../collectors/store/database.ts';

/** Columns that say when something was observed (or by which run), not what: left out when comparing. */
const WHEN = new Set([
  'first_seen_at',
  'last_seen_at',
  'changed_at',
  'observed_at',
  'event_at',
  'removed_at',
  'first_assigned_seen_at',
  'seen_at',
  'run_id'
]);

export const OWN_TABLES = [
  'metric_days',
  'metric_revisions',
  'instance_info',
  'activity_weeks',
  'dimension_days',
  'report_records',
  'retention_observations',
  'domain_block_state',
  'domain_block_events',
  'public_domain_blocks',
  'instance_rules',
  'peer_measure_days',
  'known_peers'
];

/** Every own-server table as sorted distinct rows without observation times: equal dumps = same data. */
export async function dumpOwnTables(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of OWN_TABLES) {
    const cols = (
      await db.all<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [t]
      )
    )
      .map((c) => c.column_name)
      .filter((c) => !WHEN.has(c));
    const rows = await db.all(
      `SELECT DISTINCT ${cols.map((c) => `"${c}"::VARCHAR AS "${c}"`).join(', ')} FROM ${t}`
    );
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}
