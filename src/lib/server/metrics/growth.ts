import { col, dailyTable, dailyValues, dayAxis, dayCol } from '../queries/context.ts';
import { addDays } from '../../components/range.ts';
import { annotationStore } from '../annotations/index.ts';
import type { Cell, Metric, Table } from './types.ts';

/** Day rows bucketed into weeks (Monday) or months, summing a value column. */
function bucket(t: Table, by: 'week' | 'month'): Table {
  const sums = new Map<string, number | null>();
  for (const [day, v] of t.rows) {
    const d = new Date(`${day}T00:00:00Z`);
    if (by === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    else d.setUTCDate(1);
    const k = d.toISOString().slice(0, 10);
    const prev = sums.get(k) ?? null;
    sums.set(k, v === null ? prev : (prev ?? 0) + (v as number));
  }
  return {
    columns: [col(by, by === 'week' ? 'Week starting' : 'Month', 'date'), ...t.columns.slice(1)],
    rows: [...sums].map(([k, v]) => [k, v])
  };
}

export const growthMetrics: Metric[] = [
  {
    key: 'members',
    title: 'Members',
    unit: 'count',
    definition:
      'Local accounts on the server, as the instance API reports them each day (Mastodon user_count, NodeInfo users.total). Includes accounts that never signed in; excludes deleted ones.',
    audience: 'public',
    page: 'growth',
    sources: ['daily_metrics (user_count)'],
    chart: { kind: 'line' },
    query: (db, q) => dailyTable(db, q, [col('members', 'Members')], ['user_count'])
  },
  ...(['day', 'week', 'month'] as const).map((by): Metric => ({
    key: by === 'day' ? 'new_users' : `new_users_${by}ly`,
    title: `Sign-ups per ${by}`,
    unit: 'count',
    definition: `Local accounts created per ${by} (Mastodon admin measure new_users), summed over the ${by}. Needs an admin token with admin:read.`,
    audience: 'public',
    page: 'growth',
    sources: ['daily_metrics (new_users)'],
    chart: { kind: 'bar' },
    query: async (db, q) => {
      const t = await dailyTable(db, q, [col('new_users', 'Sign-ups')], ['new_users']);
      return by === 'day' ? t : bucket(t, by);
    }
  })),
  {
    key: 'active_users',
    title: 'Active users',
    unit: 'count',
    definition:
      'Daily: unique local users who signed in that day (admin measure active_users; Mastodon keeps it only 6 months, fedipulse keeps it for good). Monthly (MAU): unique sign-ins in the last 4 weeks (usage.users.active_month). Returning: MAU minus the sign-ups of the same 4 weeks, i.e. active members who joined before the window.',
    audience: 'public',
    page: 'growth',
    sources: ['daily_metrics (active_users, active_month, new_users)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const { start, end } = q.range;
      const v = await dailyValues(
        db,
        q,
        ['active_users', 'active_month', 'new_users'],
        addDays(start, -27),
        end
      );
      const nu = v.get('new_users')!;
      const rows = dayAxis(start, end).map((d) => {
        const mau = v.get('active_month')!.get(d) ?? null;
        let joined: number | null = 0;
        for (let i = 0; i < 28 && joined !== null; i++) {
          const x = nu.get(addDays(d, -i));
          joined = x === undefined ? null : joined + x;
        }
        return [
          d,
          v.get('active_users')!.get(d) ?? null,
          mau,
          mau !== null && joined !== null ? mau - joined : null
        ];
      });
      return {
        columns: [
          dayCol,
          col('daily', 'Daily active'),
          col('mau', 'Monthly active (MAU)'),
          col('returning', 'Returning active')
        ],
        rows
      };
    }
  },
  {
    key: 'posts',
    title: 'Posts per day',
    unit: 'count',
    definition:
      'New local posts per day: the day-to-day change in the instance API status_count. A negative change (deleted posts) shows as a dip; a missing day leaves a gap on both sides.',
    audience: 'public',
    page: 'growth',
    sources: ['daily_metrics (status_count)'],
    chart: { kind: 'bar' },
    query: async (db, q) => {
      const { start, end } = q.range;
      const v = (await dailyValues(db, q, ['status_count'], addDays(start, -1), end)).get('status_count')!;
      const rows = dayAxis(start, end).map((d) => {
        const a = v.get(d);
        const b = v.get(addDays(d, -1));
        return [d, a !== undefined && b !== undefined ? a - b : null];
      });
      return { columns: [dayCol, col('posts', 'Posts')], rows };
    }
  },
  {
    key: 'interactions_per_active',
    title: 'Interactions per active user',
    unit: 'ratio',
    definition:
      'Favourites, boosts and replies on local posts that day (admin measure interactions) divided by that day’s active users. Shows whether members engage more or less, independent of growth.',
    audience: 'board',
    page: 'growth',
    sources: ['daily_metrics (interactions, active_users)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const t = await dailyTable(
        db,
        q,
        [col('interactions', 'Interactions'), col('active', 'Active users')],
        ['interactions', 'active_users']
      );
      return {
        columns: [dayCol, col('per_active', 'Interactions per active user', 'ratio'), ...t.columns.slice(1)],
        rows: t.rows.map(([d, i, a]) => [d, i !== null && a ? (i as number) / (a as number) : null, i, a])
      };
    }
  },
  {
    key: 'events',
    title: 'Events',
    unit: 'text',
    definition:
      'Things that explain the curves: registrations opened or closed and software upgrades (from the instance API at each collection), sign-up waves (days with more than five times the median sign-ups of the range), and annotations written by staff (a day or a period, e.g. a migration wave), kept by the dashboard beside the database.',
    audience: 'board',
    page: 'growth',
    sources: [
      'instance_info',
      'daily_metrics (new_users)',
      '<FEDIPULSE_DB>.annotations.json (staff annotations)'
    ],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const { start, end } = q.range;
      const rows = await db.all<{ day: string; event: string }>(
        `WITH i AS (
           SELECT (observed_at AT TIME ZONE 'UTC')::DATE AS day, registrations_open, version,
                  lag(registrations_open) OVER (ORDER BY observed_at) AS prev_open,
                  lag(version) OVER (ORDER BY observed_at) AS prev_version
           FROM instance_info WHERE instance = $1
         ), n AS (
           SELECT day, value, median(value) OVER () AS med FROM daily_metrics
           WHERE instance = $1 AND metric = 'new_users' AND day BETWEEN $2::DATE AND $3::DATE
         ), wave AS (
           SELECT day, value, lag(day) OVER (ORDER BY day) AS prev FROM n WHERE value > 5 * greatest(med, 1)
         )
         SELECT CAST(day AS VARCHAR) AS day, event FROM (
           SELECT day, CASE WHEN registrations_open THEN 'Registrations opened' ELSE 'Registrations closed' END AS event
           FROM i WHERE prev_open IS NOT NULL AND registrations_open IS DISTINCT FROM prev_open
           UNION ALL
           SELECT day, 'Upgraded to ' || version FROM i WHERE prev_version IS NOT NULL AND version IS DISTINCT FROM prev_version
           UNION ALL
           SELECT day, 'Sign-up wave' FROM wave WHERE prev IS NULL OR day - prev > 7
         ) WHERE day BETWEEN $2::DATE AND $3::DATE ORDER BY day`,
        [q.facts.instance ?? '', start, end]
      );
      const detected = rows.map((r): Cell[] => [r.day, r.event, null, 'detected', null]);
      const staff = (await annotationStore().inRange(start, end)).map((a): Cell[] => [
        a.start,
        a.label,
        a.end,
        'staff',
        a.note || null
      ]);
      return {
        columns: [
          dayCol,
          col('event', 'Event', 'text'),
          col('until', 'Until', 'date'),
          col('source', 'Source', 'text'),
          col('note', 'Note', 'text')
        ],
        rows: [...detected, ...staff].sort((a, b) => String(a[0]).localeCompare(String(b[0])))
      };
    }
  }
];
