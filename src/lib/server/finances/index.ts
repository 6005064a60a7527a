import type { Db } from '../../../../collectors/store/database.ts';
import { publishFinances } from '../../../../collectors/finances/config.ts';

/** Queries for /finances and the transparency report's finances section (docs/finances.md). */

export interface MonthRow {
  month: string;
  income: number;
  expenses: number;
  net: number;
  balance: number;
}

export interface MeasureRow extends MonthRow {
  members: number | null;
  active_members: number | null;
  cost_per_member: number | null;
  cost_per_active_member: number | null;
  avg_cost_3m: number;
  net_burn_3m: number;
  runway_months: number | null;
  runway_unbounded: boolean;
  cost_cover_months: number | null;
  reserve_months: number;
  reserve_target: number;
  reserve_met: boolean;
}

export interface CategoryTotal {
  direction: 'income' | 'expense';
  category: string;
  amount: number;
}

export interface StorageProjection {
  /** Linear fit over the last 180 days of stored bytes (PostgreSQL, search, media; Redis is RAM, not priced as storage). */
  days: number;
  latestBytes: number;
  bytesPerDay: number;
  pricePerGbMonth: number | null;
  /** Monthly storage cost now and in a year at this growth (GB = 10^9 bytes); null without a price. */
  monthlyCostNow: number | null;
  monthlyCostInYear: number | null;
  extraPerMonthInYear: number | null;
}

export interface FinanceOverview {
  currency: string;
  months: MeasureRow[];
  /** The last complete month (before the current one), the one the headline figures are for. */
  asOf: MeasureRow | null;
  categories12m: CategoryTotal[];
  issues: { source: string; line: number | null; message: string }[];
  reportedBalances: {
    source: string;
    as_of: string;
    currency: string;
    amount: number;
    amount_base: number | null;
  }[];
  storage: StorageProjection | null;
}

/** False when the snapshot predates the finance tables (a database collected before finances existed). */
export async function hasFinances(db: Db): Promise<boolean> {
  const row = await db.one<{ n: number }>(
    `SELECT count(*) AS n FROM duckdb_views() WHERE view_name = 'finance_measures' AND NOT internal`
  );
  return (row?.n ?? 0) > 0;
}

async function currency(db: Db): Promise<string> {
  return (await db.one<{ c: string }>('SELECT base_currency AS c FROM finance_settings'))?.c ?? 'EUR';
}

const MEASURE_COLUMNS = `strftime(month, '%Y-%m') AS month, income, monthly_cost AS expenses, net, balance,
  members, active_members, cost_per_member, cost_per_active_member, avg_cost_3m, net_burn_3m, runway_months,
  runway_unbounded, cost_cover_months, reserve_months, reserve_target, reserve_met`;

export async function monthlyMeasures(db: Db): Promise<MeasureRow[]> {
  return db.all<MeasureRow>(`SELECT ${MEASURE_COLUMNS} FROM finance_measures ORDER BY month`);
}

export async function categoryTotals(db: Db, from: string, to: string): Promise<CategoryTotal[]> {
  return db.all<CategoryTotal>(
    `SELECT direction, category, round(sum(amount_base), 2)::DOUBLE AS amount FROM finance_entries
     WHERE direction IN ('income', 'expense') AND day >= $1::DATE AND day < $2::DATE
     GROUP BY ALL ORDER BY direction DESC, amount DESC, category`,
    [from, to]
  );
}

export async function storageProjection(db: Db, price: number | null): Promise<StorageProjection | null> {
  const row = await db.one<{ n: number; slope: number | null; latest: number | null }>(
    `WITH per_day AS (
       SELECT day, sum(value) AS bytes, count(DISTINCT metric) AS metrics FROM daily_metrics
       WHERE metric IN ('storage_postgresql_bytes', 'storage_search_bytes', 'storage_media_bytes') GROUP BY day
     ), complete AS (
       SELECT * FROM per_day WHERE metrics = (SELECT max(metrics) FROM per_day)
     ), recent AS (
       SELECT * FROM complete WHERE day > (SELECT max(day) FROM complete) - INTERVAL 180 DAY
     )
     SELECT count(*) AS n, regr_slope(bytes, epoch(day) / 86400) AS slope, arg_max(bytes, day) AS latest FROM recent`
  );
  if (!row || row.n < 14 || row.slope === null || row.latest === null) return null; // two weeks, or no fit worth showing
  const gbNow = row.latest / 1e9;
  const gbYear = (row.latest + Math.max(row.slope, 0) * 365) / 1e9;
  return {
    days: row.n,
    latestBytes: row.latest,
    bytesPerDay: row.slope,
    pricePerGbMonth: price,
    monthlyCostNow: price === null ? null : gbNow * price,
    monthlyCostInYear: price === null ? null : gbYear * price,
    extraPerMonthInYear: price === null ? null : (gbYear - gbNow) * price
  };
}

/** The storage price: the treasurer's setting from the last finance collection, else the environment. */
async function storagePrice(db: Db): Promise<number | null> {
  const row = await db.one<{ p: number | null }>(
    'SELECT storage_price_per_gb_month AS p FROM finance_settings'
  );
  if (row?.p != null) return row.p;
  const env = Number(process.env.FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH);
  return process.env.FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH && Number.isFinite(env) ? env : null;
}

const monthStart = (d: Date) => `${d.toISOString().slice(0, 7)}-01`;

/** The last complete month's row: months before `today`'s month; the latest one if none is complete. */
export function completeMonth<T extends { month: string }>(rows: T[], today: Date = new Date()): T | null {
  const current = today.toISOString().slice(0, 7);
  return rows.filter((r) => r.month < current).at(-1) ?? rows.at(-1) ?? null;
}

