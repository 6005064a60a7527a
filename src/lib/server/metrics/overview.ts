import { col, dailyValues, dayAxis } from '../queries/context.ts';
import { volumeStatuses } from './capacity.ts';
import { DISK_COMPONENTS, storageMetric, volumeSeries } from '../queries/forecast.ts';
import { change, type Unit } from '../../components/format.ts';
import type { Audience, Metric, QueryContext } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

/** A KPI card: value over the range, the same over the comparison period, and a sparkline. */
export interface KpiDef {
  key: string;
  title: string;
  unit: Unit;
  audience: Audience;
  /** Is up good? Colours the change; 'neutral' for storage and the like. */
  better: 'up' | 'down' | 'neutral';
  definition: string;
  href: string;
}
export interface Kpi extends KpiDef {
  value: number | null;
  previous: number | null;
  change: number | null;
  spark: (number | null)[];
  note?: string;
}

export const KPIS: KpiDef[] = [
  {
    key: 'members',
    title: 'Members',
    unit: 'count',
    audience: 'public',
    better: 'up',
    href: '/growth',
    definition:
      'Local accounts on the last day of the range (instance API stats.user_count: confirmed, not suspended).'
  },
  {
    key: 'mau',
    title: 'Active users',
    unit: 'count',
    audience: 'public',
    better: 'up',
    href: '/growth',
    definition:
      'Monthly active users on the last day: unique users active in the previous 4 weeks (usage.users.active_month, InstancePresenter#active_user_count(4); in limited federation mode, where Mastodon 4.4+ answers 0 there, NodeInfo usage.users.activeMonth — the Growth page says which).'
  },
  {
    key: 'signups',
    title: 'New sign-ups',
    unit: 'count',
    audience: 'public',
    better: 'up',
    href: '/growth',
    definition:
      'Local accounts created during the range (admin measure new_users, summed; unconfirmed and pending accounts included).'
  },
  {
    key: 'retention_m1',
    title: 'Month-1 retention',
    unit: 'percent',
    audience: 'board',
    better: 'up',
    href: '/retention',
    definition:
      'Average, over monthly cohorts whose first month after sign-up ended in the range, of the share whose last sign-in was in that month or later (Mastodon semantics; plain mean, not weighted by cohort size).'
  },
  {
    key: 'reports_opened',
    title: 'Reports opened',
    unit: 'count',
    audience: 'public',
    better: 'neutral',
    href: '/moderation',
    definition: 'Reports filed during the range (admin measure opened_reports).'
  },
  {
    key: 'reports_resolved',
    title: 'Reports resolved',
    unit: 'count',
    audience: 'public',
    better: 'up',
    href: '/moderation',
    definition: 'Reports resolved during the range, with or without action (admin measure resolved_reports).'
  },
  {
    key: 'resolve_p50',
    title: 'Median time to resolve',
    unit: 'hours',
    audience: 'public',
    better: 'down',
    href: '/moderation',
    definition: 'Median of (resolved − filed) over reports resolved during the range.'
  },
  {
    key: 'peers_reachable',
    title: 'Peers reachable',
    unit: 'count',
    audience: 'public',
    better: 'up',
    href: '/federation',
    definition: 'Servers from our peers list that answered NodeInfo in the latest crawl of the range.'
  },
  {
    key: 'storage',
    title: 'Storage used',
    unit: 'bytes',
    audience: 'ops',
    better: 'neutral',
    href: '/capacity',
    definition:
      'PostgreSQL + search index + media bytes on the last day, as Mastodon’s admin dimension space_usage reports them (app/lib/admin/metrics/dimension/space_usage_dimension.rb). Redis is memory, not storage, and is left out.'
  },
  {
    key: 'days_to_full',
    title: 'Days until a volume is full',
    unit: 'days',
    audience: 'ops',
    better: 'up',
    href: '/capacity',
    definition:
      'The soonest of the volumes (FEDIPULSE_VOLUMES, or the one disk of FEDIPULSE_DISK_BYTES): days from the last whole day until the Theil–Sen line over the last 90 days of what the volume holds (Mastodon’s space_usage dimension, app/lib/admin/metrics/dimension/space_usage_dimension.rb) reaches its size.'
  }
];

const lastOf = (xs: (number | null)[]) => {
  for (let i = xs.length - 1; i >= 0; i--) if (xs[i] !== null) return xs[i];
  return null;
};
const sumOf = (xs: (number | null)[]) =>
  xs.some((x) => x !== null) ? xs.reduce<number>((a, x) => a + (x ?? 0), 0) : null;

async function resolveMedian(db: Db, q: QueryContext, start: string, end: string) {
  const r = await db.one<{ p50: number | null }>(
    `SELECT quantile_cont(epoch(resolved_at - created_at) / 3600, 0.5) AS p50 FROM reports
     WHERE instance = $1 AND resolved_at >= $2::DATE::TIMESTAMPTZ AND resolved_at < ($3::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ`,
    [q.facts.instance ?? '', start, end]
  );
  return r?.p50 ?? null;
}

