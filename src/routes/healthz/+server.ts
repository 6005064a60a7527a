import { json } from '@sveltejs/kit';
import { currentSnapshot } from '$lib/server/snapshot';
import { config } from '$lib/server/db';

/** Liveness and data freshness: 200 while serving, with the age of the newest published data. */
export async function GET() {
  const s = await currentSnapshot(config.dbPath);
  let lastRun: unknown = null;
  if (s.db)
    lastRun = await s.db.one(
      `SELECT run_id, kind, status, CAST(finished_at AS VARCHAR) AS finished_at FROM collection_runs WHERE status <> 'running' ORDER BY run_id DESC LIMIT 1`
    );
  return json(
    {
      status: 'ok',
      snapshot: s.file,
      opened_at: s.openedAt,
      last_run: lastRun,
      rejected_snapshot: s.rejected
    },
    { headers: { 'cache-control': 'no-store' } }
  );
}
