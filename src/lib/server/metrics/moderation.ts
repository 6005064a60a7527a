import { col, dayCol, monthCol, weekCol } from '../queries/context.ts';
import type { Db } from '../../../../collectors/store/database.ts';
import type { Column, Metric, QueryContext, Table } from './types.ts';

const R = ['reports'];
const endTs = `($3::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ`;

/**
 * Median and p90 of the hours from a report's filing to `until`, per month of `by`, for reports of the range
 * that have reached `until`. Column names are fixed identifiers, never user input.
 */
async function hoursPerMonth(
  db: Db,
  q: QueryContext,
  until: 'resolved_at' | 'first_assigned_seen_at',
  by: 'resolved_at' | 'created_at',
  counted: Column
): Promise<Table> {
  const rows = await db.all<{ month: string; p50: number; p90: number; n: number }>(
    `SELECT strftime(date_trunc('month', ${by} AT TIME ZONE 'UTC'), '%Y-%m') AS month,
            quantile_cont(epoch(${until} - created_at) / 3600, 0.5) AS p50,
            quantile_cont(epoch(${until} - created_at) / 3600, 0.9) AS p90, count(*) AS n
     FROM reports WHERE instance = $1 AND ${until} IS NOT NULL
       AND ${by} >= $2::DATE::TIMESTAMPTZ AND ${by} < ${endTs}
     GROUP BY 1 ORDER BY 1`,
    [q.facts.instance ?? '', q.range.start, q.range.end]
  );
  return {
    columns: [monthCol, col('p50', 'Median (p50)', 'hours'), col('p90', 'p90', 'hours'), counted],
    rows: rows.map((r) => [r.month, r.p50, r.p90, r.n])
  };
}

