import { col, dailyValues, dayAxis, dayCol } from '../queries/context.ts';
import { daysUntil, predict, theilSen, type Fit } from '../queries/forecast.ts';
import { addDays, daysBetween } from '../../components/range.ts';
import type { Metric, QueryContext, Table } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

const FIT_DAYS = 90;
export const STORES = [
  { key: 'postgresql', metric: 'storage_postgresql_bytes', title: 'PostgreSQL' },
  { key: 'redis', metric: 'storage_redis_bytes', title: 'Redis' },
  { key: 'media', metric: 'storage_media_bytes', title: 'Media files' }
] as const;

/** How far the forecast reaches past the last day: a quarter of the range, at least 90 days, at most a year. */
export const horizon = (q: QueryContext) => Math.min(365, Math.max(90, Math.round(q.range.days / 4)));

export interface Forecast {
  table: Table;
  fit: Fit | null;
  last: number | null;
  /** Days from the last data day until `limit` (null: never, or no limit configured). */
  daysToLimit: number | null;
}

/** Actual values over the range, then a robust linear forecast fitted to the last 90 days, with its band. */
export async function forecastSeries(
  db: Db,
  q: QueryContext,
  metrics: string[],
  title: string,
  limit: number | null
): Promise<Forecast> {
  const { start, end } = q.range;
  const fitFrom = addDays(end, -(FIT_DAYS - 1));
  const from = fitFrom < start ? fitFrom : start;
  const v = await dailyValues(db, q, metrics, from, end);
  const sum = (d: string) => {
    let s = 0;
    for (const m of metrics) {
      const x = v.get(m)!.get(d);
      if (x === undefined) return null;
      s += x;
    }
    return s;
  };
  const fit = theilSen(dayAxis(fitFrom, end).map((d) => [daysBetween(fitFrom, d), sum(d)]));
  const rows: Table['rows'] = dayAxis(start, end).map((d) => [d, sum(d), null, null, null]);
  let last: number | null = null;
  for (let i = rows.length - 1; i >= 0 && last === null; i--) last = rows[i][1] as number | null;
  if (fit) {
    // The forecast starts at the last actual point so the two lines join.
    const lastRow = rows[rows.length - 1];
    if (lastRow[1] !== null) lastRow.splice(2, 3, lastRow[1], lastRow[1], lastRow[1]);
    for (let h = 1; h <= horizon(q); h++) {
      const p = predict(fit, daysBetween(fitFrom, end) + h);
      rows.push([addDays(end, h), null, Math.max(0, p.y), Math.max(0, p.lo), p.hi]);
    }
  }
  return {
    table: {
      columns: [
        dayCol,
        col('actual', title, 'bytes'),
        col('forecast', 'Forecast', 'bytes'),
        col('low', 'Forecast low (5 %)', 'bytes'),
        col('high', 'Forecast high (95 %)', 'bytes')
      ],
      rows
    },
    fit,
    last,
    daysToLimit: fit && limit !== null && last !== null ? daysUntil(fit, limit, last) : null
  };
}

const withUnit = (t: Table, unit: 'bytes' | 'count'): Table => ({
  rows: t.rows,
  columns: t.columns.map((c, i) => (i === 0 ? c : { ...c, unit }))
});

const forecastShape = (limit: boolean) => ({
  kind: 'line' as const,
  band: ['low', 'high'] as [string, string],
  dashed: ['forecast'],
  ...(limit ? {} : {})
});

export const capacityMetrics: Metric[] = [
  {
    key: 'storage_total',
    title: 'Storage used',
    unit: 'bytes',
    definition:
      'PostgreSQL database + Redis memory + media files, as Mastodon’s admin space_usage dimension reports them each day, with a forecast: a robust straight line (Theil–Sen) fitted to the last 90 days and a 90 % band. The disk size comes from FEDIPULSE_DISK_BYTES.',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (storage_*_bytes)'],
    chart: forecastShape(true),
    query: async (db, q) =>
      (
        await forecastSeries(
          db,
          q,
          STORES.map((s) => s.metric),
          'Storage used',
          q.config.diskBytes
        )
      ).table
  },
  ...STORES.map((s): Metric => ({
    key: `storage_${s.key}`,
    title: `${s.title} size`,
    unit: 'bytes',
    definition: `${s.title} bytes from Mastodon’s admin space_usage dimension, daily, with a Theil–Sen forecast from the last 90 days and its 90 % band.`,
    audience: 'ops',
    page: 'capacity',
    sources: [`daily_metrics (${s.metric})`],
    chart: forecastShape(false),
    query: async (db, q) => (await forecastSeries(db, q, [s.metric], s.title, null)).table
  })),
  {
    key: 'active_forecast',
    title: 'Monthly active users forecast',
    unit: 'count',
    definition:
      'Monthly active users (usage.users.active_month) with a Theil–Sen forecast from the last 90 days and its 90 % band: what capacity must serve next quarter.',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (active_month)'],
    chart: forecastShape(false),
    query: async (db, q) =>
      withUnit((await forecastSeries(db, q, ['active_month'], 'MAU', null)).table, 'count')
  },
  {
    key: 'software_versions',
    title: 'Software versions',
    unit: 'text',
    definition:
      'The server’s own stack (Mastodon, Ruby, PostgreSQL, Redis, search) from the admin software_versions dimension on the last day of the range, and the day each version was first seen.',
    audience: 'ops',
    page: 'capacity',
    sources: ['dimension_days (software_versions)'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{ component: string; version: string; since: string }>(
        `WITH v AS (SELECT key, coalesce(human_key, key) AS component, coalesce(human_value, CAST(value AS VARCHAR)) AS version, day
                    FROM dimension_days WHERE instance = $1 AND dimension = 'software_versions' AND day <= $2::DATE),
              cur AS (SELECT key, arg_max(component, day) AS component, arg_max(version, day) AS version FROM v GROUP BY key)
         SELECT cur.component, cur.version, CAST(min(v.day) AS VARCHAR) AS since
         FROM cur JOIN v ON v.key = cur.key AND v.version = cur.version GROUP BY ALL ORDER BY cur.component`,
        [q.facts.instance ?? '', q.range.end]
      );
      return {
        columns: [
          col('component', 'Component', 'text'),
          col('version', 'Version', 'text'),
          col('since', 'Since', 'date')
        ],
        rows: rows.map((r) => [r.component, r.version, r.since])
      };
    }
  },
  {
    key: 'load',
    title: 'Load proxies',
    unit: 'count',
    definition:
      'What the server carries besides storage: interactions on local posts per day (admin measure interactions) and peers known (the federation fan-out each post may be delivered to).',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (interactions, peers_count)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const v = await dailyValues(db, q, ['interactions', 'peers_count'], q.range.start, q.range.end);
      return {
        columns: [dayCol, col('interactions', 'Interactions'), col('peers', 'Peers known')],
        rows: dayAxis(q.range.start, q.range.end).map((d) => [
          d,
          v.get('interactions')!.get(d) ?? null,
          v.get('peers_count')!.get(d) ?? null
        ])
      };
    }
  }
];
