import type { Db } from '../../../../collectors/store/database.ts';
import { addDays, parseRange } from '../../components/range.ts';
import { alertConfig } from '../alerts/index.ts';
import type { Cell, Column, DashboardConfig, Facts, QueryContext, Table } from '../metrics/types.ts';

/** Dashboard settings: the thresholds are the alerts' own (one reading of FEDIPULSE_VOLUMES etc.). */
export function dashboardConfig(env: NodeJS.ProcessEnv = process.env): DashboardConfig {
  const a = alertConfig(env);
  return {
    volumes: a.volumes,
    diskWarningDays: a.diskWarnDays,
    backlogTargetHours: a.backlogTargetHours,
    largePeerUsers: a.largePeerUsers,
    hasToken: Boolean(env.FEDIPULSE_TOKEN?.trim()),
    staleAfterHours: a.staleAfterHours
  };
}

const factsCache = new WeakMap<Db, Promise<Facts>>();

/** Facts about a snapshot; snapshots are immutable, so they are looked up once per snapshot. */
export function facts(db: Db): Promise<Facts> {
  let f = factsCache.get(db);
  if (!f) {
    f = loadFacts(db);
    factsCache.set(db, f);
    f.catch(() => factsCache.delete(db));
  }
  return f;
}

async function loadFacts(db: Db): Promise<Facts> {
  const settings = await db.all<{ key: string; value: string | null }>('SELECT key, value FROM settings');
  const s = new Map(settings.map((r) => [r.key, r.value]));
  const inst =
    s.get('own_domain') ??
    (
      await db.one<{ instance: string }>(
        'SELECT instance FROM daily_metrics GROUP BY instance ORDER BY count(*) DESC LIMIT 1'
      )
    )?.instance ??
    null;
  const span = await db.one<{ first: string | null; last: string | null }>(
    `SELECT CAST(min(day) AS VARCHAR) AS first, CAST(max(day) AS VARCHAR) AS last FROM daily_metrics WHERE instance = $1`,
    [inst ?? '']
  );
  const crawl = await db.one<{ run_id: number; day: string }>(
    `SELECT run_id, CAST(day AS VARCHAR) AS day FROM federation_daily JOIN federation_days USING (day)
     ORDER BY day DESC LIMIT 1`
  );
  const admin = await db.one<{ n: number }>(
    `SELECT count(*) AS n FROM daily_metrics WHERE instance = $1 AND metric IN ('new_users', 'active_users')`,
    [inst ?? '']
  );
  const today = new Date().toISOString().slice(0, 10);
  const last = span?.last ?? crawl?.day ?? today;
  return {
    instance: inst,
    firstDay: span?.first ?? last,
    lastDay: last,
    simulated: s.get('simulated') === 'true',
    latestCrawl: crawl ? { runId: crawl.run_id, day: crawl.day } : null,
    hasAdminData: (admin?.n ?? 0) > 0
  };
}

export async function queryContext(db: Db, url: URL, config: DashboardConfig): Promise<QueryContext> {
  const f = await facts(db);
  return { range: parseRange(url.searchParams, f.lastDay, f.firstDay), facts: f, config };
}

/** Every day from start to end, inclusive: charts get one slot per day, so a missing day is a gap. */
export function dayAxis(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Daily values of some metrics over [start, end], as a Map metric -> day -> value. */
export async function dailyValues(
  db: Db,
  q: QueryContext,
  metrics: string[],
  start: string,
  end: string
): Promise<Map<string, Map<string, number>>> {
  const rows = await db.all<{ day: string; metric: string; value: number }>(
    `SELECT CAST(day AS VARCHAR) AS day, metric, value FROM daily_metrics
     WHERE instance = $1 AND day BETWEEN $2::DATE AND $3::DATE AND metric IN (SELECT unnest(string_split($4, ',')))`,
    [q.facts.instance ?? '', start, end, metrics.join(',')]
  );
  const out = new Map<string, Map<string, number>>(metrics.map((m) => [m, new Map()]));
  for (const r of rows) out.get(r.metric)!.set(r.day, r.value);
  return out;
}

/** A day-by-day table of some daily metrics over the page's range (null where nothing was collected). */
export async function dailyTable(db: Db, q: QueryContext, cols: Column[], metrics: string[]): Promise<Table> {
  const { start, end } = q.range;
  const v = await dailyValues(db, q, metrics, start, end);
  const rows: Cell[][] = dayAxis(start, end).map((d) => [d, ...metrics.map((m) => v.get(m)!.get(d) ?? null)]);
  return { columns: [{ key: 'day', title: 'Day', unit: 'date' }, ...cols], rows };
}

export const col = (key: string, title: string, unit: Column['unit'] = 'count'): Column => ({
  key,
  title,
  unit
});
export const dayCol = col('day', 'Day', 'date');
export const weekCol = col('week', 'Week starting', 'date');
export const monthCol = col('month', 'Month', 'date');
