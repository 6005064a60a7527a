import { createHash } from 'node:crypto';
import { parseCsv } from './csv.ts';
import type { Rates } from './rates.ts';

export type Direction = 'income' | 'expense' | 'opening';

/** One money movement in the books, converted to the base currency. Amounts are in cents. */
export interface FinanceEntry {
  key: string;
  source: 'ledger' | 'opencollective';
  day: string;
  direction: Direction;
  category: string;
  counterparty: string | null;
  note: string | null;
  currency: string;
  amountCents: number;
  fxRate: number;
  baseCents: number;
  origin: string;
}

export interface LedgerIssue {
  line: number;
  message: string;
}

/** Categories whose direction is known; others need a `direction` column. */
export const INCOME_CATEGORIES = ['dues', 'donation', 'grant', 'interest', 'sponsorship', 'income'];
export const EXPENSE_CATEGORIES = [
  'hosting',
  'storage',
  'email',
  'domain',
  'software',
  'cdn',
  'backup',
  'fees',
  'legal',
  'accounting',
  'moderation',
  'insurance',
  'other'
];
const OPENING = ['opening_balance', 'opening'];

export const REQUIRED_COLUMNS = ['date', 'amount', 'currency', 'category'] as const;
const OPTIONAL_COLUMNS = ['counterparty', 'note', 'direction'] as const;

function knownDirection(category: string): Direction | null {
  if (OPENING.includes(category)) return 'opening';
  if (INCOME_CATEGORIES.includes(category)) return 'income';
  if (EXPENSE_CATEGORIES.includes(category)) return 'expense';
  return null;
}

