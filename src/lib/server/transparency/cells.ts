import { decide, type Cell, type Identity } from './disclosure.ts';
import { periodContaining, type Period } from './period.ts';
import { isSmall } from './privacy.ts';
import type { RawReport } from './report.ts';

/**
 * The published numbers of a report as cells of one table, and the exact identities between them, so that
 * suppression is decided across every period and format at once (disclosure.ts). A cell has one key
 * wherever it appears: members at the end of September are the same cell in the report of 2026-09, of
 * 2026-Q3 (its end) and of 2026-Q4 (its "previous").
 */

/** Mastodon's report categories (4.2+), in the order the report lists them. */
export const CATEGORIES = ['spam', 'legal', 'violation', 'other'] as const;

/** Counted over a period: a quarter is the sum of its months, a year of its quarters. */
export const FLOWS = [
  'reports.received',
  'reports.handled',
  'reports.about_local_accounts',
  'reports.about_remote_accounts',
  'reports.origin_unknown',
  ...CATEGORIES.map((c) => `reports.by_category.${c}`),
  'reports.resolved_within_24h',
  'reports.resolved_within_7d',
  'members.signups'
] as const;
export type Flow = (typeof FLOWS)[number];

export const cellKey = {
  flow: (metric: Flow, p: Period) => `${metric}@${p.id}`,
  /** A count at one moment: the value of the day it was observed. */
  stock: (metric: 'members.total' | 'members.active', day: string) => `${metric}@${day}`,
  /** Reports open at 00:00 UTC of a day (the end of one period, the start of the next). */
  open: (day: string) => `reports.open@${day}`,
  change: (metric: 'members.total' | 'members.active', p: Period) => `${metric}_change@${p.id}`
};

function flowValue(raw: RawReport, f: Flow): number | null {
  switch (f) {
    case 'reports.received':
      return raw.reportsReceived;
    case 'reports.handled':
      return raw.reportsHandled;
    case 'reports.about_local_accounts':
      return raw.reportsAboutLocal;
    case 'reports.about_remote_accounts':
      return raw.reportsAboutRemote;
    case 'reports.origin_unknown':
      return raw.reportsReceived - raw.reportsAboutLocal - raw.reportsAboutRemote;
    case 'reports.resolved_within_24h':
      return raw.resolvedWithin24h;
    case 'reports.resolved_within_7d':
      return raw.resolvedWithin7d;
    case 'members.signups':
      return raw.signups;
    default:
      return raw.byCategory[f.slice('reports.by_category.'.length)] ?? 0;
  }
}

/** When the month holding a day closes: a stock is first published then. */
const closesWithMonth = (day: string) => periodContaining('month', new Date(`${day}T00:00:00Z`)).end;

/** The cells one period's report publishes, and the identities among them. */
export function periodCells(p: Period, raw: RawReport, k: number): { cells: Cell[]; identities: Identity[] } {
  const cells: Cell[] = [];
  const identities: Identity[] = [];
  const add = (key: string, value: number, closes: string, fixed = false) =>
    cells.push({ key, value, primary: !fixed && isSmall(Math.abs(value), k), fixed, closes });
  for (const f of FLOWS) {
    const v = flowValue(raw, f);
    // Not published, but taken as known (no origin is rare; a period without sign-up data reads "—"): never a
    // cell that hides anything.
    const fixed = f === 'reports.origin_unknown' || v === null;
    add(cellKey.flow(f, p), v ?? 0, p.end, fixed);
  }
  const rec = cellKey.flow('reports.received', p);
  identities.push([
    [rec, 1],
    [cellKey.flow('reports.about_local_accounts', p), -1],
    [cellKey.flow('reports.about_remote_accounts', p), -1],
    [cellKey.flow('reports.origin_unknown', p), -1]
  ]);
  identities.push([
    [rec, 1],
    ...CATEGORIES.map((c): [string, number] => [cellKey.flow(`reports.by_category.${c}` as Flow, p), -1])
  ]);
  // Stock and flow: open at the start + received − handled = open at the end, exactly.
  add(cellKey.open(p.start), raw.reportsOpenAtStart, p.start);
  add(cellKey.open(p.end), raw.reportsOpenAtEnd, p.end);
  identities.push([
    [cellKey.open(p.start), 1],
    [rec, 1],
    [cellKey.flow('reports.handled', p), -1],
    [cellKey.open(p.end), -1]
  ]);
  const stocks = [
    ['members.total', raw.membersEnd, raw.membersEndDay, raw.membersPrevEnd, raw.membersPrevEndDay],
    ['members.active', raw.activeEnd, raw.activeEndDay, raw.activePrevEnd, raw.activePrevEndDay]
  ] as const;
  for (const [metric, end, endDay, prev, prevDay] of stocks) {
    if (end !== null && endDay !== null) add(cellKey.stock(metric, endDay), end, closesWithMonth(endDay));
    if (prev !== null && prevDay !== null)
      add(cellKey.stock(metric, prevDay), prev, closesWithMonth(prevDay));
    if (end !== null && endDay !== null && prev !== null && prevDay !== null) {
      // A net change (joins minus leaves) is no group of people: it is hidden only when a total is.
      cells.push({
        key: cellKey.change(metric, p),
        value: end - prev,
        primary: false,
        fixed: false,
        closes: p.end
      });
      identities.push([
        [cellKey.change(metric, p), 1],
        [cellKey.stock(metric, endDay), -1],
        [cellKey.stock(metric, prevDay), 1]
      ]);
    }
  }
  return { cells, identities };
}

/** Quarter = Σ its months and year = Σ its quarters, for every flow, where all the parts are in the table. */
export function hierarchyIdentities(periods: readonly Period[]): Identity[] {
  const ids = new Set(periods.map((p) => p.id));
  const out: Identity[] = [];
  for (const p of periods) {
    const y = p.id.slice(0, 4);
    const parts =
      p.kind === 'quarter'
        ? [0, 1, 2].map((i) => `${y}-${String((Number(p.id.slice(6)) - 1) * 3 + i + 1).padStart(2, '0')}`)
        : p.kind === 'year'
          ? [1, 2, 3, 4].map((q) => `${y}-Q${q}`)
          : [];
    if (parts.length === 0 || !parts.every((id) => ids.has(id))) continue;
    for (const f of FLOWS)
      out.push([[`${f}@${p.id}`, 1], ...parts.map((id): [string, number] => [`${f}@${id}`, -1])]);
  }
  return out;
}

/** The one suppression decision for a table of periods (every closed month, quarter and year): the hidden cell keys. */
export function decideAll(entries: readonly { period: Period; raw: RawReport }[], k: number): Set<string> {
  const cells = new Map<string, Cell>();
  const identities = hierarchyIdentities(entries.map((e) => e.period));
  for (const { period, raw } of entries) {
    const own = periodCells(period, raw, k);
    for (const c of own.cells) if (!cells.has(c.key)) cells.set(c.key, c);
    identities.push(...own.identities);
  }
  return decide(cells, identities);
}
