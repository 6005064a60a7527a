import { col } from '../queries/context.ts';
import { addDays } from '../../components/range.ts';
import type { Metric, QueryContext } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

const SOURCE =
  'Mastodon counts a member as retained in period N when their last sign-in (users.current_sign_in_at) falls in period N or later (app/lib/admin/metrics/retention.rb, Mastodon 3.5 and later). The last sign-in only moves forward, so a cell only ever rises as time passes: a member who signs in today counts as retained in every earlier period, whether or not they came then.';
const CAP =
  'Since 4.4.21, 4.5.14 and 4.6.4 Mastodon reports only the last 12 months (monthly) or 31 days (daily); an older cohort keeps the value Mastodon last reported and is labelled “last seen on <date>”, never shown as today’s value.';

/** One period after `period_start`, in SQL. */
const periodEnd = `(period_start + CASE WHEN frequency = 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 1 DAY END)`;

async function cohorts(db: Db, q: QueryContext, frequency: 'month' | 'day', atPeriodEnd: boolean) {
  // Monthly: cohorts of the last 24 months (or the range, if longer); daily: the last 30 days.
  const from =
    frequency === 'month' ? addDays(q.range.end, -Math.max(730, q.range.days)) : addDays(q.range.end, -30);
  // `latest`: the last collection that got retention. A cohort reported before it is no longer reported.
  const sql = atPeriodEnd
    ? // The value in force at the period's end (the last one observed before it ended), for ended periods only
      `WITH latest AS (SELECT coalesce(
         (SELECT max(last_reported_at) FROM retention_reported WHERE instance = $1 AND frequency = $2),
         (SELECT max(observed_at) FROM retention_observations WHERE instance = $1 AND frequency = $2)) AS t)
       SELECT CAST(cohort AS VARCHAR) AS cohort, period_index, users, rate, NULL AS last_seen
       FROM retention_period_activity
       WHERE instance = $1 AND frequency = $2 AND cohort >= $3::DATE AND ${periodEnd} <= (SELECT t FROM latest)
       ORDER BY cohort, period_index`
    : `WITH latest AS (SELECT max(last_reported_at) AS t FROM retention_reported WHERE instance = $1 AND frequency = $2)
       SELECT CAST(c.cohort AS VARCHAR) AS cohort, c.period_index, c.users, c.rate,
              CASE WHEN r.last_reported_at < (SELECT t FROM latest)
                   THEN strftime(r.last_reported_at AT TIME ZONE 'UTC', '%Y-%m-%d') END AS last_seen
       FROM retention_cohorts c
       LEFT JOIN retention_reported r USING (instance, frequency, cohort)
       WHERE c.instance = $1 AND c.frequency = $2 AND c.cohort >= $3::DATE ORDER BY c.cohort, c.period_index`;
  const rows = await db.all<{
    cohort: string;
    period_index: number;
    users: number;
    rate: number;
    last_seen: string | null;
  }>(sql, [q.facts.instance ?? '', frequency, from]);
  const short = frequency === 'month' ? (c: string) => c.slice(0, 7) : (c: string) => c;
  // The label carries "last seen" so that the matrix itself says the row is not current
  const label = (r: { cohort: string; last_seen: string | null }) =>
    r.last_seen ? `${short(r.cohort)} (last seen on ${r.last_seen})` : short(r.cohort);
  return {
    columns: [
      col('cohort', frequency === 'month' ? 'Sign-up month' : 'Sign-up day', 'text'),
      col('period', frequency === 'month' ? 'Months after sign-up' : 'Days after sign-up'),
      col('users', 'Users retained'),
      col('rate', 'Retention', 'percent'),
      ...(atPeriodEnd ? [] : [col('last_seen', 'Last reported by Mastodon (older cohorts only)', 'text')])
    ],
    rows: rows.map((r) => [label(r), r.period_index, r.users, r.rate, ...(atPeriodEnd ? [] : [r.last_seen])])
  };
}

const matrix = { x: 'period', y: 'cohort', v: 'rate' };

export const retentionMetrics: Metric[] = [
  {
    key: 'retention_monthly',
    title: 'Retention by month after sign-up',
    unit: 'percent',
    definition: `Share of each month’s sign-ups retained N months later, as Mastodon’s admin retention reports it at the latest collection. ${SOURCE} ${CAP}`,
    audience: 'board',
    page: 'retention',
    sources: ['retention_cohorts', 'retention_reported'],
    chart: { kind: 'matrix', matrix, hidden: ['last_seen'] },
    query: (db, q) => cohorts(db, q, 'month', false)
  },
  {
    key: 'retention_monthly_period_end',
    title: 'Retention by month, as seen at each month’s end',
    unit: 'percent',
    definition:
      'The same cohorts (app/lib/admin/metrics/retention.rb, Mastodon 3.5 and later), each cell as it stood at the last collection at or before month N ended: the members whose last sign-in was then in month N or later, i.e. who signed in during month N (a later sign-in had not happened yet). So, unlike Mastodon’s own cells, these say who was active in each month. Collections run daily, so sign-ins after the month’s last collection are missed. Cells of months that ended before fedipulse began collecting are empty, and so are those of months not yet over.',
    audience: 'board',
    page: 'retention',
    sources: ['retention_period_activity', 'retention_reported'],
    chart: { kind: 'matrix', matrix },
    query: (db, q) => cohorts(db, q, 'month', true)
  },
  {
    key: 'retention_daily',
    title: 'Retention by day after sign-up',
    unit: 'percent',
    definition: `Share of each day’s sign-ups (last 30 days) retained N days later, as Mastodon reports it at the latest collection. ${SOURCE}`,
    audience: 'board',
    page: 'retention',
    sources: ['retention_cohorts', 'retention_reported'],
    chart: { kind: 'matrix', matrix, hidden: ['last_seen'] },
    query: (db, q) => cohorts(db, q, 'day', false)
  }
];
