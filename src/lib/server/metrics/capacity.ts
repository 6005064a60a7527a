import { col, dailyValues, dayAxis, dayCol } from '../queries/context.ts';
import {
  DISK_COMPONENTS,
  predict,
  storageMetric,
  theilSen,
  volumeStatus,
  type Fit,
  type VolumeStatus
} from '../queries/forecast.ts';
import { addDays, daysBetween } from '../../components/range.ts';
import type { Metric, QueryContext, Table } from './types.ts';
import type { Db } from '../../../../collectors/store/database.ts';

const FIT_DAYS = 90;
/** Mastodon's source for every storage figure (mastodon/mastodon, read at 4.3.0 and main 4.8.0-alpha.1). */
const SOURCE = 'app/lib/admin/metrics/dimension/space_usage_dimension.rb';
/** The stores Mastodon's admin dimension space_usage measures; Redis is memory, the others take disk or bucket space. */
export const STORES = [
  {
    key: 'postgresql',
    metric: storageMetric('postgresql'),
    title: 'PostgreSQL',
    what: 'pg_database_size(current_database()): the database on its disk'
  },
  {
    key: 'search',
    metric: storageMetric('search'),
    title: 'Search index',
    what: 'Elasticsearch or OpenSearch, the primary shards’ store size summed over all indices (replicas not counted); reported since Mastodon 4.3.0 and only when search is enabled and answers'
  },
  {
    key: 'media',
    metric: storageMetric('media'),
    title: 'Media files',
    what: 'the file sizes Mastodon recorded for attachments, custom emoji, preview cards, avatars and headers, backups, imports and site uploads; they often live on object storage (S3 and the like), not on the server’s disk'
  },
  {
    key: 'redis',
    metric: storageMetric('redis'),
    title: 'Redis memory',
    what: 'Redis INFO used_memory: RAM, not disk, so it is never counted on a volume'
  }
] as const;

/** How far the forecast reaches past the last day: a quarter of the range, at least 90 days, at most a year. */
export const horizon = (q: QueryContext) => Math.min(365, Math.max(90, Math.round(q.range.days / 4)));

export interface Forecast {
  table: Table;
  fit: Fit | null;
  last: number | null;
}

/** Actual values over the range, then a robust linear forecast fitted to the last 90 days, with its band. */
export async function forecastSeries(
  db: Db,
  q: QueryContext,
  metrics: string[],
  title: string
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
    last
  };
}

const withUnit = (t: Table, unit: 'bytes' | 'count'): Table => ({
  rows: t.rows,
  columns: t.columns.map((c, i) => (i === 0 ? c : { ...c, unit }))
});

const forecastShape = {
  kind: 'line' as const,
  band: ['low', 'high'] as [string, string],
  dashed: ['forecast']
};

/** Each volume's state at the end of the range: the page's note, the table and the overview read this. */
export async function volumeStatuses(db: Db, q: QueryContext): Promise<VolumeStatus[]> {
  if (q.config.volumes.length === 0) return [];
  const end = q.range.end;
  const from = addDays(end, -(2 * FIT_DAYS - 1));
  const values = await dailyValues(db, q, DISK_COMPONENTS.map(storageMetric), from, end);
  const days = dayAxis(from, end);
  return q.config.volumes.map((v) => volumeStatus(v, days, values, FIT_DAYS));
}

const NAMES: Record<string, string> = Object.fromEntries(STORES.map((s) => [s.key, s.title]));

