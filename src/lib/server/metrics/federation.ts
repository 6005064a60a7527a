import { col, dayCol } from '../queries/context.ts';
import { addDays } from '../../components/range.ts';
import type { Metric, QueryContext } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

/** The crawl nearest before a day (run id), for comparisons with the latest crawl. */
async function crawlAt(db: Db, day: string): Promise<number | null> {
  const r = await db.one<{ run_id: number }>(
    `SELECT run_id FROM federation_days WHERE day <= $1::DATE ORDER BY day DESC LIMIT 1`,
    [day]
  );
  return r?.run_id ?? null;
}

const latestRun = (q: QueryContext) => q.facts.latestCrawl?.runId ?? -1;

/** The latest crawl day at or before the end of the range. */
async function lastCrawlDay(db: Db, q: QueryContext): Promise<string | null> {
  const r = await db.one<{ day: string | null }>(
    `SELECT CAST(max(day) AS VARCHAR) AS day FROM federation_days WHERE day <= $1::DATE`,
    [q.range.end]
  );
  return r?.day ?? null;
}

type Mix = { software: string; servers: number; users: number; active: number }[];
const mixCache = new WeakMap<Db, Map<string, Promise<Mix>>>();

/** Software mix of the range's latest crawl; both charts use it, so it is computed once per snapshot and day. */
async function softwareMix(db: Db, q: QueryContext): Promise<Mix> {
  const day = await lastCrawlDay(db, q);
  if (day === null) return [];
  let m = mixCache.get(db);
  if (!m) mixCache.set(db, (m = new Map()));
  let p = m.get(day);
  if (!p) {
    // Rolled up per crawl day by collectors/store/peers.ts rollupFederationDay (each peer's latest answer that day).
    p = db.all<Mix[number]>(
      `SELECT software, peers AS servers, users, active_month AS active FROM federation_software_daily
       WHERE day = $1::DATE ORDER BY servers DESC, software`,
      [day]
    );
    m.set(day, p);
  }
  return (await p).map((r) => ({ ...r }));
}

/** The software named separately in the mix over time; the rest is summed as "other". */
const MIX_TOP = 7;

/** A peer "limits us" when its public block list names our domain; window of recent crawls keeps this cheap. */
const LIMIT_WINDOW_CRAWLS = 30;

