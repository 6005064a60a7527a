import type { Db } from '../../../../collectors/store/database.ts';
import type { QueryContext } from '../metrics/types.ts';

export interface Alert {
  key: 'backlog' | 'disk' | 'peer_limit' | 'collection';
  message: string;
  href: string;
}

/** The overview's alerts: things someone should act on today. */
export async function alerts(
  db: Db,
  q: QueryContext,
  staff: boolean,
  daysToFull: number | null
): Promise<Alert[]> {
  const out: Alert[] = [];
  const inst = q.facts.instance ?? '';
  const c = q.config;
  const old = await db.one<{ n: number; oldest: number | null }>(
    `SELECT count(*) AS n, max(epoch(now() - created_at)) / 3600 AS oldest FROM reports
     WHERE instance = $1 AND resolved_at IS NULL AND created_at < now() - to_hours($2::BIGINT)`,
    [inst, Math.round(c.backlogTargetHours)]
  );
  if (old && old.n > 0)
    out.push({
      key: 'backlog',
      message: `${old.n} open report${old.n === 1 ? ' has' : 's have'} waited longer than the ${c.backlogTargetHours} h target (oldest ${Math.round((old.oldest ?? 0) / 24)} days).`,
      href: '/moderation#backlog_age'
    });
  if (c.diskBytes !== null && daysToFull !== null && daysToFull <= c.diskWarningDays)
    out.push({
      key: 'disk',
      message: `The disk is forecast to be full in ${daysToFull} days (warning window ${c.diskWarningDays} days).`,
      href: '/capacity#storage_total'
    });
  if (q.facts.latestCrawl) {
    const peers = await db.all<{ domain: string; severity: string; users: number }>(
      `WITH first AS (SELECT peer_domain AS domain, min(observed_at) AS since, arg_max(severity, observed_at) AS severity
                      FROM peer_limit_obs GROUP BY 1)
       SELECT f.domain, f.severity, o.users_total AS users FROM first f
       JOIN peer_observations o ON o.run_id = $1 AND o.domain = f.domain
       JOIN peer_limit_obs l ON l.run_id = $1 AND l.peer_domain = f.domain
       WHERE f.since >= $2::DATE::TIMESTAMPTZ - INTERVAL 7 DAY AND o.users_total >= $3 ORDER BY users DESC`,
      [q.facts.latestCrawl.runId, q.facts.latestCrawl.day, c.largePeerUsers]
    );
    if (peers.length)
      out.push({
        key: 'peer_limit',
        message: staff
          ? `Newly limiting us this week: ${peers.map((p) => `${p.domain} (${p.severity}, ${p.users.toLocaleString('en')} users)`).join(', ')}.`
          : `${peers.length} large peer${peers.length === 1 ? '' : 's'} started limiting us this week.`,
        href: '/federation#limiting_us'
      });
  }
  const run = await db.one<{ status: string; age_h: number; message: string | null; failed: string | null }>(
    `SELECT status, epoch(now() - started_at) / 3600 AS age_h, message,
            (SELECT string_agg(source, ', ') FROM run_sources s WHERE s.run_id = r.run_id AND s.status = 'failed') AS failed
     FROM collection_runs r WHERE status <> 'running' ORDER BY started_at DESC LIMIT 1`
  );
  if (!run) out.push({ key: 'collection', message: 'No collection has finished yet.', href: '/status' });
  else if (run.status === 'failed')
    out.push({
      key: 'collection',
      message: `The latest collection failed: ${run.message ?? 'see status'}.`,
      href: '/status'
    });
  else if (run.age_h > c.staleAfterHours)
    out.push({
      key: 'collection',
      message: `No collection for ${Math.round(run.age_h)} hours (expected daily).`,
      href: '/status'
    });
  else if (run.failed)
    out.push({
      key: 'collection',
      message: `The latest collection could not read: ${run.failed}.`,
      href: '/status'
    });
  return out;
}
