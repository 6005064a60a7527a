import { col } from '../queries/context.ts';
import type { Metric } from './types.ts';

export const statusMetrics: Metric[] = [
  {
    key: 'runs',
    title: 'Collection runs',
    unit: 'text',
    definition:
      'The latest collection runs: when they started, how long they took, what they collected and the errors they met. partial = some sources failed; failed = nothing collected.',
    audience: 'ops',
    page: 'status',
    sources: ['collection_runs'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{
        run_id: number;
        kind: string;
        started: string;
        minutes: number | null;
        status: string;
        items: number;
        errors: number;
        message: string | null;
      }>(
        `SELECT run_id, kind, strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS started,
                round(epoch(finished_at - started_at) / 60, 1) AS minutes, status, items, errors, message
         FROM collection_runs WHERE started_at < ($1::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ ORDER BY started_at DESC LIMIT 30`,
        [q.range.end]
      );
      return {
        columns: [
          col('run', 'Run'),
          col('kind', 'Kind', 'text'),
          col('started', 'Started (UTC)', 'text'),
          col('minutes', 'Minutes', 'ratio'),
          col('status', 'Status', 'text'),
          col('items', 'Items'),
          col('errors', 'Errors'),
          col('message', 'Message', 'text')
        ],
        rows: rows.map((r) => [
          r.run_id,
          r.kind,
          r.started,
          r.minutes,
          r.status,
          r.items,
          r.errors,
          r.message
        ])
      };
    }
  },
  {
    key: 'sources',
    title: 'Sources',
    unit: 'text',
    definition:
      'Each source a collection reads (instance API, admin measures, peer crawl…): when it last succeeded, its latest status, and how many of the range’s days had no successful collection from it (gaps).',
    audience: 'ops',
    page: 'status',
    sources: ['run_sources', 'collection_runs'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{
        source: string;
        last_ok: string | null;
        age_hours: number | null;
        status: string;
        message: string | null;
        failed: number;
        gap_days: number;
      }>(
        `WITH s AS (SELECT source, status, message, finished_at FROM run_sources),
              okdays AS (SELECT source, count(DISTINCT (finished_at AT TIME ZONE 'UTC')::DATE) AS n FROM s
                         WHERE status IN ('ok', 'partial') AND finished_at >= $1::DATE::TIMESTAMPTZ
                           AND finished_at < ($2::DATE + INTERVAL 1 DAY)::TIMESTAMPTZ GROUP BY 1)
         SELECT s.source, strftime(max(finished_at) FILTER (status IN ('ok', 'partial')) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS last_ok,
                round(epoch(now() - max(finished_at) FILTER (status IN ('ok', 'partial'))) / 3600, 1) AS age_hours,
                arg_max(status, finished_at) AS status, arg_max(message, finished_at) AS message,
                count(*) FILTER (status = 'failed' AND finished_at >= $1::DATE::TIMESTAMPTZ) AS failed,
                greatest(0, $3 - coalesce(any_value(okdays.n), 0)) AS gap_days
         FROM s LEFT JOIN okdays USING (source) GROUP BY s.source ORDER BY s.source`,
        [q.range.start, q.range.end, q.range.days]
      );
      return {
        columns: [
          col('source', 'Source', 'text'),
          col('last_ok', 'Last success (UTC)', 'text'),
          col('age', 'Age', 'hours'),
          col('status', 'Latest status', 'text'),
          col('failed', 'Failures in range'),
          col('gaps', 'Days without data'),
          col('message', 'Latest message', 'text')
        ],
        rows: rows.map((r) => [r.source, r.last_ok, r.age_hours, r.status, r.failed, r.gap_days, r.message])
      };
    }
  },
  {
    key: 'metric_gaps',
    title: 'Gaps by metric',
    unit: 'count',
    definition:
      'Days in the range without a value for each daily metric: what the charts draw as gaps. Active users and actions by members (interactions) older than 6 months cannot be back-filled (Mastodon expires them).',
    audience: 'ops',
    page: 'status',
    sources: ['daily_metrics'],
    chart: { kind: 'none' },
    query: async (db, q) => {
      const rows = await db.all<{ metric: string; have: number; last: string }>(
        `SELECT metric, count(*) AS have, CAST(max(day) AS VARCHAR) AS last FROM daily_metrics
         WHERE instance = $1 AND day BETWEEN $2::DATE AND $3::DATE GROUP BY 1 ORDER BY 1`,
        [q.facts.instance ?? '', q.range.start, q.range.end]
      );
      return {
        columns: [
          col('metric', 'Metric', 'text'),
          col('missing', 'Days missing'),
          col('last', 'Latest day', 'date')
        ],
        rows: rows.map((r) => [r.metric, q.range.days - r.have, r.last])
      };
    }
  }
];