export function isCalendarDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Amount text to cents, or a message a treasurer can act on. */
export function parseAmount(raw: string): { cents: number } | { error: string } {
  const v = raw.trim();
  if (v === '') return { error: 'amount is empty' };
  const m = /^([+-]?)(\d+)(?:\.(\d{1,2}))?$/.exec(v);
  if (m) {
    const cents = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
    if (!Number.isSafeInteger(cents)) return { error: `amount "${v}" is too large` };
    return { cents: m[1] === '-' ? -cents : cents };
  }
  if (/^[+-]?\d+,\d{1,2}$/.test(v))
    return { error: `amount "${v}" uses a comma: write the decimal point as a dot (${v.replace(',', '.')})` };
  if (/^[+-]?\d{1,3}([,. ']\d{3})+([.,]\d{1,2})?$/.test(v))
    return { error: `amount "${v}" has a thousands separator: write it without one (e.g. 1234.56)` };
  if (/^[+-]?\d+\.\d{3,}$/.test(v)) return { error: `amount "${v}" has more than 2 decimals` };
  if (/[€$£¥₹]|^[A-Za-z]{3}\s*\d|\d\s*[A-Za-z]{3}$/.test(v))
    return {
      error: `amount "${v}" is not a plain number: leave out currency signs and put the currency in its column`
    };
  return { error: `amount "${v}" is not a number (e.g. 12.50 or -3)` };
}

/** Cents × rate, rounded half away from zero to the cent (toPrecision strips binary noise first). */
export function convertCents(cents: number, rate: number): number {
  const exact = Number((Math.abs(cents) * rate).toPrecision(12));
  return Math.sign(cents) * Math.round(exact);
}

function hashKey(parts: (string | number | null)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u001f'))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Reads the treasurer's ledger, row by row: good rows become entries, each bad row one issue naming its
 * line and what is wrong. A row's key is a hash of the normalised row and how many identical rows came
 * before it, so re-importing the same books (even re-sorted) changes nothing, and two identical €5
 * donations on one day stay two.
 */
export function parseLedger(
  text: string,
  rates: Rates,
  fileLabel = 'ledger'
): { entries: FinanceEntry[]; issues: LedgerIssue[]; rows: number } {
  const { records, errors } = parseCsv(text);
  const issues: LedgerIssue[] = [...errors];
  const entries: FinanceEntry[] = [];
  const [header, ...rows] = records;
  if (!header) {
    issues.push({
      line: 1,
      message: `the file is empty: the first line must name the columns ${REQUIRED_COLUMNS.join(',')}`
    });
    return { entries, issues, rows: 0 };
  }
  const cols = header.fields.map((f) => f.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length > 0) {
    issues.push({
      line: header.line,
      message: `the header lacks ${missing.join(', ')}: the first line must name the columns ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(',')}`
    });
    return { entries, issues, rows: rows.length };
  }
  const at = (row: string[], name: string) => {
    const i = cols.indexOf(name);
    return i < 0 ? '' : (row[i] ?? '').trim();
  };
  const seen = new Map<string, number>();
  for (const { line, fields } of rows) {
    const problems: string[] = [];
    if (fields.length !== cols.length) {
      const hint = fields.length > cols.length ? ' (a value with a comma needs quotes: "ACME, Inc.")' : '';
      issues.push({
        line,
        message: `${fields.length} values, but the header names ${cols.length} columns${hint}`
      });
      continue;
    }
    const day = at(fields, 'date');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day))
      problems.push(`date "${day}" is not a date as YYYY-MM-DD (e.g. 2025-03-31)`);
    else if (!isCalendarDay(day)) problems.push(`date "${day}" is not a day of the calendar`);
    const amount = parseAmount(at(fields, 'amount'));
    if ('error' in amount) problems.push(amount.error);
    const currency = (at(fields, 'currency') || rates.base).toUpperCase();
    let rate: number | null = null;
    if (!/^[A-Z]{3}$/.test(currency))
      problems.push(`currency "${currency}" is not a 3-letter code such as EUR`);
    else if (/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      rate = rates.rateFor(currency, day);
      if (rate === null)
        problems.push(
          `no exchange rate for ${currency} on ${day}: add "${currency},<rate>,<valid_from>" to the rates file (FEDIPULSE_FX_RATES)`
        );
    }
    const category = at(fields, 'category').toLowerCase().replace(/\s+/g, '_');
    const dirRaw = at(fields, 'direction').toLowerCase();
    const given: Direction | null =
      dirRaw === ''
        ? null
        : dirRaw === 'income' || dirRaw === 'in'
          ? 'income'
          : dirRaw === 'expense' || dirRaw === 'out'
            ? 'expense'
            : null;
    if (dirRaw !== '' && given === null) problems.push(`direction "${dirRaw}" must be income or expense`);
    const known = knownDirection(category);
    let direction: Direction | null = known ?? given;
    if (category === '') problems.push('category is empty');
    else if (known && given && known !== 'opening' && known !== given) {
      problems.push(`category "${category}" is ${known}, but direction says ${given}`);
      direction = null;
    } else if (!direction && dirRaw === '')
      problems.push(
        `category "${category}" is not one fedipulse knows (income: ${INCOME_CATEGORIES.join(', ')}; expenses: ${EXPENSE_CATEGORIES.join(', ')}): use one of them, or fill the direction column`
      );
    if (problems.length > 0 || 'error' in amount || !direction || rate === null) {
      issues.push({ line, message: problems.join('; ') || 'row cannot be read' });
      continue;
    }
    const counterparty = at(fields, 'counterparty') || null;
    const note = at(fields, 'note') || null;
    const norm = [day, amount.cents, currency, direction, category, counterparty, note];
    const base = hashKey(norm);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    entries.push({
      key: `ledger:${base}:${n}`,
      source: 'ledger',
      day,
      direction,
      category,
      counterparty,
      note,
      currency,
      amountCents: amount.cents,
      fxRate: rate,
      baseCents: convertCents(amount.cents, rate),
      origin: `${fileLabel} line ${line}`
    });
  }
  return { entries, issues, rows: rows.length };
}
