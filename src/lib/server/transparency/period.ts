/** Reporting periods: a month (2026-09), a quarter (2026-Q3) or a year (2026), all in UTC. */
export type PeriodKind = 'month' | 'quarter' | 'year';

export interface Period {
  id: string;
  kind: PeriodKind;
  /** First day, YYYY-MM-DD. */
  start: string;
  /** Last day (inclusive), YYYY-MM-DD. */
  last: string;
  /** The day after the last (exclusive bound for queries), YYYY-MM-DD. */
  end: string;
  days: number;
  label: string;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
];
const DAY = 86_400_000;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function make(kind: PeriodKind, year: number, index: number): Period {
  // index: month 0..11, quarter 0..3, year 0
  const startMonth = kind === 'month' ? index : kind === 'quarter' ? index * 3 : 0;
  const months = kind === 'month' ? 1 : kind === 'quarter' ? 3 : 12;
  const startMs = Date.UTC(year, startMonth, 1);
  const endMs = Date.UTC(year, startMonth + months, 1);
  const id =
    kind === 'month'
      ? `${year}-${String(index + 1).padStart(2, '0')}`
      : kind === 'quarter'
        ? `${year}-Q${index + 1}`
        : String(year);
  const label =
    kind === 'month'
      ? `${MONTHS[index]} ${year}`
      : kind === 'quarter'
        ? `Q${index + 1} ${year} (${MONTHS[startMonth]}–${MONTHS[startMonth + 2]})`
        : `The year ${year}`;
  return {
    id,
    kind,
    start: ymd(startMs),
    last: ymd(endMs - DAY),
    end: ymd(endMs),
    days: Math.round((endMs - startMs) / DAY),
    label
  };
}

/** `2026-09`, `2026-Q3` (q case-insensitive) or `2026`; null for anything else. */
export function parsePeriod(id: string): Period | null {
  const m = /^(\d{4})(?:-(?:(0[1-9]|1[0-2])|[Qq]([1-4])))?$/.exec(id);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 2000 || year > 2999) return null;
  if (m[2]) return make('month', year, Number(m[2]) - 1);
  if (m[3]) return make('quarter', year, Number(m[3]) - 1);
  return make('year', year, 0);
}

/** The period of the same kind just before this one. */
export function previousPeriod(p: Period): Period {
  const d = new Date(`${p.start}T00:00:00Z`);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (p.kind === 'year') return make('year', y - 1, 0);
  if (p.kind === 'quarter') return m === 0 ? make('quarter', y - 1, 3) : make('quarter', y, m / 3 - 1);
  return m === 0 ? make('month', y - 1, 11) : make('month', y, m - 1);
}

/** Closed once its last day is over (UTC): only closed periods are ever published. */
export function isClosed(p: Period, now: Date): boolean {
  return Date.parse(`${p.end}T00:00:00Z`) <= now.getTime();
}

/** The period of a kind that contains a moment. */
export function periodContaining(kind: PeriodKind, at: Date): Period {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return make(kind, y, kind === 'month' ? m : kind === 'quarter' ? Math.floor(m / 3) : 0);
}

export function latestClosed(kind: PeriodKind, now: Date): Period {
  return previousPeriod(periodContaining(kind, now));
}

/** Closed periods of a kind from the one containing `from` up to the latest closed, newest first. */
export function closedPeriods(kind: PeriodKind, from: Date, now: Date, max = 240): Period[] {
  const out: Period[] = [];
  let p = latestClosed(kind, now);
  const first = periodContaining(kind, from).start;
  while (p.start >= first && out.length < max) {
    out.push(p);
    p = previousPeriod(p);
  }
  return out;
}