export const federationMetrics: Metric[] = [
  {
    key: 'peers',
    title: 'Peers known and reachable',
    unit: 'count',
    definition:
      'Known: servers named in our own server’s peers list on the crawl day (/api/v1/instance/peers: every domain Mastodon has seen accounts from, minus the domains it blocks at any severity; Api::V1::Instances::PeersController). Reachable: peers crawled that day (the list and any seed peers) whose latest answer that day was a valid NodeInfo. The same rule rolls up every crawl and the generated data (collectors/store/peers.ts). Days without a crawl are gaps.',
    audience: 'public',
    page: 'federation',
    sources: ['federation_daily'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const rows = await db.all<{ day: string; known: number; reachable: number }>(
        `SELECT CAST(d.day AS VARCHAR) AS day, f.peers_known AS known, f.peers_reachable AS reachable
         FROM (SELECT unnest(generate_series($1::DATE, $2::DATE, INTERVAL 1 DAY))::DATE AS day) d
         LEFT JOIN federation_daily f USING (day) ORDER BY d.day`,
        [q.range.start, q.range.end]
      );
      return {
        columns: [dayCol, col('known', 'Known'), col('reachable', 'Reachable')],
        rows: rows.map((r) => [r.day, r.known, r.reachable])
      };
    }
  },
  {
    key: 'reach',
    title: 'Reach',
    unit: 'count',
    definition:
      'Users and monthly active users on reachable peers, summed from each peer’s NodeInfo (usage.users.total and usage.users.activeMonth) as of its latest answer on the crawl day. Values flagged as suspect (active above total, impossible jumps) are left out.',
    audience: 'public',
    page: 'federation',
    sources: ['federation_daily'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const rows = await db.all<{ day: string; users: number; active: number }>(
        `SELECT CAST(d.day AS VARCHAR) AS day, f.reach_users AS users, f.reach_active_month AS active
         FROM (SELECT unnest(generate_series($1::DATE, $2::DATE, INTERVAL 1 DAY))::DATE AS day) d
         LEFT JOIN federation_daily f USING (day) ORDER BY d.day`,
        [q.range.start, q.range.end]
      );
      return {
        columns: [
          dayCol,
          col('users', 'Users on reachable peers'),
          col('active', 'Monthly active on reachable peers')
        ],
        rows: rows.map((r) => [r.day, r.users, r.active])
      };
    }
  },
  {
    key: 'software_by_servers',
    title: 'Software mix by servers',
    unit: 'count',
    definition:
      'Reachable peers in the range’s latest crawl by the software their NodeInfo names (software.name, lower case; suspect entries left out).',
    audience: 'public',
    page: 'federation',
    sources: ['federation_software_daily (latest crawl)'],
    chart: { kind: 'bar' },
    query: async (db, q) => {
      const rows = await softwareMix(db, q);
      return {
        columns: [col('software', 'Software', 'text'), col('servers', 'Servers')],
        rows: rows.map((r) => [r.software, r.servers])
      };
    }
  },
  {
    key: 'software_by_users',
    title: 'Software mix by users',
    unit: 'count',
    definition:
      'Users and monthly active users (NodeInfo usage.users.total and activeMonth) on reachable peers in the range’s latest crawl, by software (suspect entries left out).',
    audience: 'public',
    page: 'federation',
    sources: ['federation_software_daily (latest crawl)'],
    chart: { kind: 'bar', hidden: ['active'] },
    query: async (db, q) => {
      const rows = (await softwareMix(db, q)).sort((a, b) => b.users - a.users);
      return {
        columns: [
          col('software', 'Software', 'text'),
          col('users', 'Users'),
          col('active', 'Monthly active')
        ],
        rows: rows.map((r) => [r.software, r.users, r.active])
      };
    }
  },
  {
    key: 'software_mix_history',
    title: 'Software mix over time',
    unit: 'count',
    definition: `Reachable peers by the software their NodeInfo names, on each crawl day of the range: each peer’s latest observation that day, as for Peers known and reachable; suspect entries left out. The ${MIX_TOP} most common programs in the range are named, the rest summed as “other”.`,
    audience: 'public',
    page: 'federation',
    sources: ['federation_software_daily'],
    chart: { kind: 'line', stacked: true },
    query: async (db, q) => {
      const rows = await db.all<{ day: string; software: string; servers: number }>(
        `SELECT CAST(day AS VARCHAR) AS day, software, peers AS servers FROM federation_software_daily
         WHERE day BETWEEN $1::DATE AND $2::DATE ORDER BY day, software`,
        [q.range.start, q.range.end]
      );
      const total = new Map<string, number>();
      for (const r of rows) total.set(r.software, (total.get(r.software) ?? 0) + r.servers);
      const ranked = [...total].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
      const named = ranked.slice(0, MIX_TOP);
      const hasOther = ranked.length > MIX_TOP;
      const days = new Map<string, Map<string, number>>();
      for (const r of rows) {
        if (!days.has(r.day)) days.set(r.day, new Map());
        const k = named.includes(r.software) ? r.software : 'other';
        const d = days.get(r.day)!;
        d.set(k, (d.get(k) ?? 0) + r.servers);
      }
      const keys = hasOther ? [...named, 'other'] : named;
      return {
        columns: [dayCol, ...keys.map((k) => col(`sw_${k.replace(/[^a-z0-9]+/g, '_')}`, k))],
        rows: [...days].map(([day, d]) => [day, ...keys.map((k) => d.get(k) ?? 0)])
      };
    }
  },
  {
    key: 'top_peers',
    title: 'Top peers by our members’ follows',
    unit: 'count',
    definition:
      'Peers ranked by how many of their accounts our members follow (admin measure instance_follows, total at the latest day), with their followers among our members and their statuses our server has seen (instance_followers, instance_statuses).',
    audience: 'board',
    page: 'federation',
    sources: ['peer_measure_days'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{ domain: string; follows: number; followers: number; statuses: number }>(
        `WITH last AS (
           SELECT domain, metric, arg_max(coalesce(total, value), day) AS v FROM peer_measure_days
           WHERE instance = $1 AND day <= $2::DATE AND day >= $2::DATE - INTERVAL 30 DAY GROUP BY ALL
         )
         SELECT domain, max(v) FILTER (metric = 'instance_follows') AS follows,
                max(v) FILTER (metric = 'instance_followers') AS followers,
                max(v) FILTER (metric = 'instance_statuses') AS statuses
         FROM last GROUP BY domain ORDER BY follows DESC NULLS LAST, domain LIMIT 20`,
        [q.facts.instance ?? '', q.range.end]
      );
      return {
        columns: [
          col('domain', 'Peer', 'text'),
          col('follows', 'Our members follow'),
          col('followers', 'Follow our members'),
          col('statuses', 'Statuses seen')
        ],
        rows: rows.map((r) => [r.domain, r.follows, r.followers, r.statuses])
      };
    }
  },
  {
    key: 'peer_changes',
    title: 'New and lost peers',
    unit: 'count',
    definition:
      'Comparing the latest crawl with the crawl at the start of the range: new peers answer now but were not reachable then; lost peers answered then but not now (gone, unreachable or erroring). Largest first.',
    audience: 'board',
    page: 'federation',
    sources: ['peer_observations (two crawls)'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const then = (await crawlAt(db, addDays(q.range.start, 0))) ?? -1;
      const rows = await db.all<{
        domain: string;
        change: string;
        software: string | null;
        users: number | null;
      }>(
        `WITH a AS (SELECT domain, users_total, software FROM peer_observations WHERE run_id = $1 AND outcome = 'ok'),
              b AS (SELECT domain, users_total, software, outcome FROM peer_observations WHERE run_id = $2)
         SELECT * FROM (
           SELECT b.domain, 'new' AS change, b.software, b.users_total AS users FROM b ANTI JOIN a USING (domain) WHERE b.outcome = 'ok'
           UNION ALL
           SELECT a.domain, 'lost', a.software, a.users_total FROM a LEFT JOIN b USING (domain)
           WHERE b.outcome IS NULL OR b.outcome <> 'ok'
         ) ORDER BY users DESC NULLS LAST, domain LIMIT 50`,
        [then, latestRun(q)]
      );
      return {
        columns: [
          col('domain', 'Peer', 'text'),
          col('change', 'Change', 'text'),
          col('software', 'Software', 'text'),
          col('users', 'Users')
        ],
        rows: rows.map((r) => [r.domain, r.change, r.software, r.users])
      };
    }
  },
  {
    key: 'limiting_us',
    title: 'Peers limiting us, by severity',
    unit: 'count',
    definition:
      'Peers whose public domain-block list (/api/v1/instance/domain_blocks, Mastodon 4.0+: Api::V1::Instances::DomainBlocksController, shown only when the peer’s show_domain_blocks is `all`) names our domain, directly or by its SHA-256 digest, counted on each crawl day by the severity they chose: suspend (no federation), silence (limited), other. Each peer’s latest answer that day counts; a peer that did not answer is not counted that day. Only what concerns our own server is recorded.',
    audience: 'board',
    page: 'federation',
    sources: ['federation_limits_daily', 'federation_days'],
    chart: { kind: 'line', stacked: false },
    query: async (db, q) => {
      const rows = await db.all<{ day: string; suspend: number; silence: number; other: number }>(
        `SELECT CAST(f.day AS VARCHAR) AS day, coalesce(c.suspend, 0) AS suspend, coalesce(c.silence, 0) AS silence,
                coalesce(c.other, 0) AS other
         FROM federation_days f LEFT JOIN federation_limits_daily c USING (day)
         WHERE f.day BETWEEN $1::DATE AND $2::DATE ORDER BY f.day`,
        [q.range.start, q.range.end]
      );
      return {
        columns: [dayCol, col('suspend', 'Suspend'), col('silence', 'Silence'), col('other', 'Other')],
        rows: rows.map((r) => [r.day, r.suspend, r.silence, r.other])
      };
    }
  },
  {
    key: 'limiting_us_list',
    title: 'Peers limiting us',
    unit: 'text',
    definition: `Peers that named our domain in their public block list in the last ${LIMIT_WINDOW_CRAWLS} crawls and have not answered since without it, largest first, with their own public comment. Staff only: a list of who limits us is sensitive even when each list is public.`,
    audience: 'ops',
    page: 'federation',
    sources: ['peer_limit_obs', 'peer_observations'],
    chart: { kind: 'none' },
    staffOnly: true,
    query: async (db, q) => {
      const latest = latestRun(q);
      const from = await db.one<{ run_id: number }>(
        `SELECT min(run_id) AS run_id FROM (SELECT run_id FROM federation_days ORDER BY day DESC LIMIT ${LIMIT_WINDOW_CRAWLS})`
      );
      const lim = await db.all<{
        domain: string;
        severity: string;
        matched_by: string;
        comment: string | null;
        last_lim: string;
        last_run: number;
        since: string;
        users: number | null;
      }>(
        `WITH lim AS (
           SELECT peer_domain AS domain, arg_max(severity, observed_at) AS severity, arg_max(matched_by, observed_at) AS matched_by,
                  arg_max(comment, observed_at) AS comment, max(observed_at) AS last_lim, max(run_id) AS last_run
           FROM peer_limit_obs WHERE run_id >= $1 GROUP BY 1
         ), first AS (
           SELECT peer_domain AS domain, min(observed_at) AS since FROM peer_limit_obs
           WHERE peer_domain IN (SELECT domain FROM lim) GROUP BY 1
         ), size AS (SELECT domain, users_total FROM peer_observations WHERE run_id = $2)
         SELECT lim.domain, severity, matched_by, comment, CAST(last_lim AS VARCHAR) AS last_lim, last_run,
                strftime(first.since, '%Y-%m-%d') AS since, size.users_total AS users
         FROM lim JOIN first USING (domain) LEFT JOIN size USING (domain)
         ORDER BY users DESC NULLS LAST, domain`,
        [from?.run_id ?? 0, latest]
      );
      // Peers not matched in the latest crawl: still limiting us unless they answered since without it.
      const stale = lim.filter((r) => r.last_run < latest);
      const answered = new Set<string>();
      if (stale.length) {
        const since = Math.min(...stale.map((r) => r.last_run));
        const ok = await db.all<{ domain: string; run_id: number }>(
          `SELECT domain, max(run_id) AS run_id FROM peer_observations
           WHERE run_id > $1 AND outcome = 'ok' AND domain IN (SELECT unnest(string_split($2, ','))) GROUP BY 1`,
          [since, stale.map((r) => r.domain).join(',')]
        );
        const lastOk = new Map(ok.map((r) => [r.domain, r.run_id]));
        for (const r of stale) if ((lastOk.get(r.domain) ?? 0) > r.last_run) answered.add(r.domain);
      }
      const rows = lim.filter((r) => !answered.has(r.domain));
      return {
        columns: [
          col('domain', 'Peer', 'text'),
          col('severity', 'Severity', 'text'),
          col('matched_by', 'Matched by', 'text'),
          col('since', 'Since', 'date'),
          col('users', 'Users'),
          col('comment', 'Their public comment', 'text')
        ],
        rows: rows.map((r) => [r.domain, r.severity, r.matched_by, r.since, r.users, r.comment])
      };
    }
  },
  {
    key: 'own_blocks',
    title: 'Our blocks over time',
    unit: 'count',
    definition:
      'Domains our server blocks (suspend or silence), counted at the end of each month of the range, from the history of the admin domain-block list.',
    audience: 'public',
    page: 'federation',
    sources: ['own_domain_blocks'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const rows = await db.all<{ month: string; suspend: number; silence: number }>(
        `WITH m AS (SELECT unnest(generate_series(date_trunc('month', $2::DATE), $3::DATE, INTERVAL 1 MONTH))::DATE AS month)
         SELECT strftime(m.month, '%Y-%m') AS month,
                count(b.domain) FILTER (b.severity = 'suspend') AS suspend,
                count(b.domain) FILTER (b.severity IS DISTINCT FROM 'suspend') AS silence
         FROM m LEFT JOIN own_domain_blocks b ON b.instance = $1
           AND b.first_seen_at < least(m.month + INTERVAL 1 MONTH, $3::DATE + INTERVAL 1 DAY)
           AND (b.removed_at IS NULL OR b.removed_at >= least(m.month + INTERVAL 1 MONTH, $3::DATE + INTERVAL 1 DAY))
         GROUP BY m.month ORDER BY m.month`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [col('month', 'Month', 'date'), col('suspend', 'Suspended'), col('silence', 'Silenced')],
        rows: rows.map((r) => [r.month, r.suspend, r.silence])
      };
    }
  },
  {
    key: 'own_blocks_cut',
    title: 'What each block cut',
    unit: 'count',
    definition:
      'Blocks added in the range, with the follows they cut both ways: how many accounts there our members followed, and how many of their accounts followed ours, from the last per-peer measures before the block.',
    audience: 'public',
    page: 'federation',
    sources: ['own_domain_blocks', 'peer_measure_days'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{
        domain: string;
        severity: string;
        since: string;
        removed: string | null;
        follows: number | null;
        followers: number | null;
        comment: string | null;
      }>(
        `SELECT b.domain, b.severity, strftime(b.first_seen_at, '%Y-%m-%d') AS since, strftime(b.removed_at, '%Y-%m-%d') AS removed,
                (SELECT arg_max(coalesce(total, value), day) FROM peer_measure_days p WHERE p.instance = b.instance AND p.domain = b.domain
                   AND p.metric = 'instance_follows' AND p.day <= b.first_seen_at::DATE) AS follows,
                (SELECT arg_max(coalesce(total, value), day) FROM peer_measure_days p WHERE p.instance = b.instance AND p.domain = b.domain
                   AND p.metric = 'instance_followers' AND p.day <= b.first_seen_at::DATE) AS followers,
                b.public_comment AS comment
         FROM own_domain_blocks b WHERE b.instance = $1 AND b.first_seen_at >= $2::DATE::TIMESTAMPTZ
           AND b.first_seen_at < ($3::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ
         ORDER BY b.first_seen_at DESC`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [
          col('domain', 'Domain', 'text'),
          col('severity', 'Severity', 'text'),
          col('since', 'Blocked on', 'date'),
          col('removed', 'Lifted on', 'date'),
          col('follows', 'Our follows cut'),
          col('followers', 'Their follows cut'),
          col('comment', 'Public reason', 'text')
        ],
        rows: rows.map((r) => [r.domain, r.severity, r.since, r.removed, r.follows, r.followers, r.comment])
      };
    }
  }
];