export async function financeOverview(db: Db, today: Date = new Date()): Promise<FinanceOverview | null> {
  if (!(await hasFinances(db))) return null;
  const months = await monthlyMeasures(db);
  if (months.length === 0) return null;
  const asOf = completeMonth(months, today);
  const end = asOf ? new Date(Date.parse(`${asOf.month}-01T00:00:00Z`)) : today;
  end.setUTCMonth(end.getUTCMonth() + 1);
  const start = new Date(end);
  start.setUTCFullYear(start.getUTCFullYear() - 1);
  return {
    currency: await currency(db),
    months,
    asOf,
    categories12m: await categoryTotals(db, monthStart(start), monthStart(end)),
    issues: await db.all(
      `SELECT source, line, message FROM finance_issues ORDER BY source, line NULLS LAST LIMIT 200`
    ),
    reportedBalances: await db.all(
      `SELECT source, strftime(as_of, '%Y-%m-%d') AS as_of, currency, amount::DOUBLE AS amount,
         amount_base::DOUBLE AS amount_base
       FROM finance_balances QUALIFY row_number() OVER (PARTITION BY source ORDER BY as_of DESC) = 1`
    ),
    storage: await storageProjection(db, await storagePrice(db))
  };
}

/** The transparency report's finances section for one closed period. */
export interface FinanceSection {
  currency: string;
  /** The period, as given: start inclusive, end exclusive (YYYY-MM-DD). */
  periodStart: string;
  periodEnd: string;
  income: { category: string; amount: number }[];
  expenses: { category: string; amount: number }[];
  totalIncome: number;
  totalExpenses: number;
  net: number;
  /** At the end of the period's last month. */
  balance: number | null;
  /** Months the balance lasts at the net burn of the period's last three months; null when income covers costs. */
  runwayMonths: number | null;
  runwayUnbounded: boolean;
  reserveMonths: number;
  reserveMet: boolean | null;
  /** Costs of the period ÷ the sum of active members at each of its months' ends: a monthly figure. */
  costPerActiveMember: number | null;
  /** Active members (Mastodon's active_month) at the period's end. */
  activeMembers: number | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The finances section of the transparency report for [periodStart, periodEnd) (YYYY-MM-DD), or null when
 * the co-op publishes its finances elsewhere (FEDIPULSE_PUBLISH_FINANCES=false) or keeps no books here.
 */
export async function financeSection(
  db: Db,
  periodStart: string,
  periodEnd: string,
  env: NodeJS.ProcessEnv = process.env
): Promise<FinanceSection | null> {
  if (!publishFinances(env) || !(await hasFinances(db))) return null;
  const any = await db.one<{ n: number }>('SELECT count(*) AS n FROM finance_entries');
  if (!any?.n) return null;
  const totals = await categoryTotals(db, periodStart, periodEnd);
  const income = totals
    .filter((t) => t.direction === 'income')
    .map(({ category, amount }) => ({ category, amount }));
  const expenses = totals
    .filter((t) => t.direction === 'expense')
    .map(({ category, amount }) => ({ category, amount }));
  const months = await db.all<MeasureRow>(
    `SELECT ${MEASURE_COLUMNS} FROM finance_measures WHERE month >= $1::DATE AND month < $2::DATE ORDER BY month`,
    [periodStart, periodEnd]
  );
  const last = months.at(-1) ?? null;
  const withActive = months.filter((m) => m.active_members && m.active_members > 0);
  const active = withActive.reduce((a, m) => a + (m.active_members ?? 0), 0);
  const cost = withActive.reduce((a, m) => a + m.expenses, 0);
  const totalIncome = round2(income.reduce((a, t) => a + t.amount, 0));
  const totalExpenses = round2(expenses.reduce((a, t) => a + t.amount, 0));
  return {
    currency: await currency(db),
    periodStart,
    periodEnd,
    income,
    expenses,
    totalIncome,
    totalExpenses,
    net: round2(totalIncome - totalExpenses),
    balance: last ? round2(last.balance) : null,
    runwayMonths: last?.runway_months != null ? Math.round(last.runway_months * 10) / 10 : null,
    runwayUnbounded: last?.runway_unbounded ?? false,
    reserveMonths: last?.reserve_months ?? Number(env.FEDIPULSE_RESERVE_MONTHS || 6),
    reserveMet: last ? last.reserve_met : null,
    costPerActiveMember: active > 0 ? round2(cost / active) : null,
    activeMembers: last?.active_members ?? null
  };
}

/** The section flattened for the report's CSV: one (metric, value) row per figure. */
export function financeSectionRows(
  s: FinanceSection
): { section: string; metric: string; value: number | string | null; unit: string }[] {
  const c = s.currency;
  return [
    ...s.income.map((t) => ({
      section: 'finances',
      metric: `income.${t.category}`,
      value: t.amount,
      unit: c
    })),
    ...s.expenses.map((t) => ({
      section: 'finances',
      metric: `expenses.${t.category}`,
      value: t.amount,
      unit: c
    })),
    { section: 'finances', metric: 'income.total', value: s.totalIncome, unit: c },
    { section: 'finances', metric: 'expenses.total', value: s.totalExpenses, unit: c },
    { section: 'finances', metric: 'net', value: s.net, unit: c },
    { section: 'finances', metric: 'balance', value: s.balance, unit: c },
    {
      section: 'finances',
      metric: 'runway_months',
      value: s.runwayUnbounded ? 'unbounded' : s.runwayMonths,
      unit: 'months'
    },
    { section: 'finances', metric: 'reserve_target_months', value: s.reserveMonths, unit: 'months' },
    {
      section: 'finances',
      metric: 'cost_per_active_member',
      value: s.costPerActiveMember,
      unit: `${c}/month`
    }
  ];
}
