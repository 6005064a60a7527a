import { capacityMetrics } from './capacity.ts';
import { federationMetrics } from './federation.ts';
import { growthMetrics } from './growth.ts';
import { moderationMetrics } from './moderation.ts';
import { KPIS, overviewMetrics } from './overview.ts';
import { retentionMetrics } from './retention.ts';
import { statusMetrics } from './status.ts';
import type { Metric, PageKey, QueryContext, Table } from './types.ts';
import { csvLines } from '../csv.ts';
import type { Db } from '../../../../collectors/store/database.ts';
import { formatValue } from '../../components/format.ts';

export type * from './types.ts';
export { KPIS };

/** The metric registry: every number the dashboard shows, in one list (docs/metrics.md is generated from it). */
export const REGISTRY: Metric[] = [
  ...overviewMetrics,
  ...growthMetrics,
  ...retentionMetrics,
  ...federationMetrics,
  ...moderationMetrics,
  ...capacityMetrics,
  ...statusMetrics
];

const byKey = new Map(REGISTRY.map((m) => [m.key, m]));
if (byKey.size !== REGISTRY.length) throw new Error('metric registry: duplicate key');

export const getMetric = (key: string): Metric | undefined => byKey.get(key);
export const metricsOf = (page: PageKey): Metric[] => REGISTRY.filter((m) => m.page === page);

export type { MetricData } from '../../components/types.ts';
import type { MetricData } from '../../components/types.ts';

export function describe(m: Metric, table: Table): MetricData {
  return {
    key: m.key,
    page: m.page,
    title: m.title,
    unit: m.unit,
    definition: m.definition,
    audience: m.audience,
    chart: m.chart,
    table
  };
}

/** Runs a page's metrics one after another (one DuckDB connection; parallel calls would queue anyway). */
export async function runMetrics(
  db: Db,
  q: QueryContext,
  keys: string[],
  opts: { staff: boolean }
): Promise<Record<string, MetricData | null>> {
  const out: Record<string, MetricData | null> = {};
  for (const key of keys) {
    const m = byKey.get(key);
    if (!m) throw new Error(`unknown metric ${key}`);
    out[key] = m.staffOnly && !opts.staff ? null : describe(m, await m.query(db, q));
  }
  return out;
}

/** RFC 4180 CSV with a header row of column keys; empty cells are gaps; formulas defused (../csv.ts). */
export function toCsv(t: Table): string {
  return csvLines([t.columns.map((c) => c.key), ...t.rows]);
}

/** JSON export: the metric's description, the range, and the rows as objects. */
export function toJson(m: Metric, q: QueryContext, t: Table) {
  return {
    metric: m.key,
    title: m.title,
    definition: m.definition,
    audience: m.audience,
    range: { start: q.range.start, end: q.range.end },
    simulated: q.facts.simulated,
    columns: t.columns,
    rows: t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.key, r[i]])))
  };
}

export { formatValue };
