import { json } from '@sveltejs/kit';
import path from 'node:path';
import { currentSnapshot } from '$lib/server/snapshot';
import { config } from '$lib/server/db';

/**
 * Liveness and data freshness for anyone (a load balancer, an uptime check): 200 while serving, which
 * snapshot (by file name), and the newest run's outcome. Status only: no paths on this machine, no error
 * texts (a rejected snapshot's reason, a run's message); staff read those on /status.
 */
export async function GET() {
  const s = await currentSnapshot(config.dbPath);
  type LastRun = { kind: string; status: string; finished_at: string | null };
  let lastRun: LastRun | null = null;
  if (s.db)
    lastRun =
      (await s.db.one<LastRun>(
        `SELECT kind, status, CAST(finished_at AS VARCHAR) AS finished_at FROM collection_runs WHERE status <> 'running' ORDER BY run_id DESC LIMIT 1`
      )) ?? null;
  return json(
    {
      status: 'ok',
      data: s.db !== null,
      snapshot: s.file ? path.basename(s.file) : null,
      opened_at: s.openedAt,
      last_run: lastRun,
      rejected_snapshot: s.rejected ? path.basename(s.rejected.file) : null
    },
    { headers: { 'cache-control': 'no-store' } }
  );
}
