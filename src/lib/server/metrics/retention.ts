import { col } from '../queries/context.ts';
import { addDays } from '../../components/range.ts';
import type { Metric, QueryContext } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

const SEMANTICS =
  'Mastodon counts a member as retained in period N when their last sign-in is in period N or later, so a cell only ever falls as time passes and says nothing about activity in between.';

async function cohorts(db: Db, q: QueryContext, frequency: 'month' | 'day', periodEnd: boolean) {
  // Monthly: cohorts of the last 24 months (or the range, if longer); daily: the last 30 days.
  const from =
    frequency === 'month' ? addDays(q.range.end, -Math.max(730, q.range.days)) : addDays(q.range.end, -30);
  const sql = periodEnd
    ? `SELECT CAST(cohort AS VARCHAR) AS cohort, period_index, arg_min(users, observed_at) AS users, arg_min(rate, observed_at) AS rate
       FROM retention_observations
       WHERE instance = $1 AND frequency = $2 AND cohort >= $3::DATE
         AND observed_at >= period_start + (CASE WHEN $2 = 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 1 DAY END)
       GROUP BY ALL ORDER BY cohort, period_index`
    : `SELECT CAST(cohort AS VARCHAR) AS cohort, period_index, users, rate FROM retention_cohorts
       WHERE instance = $1 AND frequency = $2 AND cohort >= $3::DATE ORDER BY cohort, period_index`;
  const rows = await db.all<{ cohort: string; period_index: number; users: number; rate: number }>(sql, [
    q.facts.instance ?? '',
    frequency,
    from
  ]);
  const label = frequency === 'month' ? (c: string) => c.slice(0, 7) : (c: string) => c;
  return {
    columns: [
      col('cohort', frequency === 'month' ? 'Sign-up month' : 'Sign-up day', 'text'),
      col('period', frequency === 'month' ? 'Months after sign-up' : 'Days after sign-up'),
      col('users', 'Users retained'),
      col('rate', 'Retention', 'percent')
    ],
    rows: rows.map((r) => [label(r.cohort), r.period_index, r.users, r.rate])
  };
}

const matrix = { x: 'period', y: 'cohort', v: 'rate' };

export const retentionMetrics: Metric[] = [
  {
    key: 'retention_monthly',
    title: 'Retention by month after sign-up',
    unit: 'percent',
    definition: `Share of each month’s sign-ups retained N months later, as Mastodon’s admin retention reports it today. ${SEMANTICS}`,
    audience: 'board',
    page: 'retention',
    sources: ['retention_cohorts'],
    chart: { kind: 'matrix', matrix },
    query: (db, q) => cohorts(db, q, 'month', false)
  },
  {
    key: 'retention_monthly_period_end',
    title: 'Retention by month, as seen at each month’s end',
    unit: 'percent',
    definition:
      'The same cohorts, but each cell from the observation fedipulse took just after that period ended: the share of the cohort whose last sign-in was then in period N or later, i.e. who were active in period N. Cells before fedipulse started collecting are empty.',
    audience: 'board',
    page: 'retention',
    sources: ['retention_observations'],
    chart: { kind: 'matrix', matrix },
    query: (db, q) => cohorts(db, q, 'month', true)
  },
  {
    key: 'retention_daily',
    title: 'Retention by day after sign-up',
    unit: 'percent',
    definition: `Share of each day’s sign-ups (last 30 days) retained N days later. ${SEMANTICS}`,
    audience: 'board',
    page: 'retention',
    sources: ['retention_cohorts'],
    chart: { kind: 'matrix', matrix },
    query: (db, q) => cohorts(db, q, 'day', false)
  }
];