export const capacityMetrics: Metric[] = [
  {
    key: 'storage_total',
    title: 'Stored data by component',
    unit: 'bytes',
    definition: `PostgreSQL, the search index and media files, stacked, as Mastodon’s admin dimension space_usage reports them each day (${SOURCE}; search since 4.3.0). Redis is left out: its figure is memory (used_memory), not storage. The components may sit on different disks and buckets, so the sum is no disk’s fill level: see Volumes.`,
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (storage_postgresql_bytes, storage_search_bytes, storage_media_bytes)'],
    chart: { kind: 'line', stacked: true },
    query: async (db, q) => {
      const disk = STORES.filter((s) => s.key !== 'redis');
      const v = await dailyValues(
        db,
        q,
        disk.map((s) => s.metric),
        q.range.start,
        q.range.end
      );
      return {
        columns: [dayCol, ...disk.map((s) => col(s.key, s.title, 'bytes'))],
        rows: dayAxis(q.range.start, q.range.end).map((d) => [
          d,
          ...disk.map((s) => v.get(s.metric)!.get(d) ?? null)
        ])
      };
    }
  },
  ...STORES.map((s): Metric => ({
    key: `storage_${s.key}`,
    title: s.key === 'redis' ? 'Redis memory (RAM)' : `${s.title} size`,
    unit: 'bytes',
    definition: `${s.title}: ${s.what} (Mastodon’s admin dimension space_usage, ${SOURCE}). Daily, with its own forecast: a robust straight line (Theil–Sen) fitted to the last 90 days and its 90 % band.`,
    audience: 'ops',
    page: 'capacity',
    sources: [`daily_metrics (${s.metric})`],
    chart: forecastShape,
    query: async (db, q) => (await forecastSeries(db, q, [s.metric], s.title)).table
  })),
  {
    key: 'storage_volumes',
    title: 'Volumes',
    unit: 'bytes',
    definition:
      'Each disk or bucket named in FEDIPULSE_VOLUMES (or the one disk of FEDIPULSE_DISK_BYTES, holding PostgreSQL, search and media) with the components it holds: bytes used on the last whole day of the range (the sum of its components as Mastodon’s admin dimension space_usage reports them: app/lib/admin/metrics/dimension/space_usage_dimension.rb, search since 4.3.0), its size, the growth per day of a Theil–Sen line over the last 90 days, and the days until that line reaches the size. A volume without a size has no days until full; Redis (RAM) is never on a volume.',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (storage_*_bytes)', 'FEDIPULSE_VOLUMES'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const vs = await volumeStatuses(db, q);
      return {
        columns: [
          col('volume', 'Volume', 'text'),
          col('holds', 'Holds', 'text'),
          col('used', 'Used', 'bytes'),
          col('size', 'Size', 'bytes'),
          col('growth', 'Growth per day', 'bytes'),
          col('days_to_full', 'Days until full', 'days'),
          col('full_on', 'Full around', 'date'),
          col('day', 'As of', 'date')
        ],
        rows: vs.map((v) => [
          v.name,
          v.components.map((c) => NAMES[c] + (v.reported.includes(c) ? '' : ' (not reported)')).join(', '),
          v.used,
          v.bytes,
          v.slope === null ? null : Math.round(v.slope),
          v.daysToFull,
          v.fullOn,
          v.lastDay
        ])
      };
    }
  },
  {
    key: 'active_forecast',
    title: 'Monthly active users forecast',
    unit: 'count',
    definition:
      'Monthly active users (usage.users.active_month) with a Theil–Sen forecast from the last 90 days and its 90 % band: what capacity must serve next quarter.',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (active_month)'],
    chart: forecastShape,
    query: async (db, q) => withUnit((await forecastSeries(db, q, ['active_month'], 'MAU')).table, 'count')
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
      'What the server carries besides storage: actions by our members per day — favourites, boosts, replies, follows and poll votes they make on any post (admin measure interactions; favourite_service.rb, reblog_service.rb, post_status_service.rb, follow_service.rb, vote_service.rb, Mastodon 3.5–4.6), each one delivered to other servers — and peers known (the federation fan-out each delivery may go to). Other servers’ actions on our posts are not in it.',
    audience: 'ops',
    page: 'capacity',
    sources: ['daily_metrics (interactions, peers_count)'],
    chart: { kind: 'line' },
    query: async (db, q) => {
      const v = await dailyValues(db, q, ['interactions', 'peers_count'], q.range.start, q.range.end);
      return {
        columns: [dayCol, col('interactions', 'Actions by members'), col('peers', 'Peers known')],
        rows: dayAxis(q.range.start, q.range.end).map((d) => [
          d,
          v.get('interactions')!.get(d) ?? null,
          v.get('peers_count')!.get(d) ?? null
        ])
      };
    }
  }
];