export const moderationMetrics: Metric[] = [
  {
    key: 'reports_weekly',
    title: 'Reports opened and resolved per week',
    unit: 'count',
    definition:
      'Reports filed against accounts (local or remote) per week starting Monday (UTC), by our members or received from other servers, and reports resolved that week (action_taken_at, set by every resolution, with or without an action: Report#resolve!, app/models/report.rb). Weeks cut by the range edge are partial.',
    audience: 'public',
    page: 'moderation',
    sources: R,
    chart: { kind: 'bar' },
    query: async (db, q) => {
      const rows = await db.all<{ week: string; opened: number; resolved: number }>(
        `WITH e AS (
           SELECT created_at AS ts, 1 AS o, 0 AS r FROM reports WHERE instance = $1
           UNION ALL SELECT resolved_at, 0, 1 FROM reports WHERE instance = $1 AND resolved_at IS NOT NULL
         )
         SELECT CAST(date_trunc('week', (ts AT TIME ZONE 'UTC')::DATE)::DATE AS VARCHAR) AS week, sum(o) AS opened, sum(r) AS resolved
         FROM e WHERE ts >= $2::DATE::TIMESTAMPTZ AND ts < ${endTs} GROUP BY 1 ORDER BY 1`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [weekCol, col('opened', 'Opened'), col('resolved', 'Resolved')],
        rows: rows.map((r) => [r.week, r.opened, r.resolved])
      };
    }
  },
  {
    key: 'backlog',
    title: 'Backlog',
    unit: 'count',
    definition:
      'Reports open at the end of each day (UTC): filed on or before that day and not resolved by then (open: action_taken false, app/models/report.rb; read from GET /api/v1/admin/reports, Mastodon 2.9.1 and later). Includes reports older than the range.',
    audience: 'public',
    page: 'moderation',
    sources: R,
    chart: { kind: 'line' },
    query: async (db, q) => {
      const rows = await db.all<{ day: string; open: number }>(
        `WITH d AS (SELECT unnest(generate_series($2::DATE, $3::DATE, INTERVAL 1 DAY))::DATE AS day),
         o AS (SELECT (created_at AT TIME ZONE 'UTC')::DATE AS day, count(*) AS n FROM reports WHERE instance = $1 GROUP BY 1),
         r AS (SELECT (resolved_at AT TIME ZONE 'UTC')::DATE AS day, count(*) AS n FROM reports
               WHERE instance = $1 AND resolved_at IS NOT NULL GROUP BY 1),
         base AS (SELECT (SELECT coalesce(sum(n), 0) FROM o WHERE day < $2::DATE) - (SELECT coalesce(sum(n), 0) FROM r WHERE day < $2::DATE) AS b)
         SELECT CAST(d.day AS VARCHAR) AS day,
                (SELECT b FROM base) + sum(coalesce(o.n, 0) - coalesce(r.n, 0)) OVER (ORDER BY d.day) AS open
         FROM d LEFT JOIN o USING (day) LEFT JOIN r USING (day) ORDER BY d.day`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return { columns: [dayCol, col('open', 'Open reports')], rows: rows.map((r) => [r.day, r.open]) };
    }
  },
  {
    key: 'backlog_age',
    title: 'Open reports by age',
    unit: 'count',
    definition:
      'Reports still open at the end of the range (action_taken false, app/models/report.rb), by how long they have been waiting since created_at. The target (FEDIPULSE_BACKLOG_TARGET_HOURS, default 48 h) is what the overview alerts on.',
    audience: 'board',
    page: 'moderation',
    sources: R,
    chart: { kind: 'bar' },
    query: async (db, q) => {
      const rows = await db.all<{ bucket: string; n: number }>(
        `WITH open AS (
           SELECT date_diff('hour', created_at, ${endTs}) AS h FROM reports
           WHERE instance = $1 AND $2::DATE <= $3::DATE AND created_at < ${endTs} AND (resolved_at IS NULL OR resolved_at >= ${endTs})
         ), b(ord, bucket, lo, hi) AS (VALUES (1, 'under 1 day', 0, 24), (2, '1–3 days', 24, 72), (3, '3–7 days', 72, 168),
                                             (4, '1–4 weeks', 168, 672), (5, 'over 4 weeks', 672, 1e9))
         SELECT bucket, count(h) AS n FROM b LEFT JOIN open ON h >= lo AND h < hi GROUP BY ord, bucket ORDER BY ord`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [col('age', 'Waiting', 'text'), col('open', 'Open reports')],
        rows: rows.map((r) => [r.bucket, r.n])
      };
    }
  },
  {
    key: 'time_to_resolve',
    title: 'Time to resolve',
    unit: 'hours',
    definition:
      'Hours from a report being filed to it being resolved (action_taken_at − created_at), for reports resolved in each month: the median (p50) and the 90th percentile (p90: nine in ten were resolved faster). Mastodon sets action_taken and its time on every resolution, with or without an action against the account (Report#resolve!, app/models/report.rb).',
    audience: 'public',
    page: 'moderation',
    sources: R,
    chart: { kind: 'line' },
    // Per month resolved: the time from filing to resolution.
    query: (db, q) => hoursPerMonth(db, q, 'resolved_at', 'resolved_at', col('resolved', 'Resolved'))
  },
  {
    key: 'time_to_assign',
    title: 'Time to first assignment',
    unit: 'hours',
    definition:
      'Hours from a report being filed to the first collection that saw a moderator assigned, per month filed: median and p90. Mastodon keeps no assignment time (only assigned_account in Admin::Report), so collections (daily) give it: values are rounded up to the next collection. A report already assigned the first time fedipulse saw it, and filed before the collection before that, has no known assignment time: it is left out, and counted in the last column.',
    audience: 'board',
    page: 'moderation',
    sources: R,
    chart: { kind: 'line', hidden: ['assigned', 'left_out'] },
    // Per month filed: the time from filing to the first collection that saw an assignee.
    query: async (db, q) => {
      const t = await hoursPerMonth(
        db,
        q,
        'first_assigned_seen_at',
        'created_at',
        col('assigned', 'Assigned')
      );
      const out = await db.all<{ month: string; n: number }>(
        `SELECT strftime(date_trunc('month', created_at AT TIME ZONE 'UTC'), '%Y-%m') AS month, count(*) AS n
         FROM reports WHERE instance = $1 AND assigned AND first_assigned_seen_at IS NULL
           AND created_at >= $2::DATE::TIMESTAMPTZ AND created_at < ${endTs}
         GROUP BY 1`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      const leftOut = new Map(out.map((r) => [r.month, r.n]));
      const months = [...new Set([...t.rows.map((r) => r[0] as string), ...leftOut.keys()])].sort();
      const byMonth = new Map(t.rows.map((r) => [r[0] as string, r]));
      return {
        columns: [...t.columns, col('left_out', 'Left out: assigned before first seen')],
        rows: months.map((m) => [...(byMonth.get(m) ?? [m, null, null, 0]), leftOut.get(m) ?? 0])
      };
    }
  },
  {
    key: 'report_categories',
    title: 'Reports by category and origin',
    unit: 'count',
    definition:
      'Reports filed in the range, by category and by where they came from: filed by our members (about one of our members, or about an account on another server), or received from another server. A report received from another server carries no category: Mastodon files it as “other” (app/lib/activitypub/activity/flag.rb → app/services/report_service.rb), so its “other” says nothing about what was reported. The category is the reporter’s choice (spam, violation of a rule, legal since 4.2, other).',
    audience: 'public',
    page: 'moderation',
    sources: R,
    chart: { kind: 'bar', stacked: true, hidden: ['total'] },
    query: async (db, q) => {
      const rows = await db.all<{ category: string; ll: number; lr: number; rx: number; n: number }>(
        `SELECT coalesce(category, 'unknown') AS category,
                count(*) FILTER (reporter_domain IS NULL AND target_origin = 'local') AS ll,
                count(*) FILTER (reporter_domain IS NULL AND target_origin IS DISTINCT FROM 'local') AS lr,
                count(*) FILTER (reporter_domain IS NOT NULL) AS rx, count(*) AS n
         FROM reports WHERE instance = $1 AND created_at >= $2::DATE::TIMESTAMPTZ AND created_at < ${endTs}
         GROUP BY 1 ORDER BY n DESC, category`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [
          col('category', 'Category', 'text'),
          col('members_local', 'By our members, about our members'),
          col('members_remote', 'By our members, about other servers’ accounts'),
          col('received', 'Received from other servers'),
          col('total', 'Total')
        ],
        rows: rows.map((r) => [r.category, r.ll, r.lr, r.rx, r.n])
      };
    }
  },
  {
    key: 'reports_per_1000',
    title: 'Reports per 1,000 active users',
    unit: 'ratio',
    definition:
      'Reports filed per week (Admin::Report created_at) divided by the week’s average monthly active users (MAU: usage.users.active_month of /api/v2/instance, app/serializers/rest/instance_serializer.rb), times 1,000: moderation load relative to the size of the community.',
    audience: 'board',
    page: 'moderation',
    sources: ['reports', 'daily_metrics (active_month)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const rows = await db.all<{ week: string; rate: number | null; n: number; mau: number | null }>(
        `WITH r AS (SELECT date_trunc('week', (created_at AT TIME ZONE 'UTC')::DATE) AS week, count(*) AS n FROM reports
                    WHERE instance = $1 AND created_at >= $2::DATE::TIMESTAMPTZ AND created_at < ${endTs} GROUP BY 1),
              m AS (SELECT date_trunc('week', day) AS week, avg(value) AS mau FROM daily_metrics
                    WHERE instance = $1 AND metric = 'active_month' AND day BETWEEN $2::DATE AND $3::DATE GROUP BY 1)
         SELECT CAST(week::DATE AS VARCHAR) AS week, 1000.0 * n / nullif(mau, 0) AS rate, n, mau
         FROM r LEFT JOIN m USING (week) ORDER BY week`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [
          weekCol,
          col('per_1000', 'Reports per 1,000 MAU', 'ratio'),
          col('reports', 'Reports'),
          col('mau', 'Average MAU')
        ],
        rows: rows.map((r) => [r.week, r.rate, r.n, r.mau === null ? null : Math.round(r.mau)])
      };
    }
  },
  {
    key: 'reported_domains',
    title: 'Domains of reported accounts',
    unit: 'count',
    definition:
      'Other servers whose accounts were reported most in the range (the reported account’s domain, Admin::Report target_account), with how many of those reports are resolved. This says where reported accounts live, not who sent the reports (see “Servers sending reports”). There is no “resolved without action” share: Mastodon sets action_taken on every resolution (Report#resolve!, app/models/report.rb), and whether an account action followed is not in the admin reports API.',
    audience: 'board',
    page: 'moderation',
    sources: R,
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{ domain: string; n: number; resolved: number }>(
        `SELECT target_domain AS domain, count(*) AS n, count(resolved_at) AS resolved
         FROM reports WHERE instance = $1 AND target_domain IS NOT NULL
           AND created_at >= $2::DATE::TIMESTAMPTZ AND created_at < ${endTs}
         GROUP BY 1 ORDER BY n DESC, domain LIMIT 20`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [col('domain', 'Domain', 'text'), col('reports', 'Reports'), col('resolved', 'Resolved')],
        rows: rows.map((r) => [r.domain, r.n, r.resolved])
      };
    }
  },
  {
    key: 'sending_domains',
    title: 'Servers sending reports',
    unit: 'count',
    definition:
      'Other servers that sent us the most reports in the range: the reporter’s domain (Admin::Report account.domain), which for a report received from another server is that server’s instance actor (app/lib/activitypub/activity/flag.rb). Reports filed by our own members are not counted here. With how many are resolved, and how many were about our own members.',
    audience: 'board',
    page: 'moderation',
    sources: R,
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{ domain: string; n: number; resolved: number; local: number }>(
        `SELECT reporter_domain AS domain, count(*) AS n, count(resolved_at) AS resolved,
                count(*) FILTER (target_origin = 'local') AS local
         FROM reports WHERE instance = $1 AND reporter_domain IS NOT NULL
           AND created_at >= $2::DATE::TIMESTAMPTZ AND created_at < ${endTs}
         GROUP BY 1 ORDER BY n DESC, domain LIMIT 20`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [
          col('domain', 'Domain', 'text'),
          col('reports', 'Reports'),
          col('resolved', 'Resolved'),
          col('about_members', 'About our members')
        ],
        rows: rows.map((r) => [r.domain, r.n, r.resolved, r.local])
      };
    }
  }
];