async function retentionM1(db: Db, q: QueryContext, start: string, end: string) {
  // Cohort c's month 1 ends on c + 2 months - 1 day; use cohorts whose month 1 ended in the range, or else the latest one.
  const r = await db.all<{ cohort: string; rate: number; ended: string }>(
    `SELECT CAST(cohort AS VARCHAR) AS cohort, rate, CAST((cohort + INTERVAL 2 MONTH - INTERVAL 1 DAY)::DATE AS VARCHAR) AS ended
     FROM retention_cohorts WHERE instance = $1 AND frequency = 'month' AND period_index = 1
       AND cohort + INTERVAL 2 MONTH - INTERVAL 1 DAY <= $2::DATE ORDER BY cohort DESC LIMIT 36`,
    [q.facts.instance ?? '', end]
  );
  let used = r.filter((x) => x.ended >= start);
  if (used.length === 0) used = r.slice(0, 1);
  const value = used.length ? used.reduce((a, x) => a + x.rate, 0) / used.length : null;
  return {
    value,
    spark: r
      .slice(0, 12)
      .reverse()
      .map((x) => x.rate)
  };
}

export async function computeKpis(db: Db, q: QueryContext): Promise<Kpi[]> {
  const { range } = q;
  const from = range.cmp && range.cmp.start < range.start ? range.cmp.start : range.start;
  const names = [
    'user_count',
    'active_month',
    'new_users',
    'opened_reports',
    'resolved_reports',
    ...DISK_COMPONENTS.map(storageMetric)
  ];
  const v = await dailyValues(db, q, names, from, range.end);
  const series = (m: string, s: string, e: string) => dayAxis(s, e).map((d) => v.get(m)!.get(d) ?? null);
  const storage = (s: string, e: string) => volumeSeries(dayAxis(s, e), v, DISK_COMPONENTS).used;
  const fed = await db.all<{ day: string; reachable: number }>(
    `SELECT CAST(day AS VARCHAR) AS day, peers_reachable AS reachable FROM federation_daily WHERE day BETWEEN $1::DATE AND $2::DATE ORDER BY day`,
    [from, range.end]
  );
  const fedSeries = (s: string, e: string) => {
    const m = new Map(fed.map((f) => [f.day, f.reachable]));
    return dayAxis(s, e).map((d) => m.get(d) ?? null);
  };
  const cmp = range.cmp;
  const both = (
    f: (s: string, e: string) => (number | null)[],
    agg: (xs: (number | null)[]) => number | null
  ) => {
    const cur = f(range.start, range.end);
    return { value: agg(cur), previous: cmp ? agg(f(cmp.start, cmp.end)) : null, spark: cur };
  };
  const weekly = (xs: (number | null)[]) => {
    const out: (number | null)[] = [];
    for (let i = 0; i < xs.length; i += 7) out.push(sumOf(xs.slice(i, i + 7)));
    return out;
  };
  const [p50, p50prev] = await Promise.all([
    resolveMedian(db, q, range.start, range.end),
    cmp ? resolveMedian(db, q, cmp.start, cmp.end) : Promise.resolve(null)
  ]);
  const [ret, retPrev] = await Promise.all([
    retentionM1(db, q, range.start, range.end),
    cmp ? retentionM1(db, q, cmp.start, cmp.end) : Promise.resolve(null)
  ]);
  const volumes = await volumeStatuses(db, q);
  const soonest = volumes
    .filter((x) => x.daysToFull !== null)
    .sort((a, b) => a.daysToFull! - b.daysToFull!)[0];

  const values: Record<
    string,
    { value: number | null; previous: number | null; spark: (number | null)[]; note?: string }
  > = {
    members: both((s, e) => series('user_count', s, e), lastOf),
    mau: both((s, e) => series('active_month', s, e), lastOf),
    signups: both((s, e) => series('new_users', s, e), sumOf),
    retention_m1: { value: ret.value, previous: retPrev?.value ?? null, spark: ret.spark },
    reports_opened: both((s, e) => series('opened_reports', s, e), sumOf),
    reports_resolved: both((s, e) => series('resolved_reports', s, e), sumOf),
    resolve_p50: { value: p50, previous: p50prev, spark: [] },
    peers_reachable: both(fedSeries, lastOf),
    storage: both(storage, lastOf),
    days_to_full: {
      value: soonest?.daysToFull ?? null,
      previous: null,
      spark: [],
      note: !volumes.some((x) => x.bytes !== null)
        ? 'Set FEDIPULSE_VOLUMES to the disks’ sizes'
        : soonest
          ? `Volume ${soonest.name}`
          : 'Not growing: no date'
    }
  };
  for (const k of ['signups', 'reports_opened', 'reports_resolved'])
    values[k].spark = weekly(values[k].spark);
  return KPIS.map((d) => {
    const x = values[d.key];
    return { ...d, ...x, change: change(x.value, x.previous) };
  });
}

export const overviewMetrics: Metric[] = [
  {
    key: 'kpis',
    title: 'Key figures',
    unit: 'text',
    definition:
      'The overview’s cards: each figure over the selected range and over the comparison period (previous period of equal length, or the same dates a year earlier), with the relative change.',
    audience: 'board',
    page: 'overview',
    sources: ['daily_metrics', 'reports', 'retention_cohorts', 'federation_daily'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const k = await computeKpis(db, q);
      return {
        columns: [
          col('key', 'Key', 'text'),
          col('title', 'Figure', 'text'),
          col('unit', 'Unit', 'text'),
          col('value', 'Value', 'ratio'),
          col('previous', 'Comparison', 'ratio'),
          col('change', 'Change', 'percent')
        ],
        rows: k.map((x) => [x.key, x.title, x.unit, x.value, x.previous, x.change])
      };
    }
  }
];
