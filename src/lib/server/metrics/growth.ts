import { col, dailyTable, dailyValues, dayAxis, dayCol } from '../queries/context.ts';
import { addDays } from '../../components/range.ts';
import { annotationStore } from '../annotations/index.ts';
import type { Cell, Metric, Table } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

/** Mastodon's MAU window: InstancePresenter#active_user_count(4) merges the 28 days before today. */
const POST_WINDOW = 28;

/**
 * For each day d in [start, end]: members who signed up in MAU's window (the 28 days before d) and had signed
 * in by the end of d (sum of the daily cohorts' first cells, each as last observed before d ended); absent when
 * a cohort of the window has no observation by then.
 */
async function recentSignedIn(
  db: Db,
  instance: string,
  start: string,
  end: string
): Promise<Map<string, number>> {
  const obs = await db.all<{ cohort: string; users: number; ms: number }>(
    `SELECT CAST(cohort AS VARCHAR) AS cohort, users, CAST(epoch_ms(observed_at) AS DOUBLE) AS ms
     FROM retention_observations
     WHERE instance = $1 AND frequency = 'day' AND period_index = 0 AND cohort BETWEEN $2::DATE AND $3::DATE
     ORDER BY cohort, observed_at`,
    [instance, addDays(start, -POST_WINDOW), addDays(end, -1)]
  );
  const byCohort = new Map<string, { users: number; ms: number }[]>();
  for (const o of obs) {
    const list = byCohort.get(o.cohort) ?? [];
    list.push({ users: o.users, ms: o.ms });
    byCohort.set(o.cohort, list);
  }
  const out = new Map<string, number>();
  for (const d of dayAxis(start, end)) {
    const dayEnd = Date.parse(`${addDays(d, 1)}T00:00:00Z`);
    let sum = 0;
    let complete = true;
    for (let i = 1; i <= POST_WINDOW && complete; i++) {
      const seen = (byCohort.get(addDays(d, -i)) ?? []).filter((o) => o.ms < dayEnd);
      if (seen.length === 0) complete = false;
      else sum += seen[seen.length - 1].users;
    }
    if (complete) out.set(d, sum);
  }
  return out;
}

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
      'Local accounts on the server, as the instance API reports them each day (stats.user_count; NodeInfo users.total is the same number): confirmed accounts whose account is not suspended (app/presenters/instance_presenter.rb, Mastodon 4.0–4.6). Includes accounts that never signed in; excludes unconfirmed, pending, suspended and deleted ones.',
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
    definition: `Local accounts created per ${by} (admin measure new_users, app/lib/admin/metrics/measure/new_users_measure.rb, Mastodon 3.5–4.6: every users row by created_at, so unconfirmed and pending-approval accounts count too), summed over the ${by}. Needs an admin token with admin:read.`,
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
      'Daily: local users Mastodon saw that day (admin measure active_users, app/lib/admin/metrics/measure/active_users_measure.rb, Mastodon 3.5–4.6). It counts a user when their sign-in stamp is refreshed, which user_tracking_concern.rb does at most once per 24 hours, and API use refreshes it too: a member who comes every day can be missed on some days, and the account that owns fedipulse’s admin token counts as active on most collection days (the API cannot leave one account out). Mastodon keeps the daily figure 6 months; fedipulse keeps it for good. ' +
      'Monthly (MAU): unique users active in the 28 days before the collection day, that day not included (InstancePresenter#active_user_count(4) over app/lib/activity_tracker.rb), read from the instance API’s usage.users.active_month; in limited federation mode Mastodon 4.4+ answers 0 there (app/serializers/rest/instance_serializer.rb), so fedipulse reads the same count from NodeInfo’s usage.users.activeMonth (app/serializers/node_info/serializer.rb) and the column “MAU from” says which. ' +
      'Returning: MAU minus the members who signed up in the same 28 days and have signed in since, i.e. active members who joined before the window (exact when Mastodon answers as of the collection; a member whose very first sign-in falls on the collection day itself, before the collection, is subtracted though MAU does not count them yet). Those recent sign-ins come from the daily retention cohorts (app/lib/admin/metrics/retention.rb: a cohort’s first cell counts its members whose last sign-in is on or after their sign-up day), as they stood at the end of that day, so accounts that were created but never signed in (unconfirmed, pending approval) are not subtracted. Empty where a cohort of the window was never collected.',
    audience: 'public',
    page: 'growth',
    sources: [
      'daily_metrics (active_users, active_month)',
      'retention_observations (daily cohorts, first cell)'
    ],
    chart: { kind: 'line', hidden: ['mau_source'] },
    query: async (db, q) => {
      const { start, end } = q.range;
      const instance = q.facts.instance ?? '';
      const v = await dailyValues(db, q, ['active_users', 'active_month'], start, end);
      const mauSource = new Map(
        (
          await db.all<{ day: string; source: string }>(
            `SELECT CAST(day AS VARCHAR) AS day, source FROM daily_metrics
             WHERE instance = $1 AND metric = 'active_month' AND day BETWEEN $2::DATE AND $3::DATE`,
            [instance, start, end]
          )
        ).map((r) => [r.day, r.source === 'nodeinfo' ? 'NodeInfo (limited federation)' : 'instance API'])
      );
      const joined = await recentSignedIn(db, instance, start, end);
      const rows = dayAxis(start, end).map((d) => {
        const mau = v.get('active_month')!.get(d) ?? null;
        const recent = joined.get(d) ?? null;
        return [
          d,
          v.get('active_users')!.get(d) ?? null,
          mau,
          mau !== null && recent !== null ? Math.max(0, mau - recent) : null,
          mau === null ? null : (mauSource.get(d) ?? null)
        ];
      });
      return {
        columns: [
          dayCol,
          col('daily', 'Daily active'),
          col('mau', 'Monthly active (MAU)'),
          col('returning', 'Returning active'),
          col('mau_source', 'MAU from', 'text')
        ],
        rows
      };
    }
  },
  {
    key: 'posts',
    title: 'Statuses per day (posts and boosts)',
    unit: 'count',
    definition:
      'New local statuses per day: the change in the instance API’s stats.status_count between two daily collections (InstancePresenter#status_count sums account_stats.statuses_count). Mastodon raises that counter for every local status, boosts included, and not for direct messages (app/models/status.rb, increment_counter_caches skips direct visibility; Mastodon 3.x–4.6), so this counts posts and boosts, not direct messages. A drop (deleted statuses) shows as a dip; a missing day leaves a gap on both sides.',
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
      return { columns: [dayCol, col('posts', 'Statuses (posts and boosts)')], rows };
    }
  },
  {
    key: 'posts_per_active',
    title: 'Statuses per monthly active user',
    unit: 'ratio',
    definition:
      'Local statuses (posts and boosts, no direct messages: see “Statuses per day”) written in the 28 days before each daily collection — the change in stats.status_count over 28 days — divided by the monthly active users of that collection (usage.users.active_month, or NodeInfo in limited federation mode, which count the 28 days before the collection day). Both cover the same 4 weeks, offset by the hours of the collection time, so it shows how much members write, independent of growth. Empty until 28 days of collections exist.',
    audience: 'board',
    page: 'growth',
    sources: ['daily_metrics (status_count, active_month)'],
    chart: { kind: 'line', hidden: ['statuses_28d', 'mau'] },
    query: async (db, q) => {
      const { start, end } = q.range;
      const v = await dailyValues(db, q, ['status_count', 'active_month'], addDays(start, -POST_WINDOW), end);
      const sc = v.get('status_count')!;
      const rows = dayAxis(start, end).map((d) => {
        const a = sc.get(d);
        const b = sc.get(addDays(d, -POST_WINDOW));
        const written = a !== undefined && b !== undefined ? a - b : null;
        const mau = v.get('active_month')!.get(d) ?? null;
        return [d, written !== null && mau ? written / mau : null, written, mau];
      });
      return {
        columns: [
          dayCol,
          col('per_active', 'Statuses per monthly active user', 'ratio'),
          col('statuses_28d', 'Statuses in 28 days'),
          col('mau', 'Monthly active (MAU)')
        ],
        rows
      };
    }
  },
  {
    key: 'interactions_per_active',
    title: 'Actions by members per active user',
    unit: 'ratio',
    definition:
      'Favourites, boosts, replies, follows and poll votes made by our members that day, on any post of any server (admin measure interactions: counted by favourite_service.rb, reblog_service.rb, post_status_service.rb, follow_service.rb and vote_service.rb, Mastodon 3.5–4.6), divided by that day’s active users. It is what members do, not engagement with our posts: other servers’ likes and boosts of our posts never count.',
    audience: 'board',
    page: 'growth',
    sources: ['daily_metrics (interactions, active_users)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const t = await dailyTable(
        db,
        q,
        [col('interactions', 'Actions by members'), col('active', 'Active users')],
        ['interactions', 'active_users']
      );
      return {
        columns: [
          dayCol,
          col('per_active', 'Actions by members per active user', 'ratio'),
          ...t.columns.slice(1)
        ],
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
