import { parseCsv } from './csv.ts';

/** 1 unit of `currency` = `rate` units of the base currency, from `validFrom` (null: any date). */
export interface Rate {
  currency: string;
  rate: number;
  validFrom: string | null;
}

export interface RateIssue {
  line: number;
  message: string;
}

export class Rates {
  readonly base: string;
  private readonly byCurrency = new Map<string, Rate[]>();
  constructor(base: string, rates: Rate[]) {
    this.base = base;
    for (const r of rates) {
      const list = this.byCurrency.get(r.currency) ?? [];
      list.push(r);
      this.byCurrency.set(r.currency, list);
    }
    // Dated rates newest first; the undated one (a default) last.
    for (const list of this.byCurrency.values())
      list.sort((a, b) => (b.validFrom ?? '').localeCompare(a.validFrom ?? ''));
  }
  /** The rate in force on `day` (YYYY-MM-DD): the newest dated rate on or before it, else the undated one. */
  rateFor(currency: string, day: string): number | null {
    if (currency === this.base) return 1;
    for (const r of this.byCurrency.get(currency) ?? []) {
      if (r.validFrom === null || r.validFrom <= day) return r.rate;
    }
    return null;
  }
  currencies(): string[] {
    return [...this.byCurrency.keys()];
  }
}

const CURRENCY = /^[A-Z]{3}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function parseRate(raw: string): number | null {
  const v = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(v)) return null;
  const n = Number(v);
  return n > 0 ? n : null;
}

/**
 * The treasurer's rates: a CSV (currency,rate[,valid_from]) or inline `USD=0.92 GBP=1.17`.
 * Never looked up on the network: the books use the rates the treasurer used.
 */
export function parseRates(text: string, base: string): { rates: Rates; issues: RateIssue[] } {
  const issues: RateIssue[] = [];
  const rates: Rate[] = [];
  const trimmed = text.trim();
  if (trimmed && !trimmed.includes('\n') && /^[A-Za-z]{3}=/.test(trimmed)) {
    for (const part of trimmed.split(/[\s,;]+/).filter(Boolean)) {
      const [cur = '', value = ''] = part.split('=');
      const currency = cur.toUpperCase();
      const rate = parseRate(value);
      if (!CURRENCY.test(currency) || rate === null)
        issues.push({ line: 1, message: `"${part}" is not CURRENCY=RATE (e.g. USD=0.92)` });
      else rates.push({ currency, rate, validFrom: null });
    }
    return { rates: new Rates(base, rates), issues };
  }
  const { records, errors } = parseCsv(text);
  issues.push(...errors);
  const [header, ...rows] = records;
  if (!header) return { rates: new Rates(base, []), issues };
  const cols = header.fields.map((f) => f.trim().toLowerCase());
  const ci = cols.indexOf('currency');
  const ri = cols.indexOf('rate');
  const vi = cols.indexOf('valid_from');
  if (ci < 0 || ri < 0) {
    issues.push({
      line: header.line,
      message: 'the rates header must name currency and rate (and optionally valid_from)'
    });
    return { rates: new Rates(base, []), issues };
  }
  for (const row of rows) {
    const currency = (row.fields[ci] ?? '').trim().toUpperCase();
    const rate = parseRate(row.fields[ri] ?? '');
    const validFrom = vi >= 0 ? (row.fields[vi] ?? '').trim() || null : null;
    if (!CURRENCY.test(currency))
      issues.push({ line: row.line, message: `currency "${currency}" is not a 3-letter code` });
    else if (rate === null)
      issues.push({
        line: row.line,
        message: `rate "${(row.fields[ri] ?? '').trim()}" must be a number > 0, e.g. 0.92`
      });
    else if (validFrom !== null && !DAY.test(validFrom))
      issues.push({ line: row.line, message: `valid_from "${validFrom}" is not a date as YYYY-MM-DD` });
    else rates.push({ currency, rate, validFrom });
  }
  return { rates: new Rates(base, rates), issues };
}
