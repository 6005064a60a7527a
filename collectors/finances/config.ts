import path from 'node:path';

/** Finance settings, from the environment (docs/finances.md). Read apart from Config: only this collector needs them. */
export interface FinanceConfig {
  /** The treasurer's ledger CSV, or null. */
  ledgerPath: string | null;
  /** Exchange rates: a CSV path or inline `USD=0.92 GBP=1.17`, or null (everything in the base currency). */
  fxRates: string | null;
  baseCurrency: string;
  reserveMonths: number;
  storagePricePerGbMonth: number | null;
  openCollectiveUrl: string;
  openCollectiveSlug: string | null;
}

export const DEFAULT_OPENCOLLECTIVE_URL = 'https://api.opencollective.com/graphql/v2';

function positiveNumber(name: string, raw: string | undefined, fallback: number | null): number | null {
  const v = raw?.trim();
  if (!v) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} "${v}" must be a number ≥ 0`);
  return n;
}

export function loadFinanceConfig(env: NodeJS.ProcessEnv = process.env): FinanceConfig {
  const base = (env.FEDIPULSE_BASE_CURRENCY?.trim() || 'EUR').toUpperCase();
  if (!/^[A-Z]{3}$/.test(base))
    throw new Error(`FEDIPULSE_BASE_CURRENCY "${base}" must be a 3-letter code such as EUR`);
  const url = env.FEDIPULSE_OPENCOLLECTIVE_URL?.trim() || DEFAULT_OPENCOLLECTIVE_URL;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:') throw new Error('not https');
  } catch {
    throw new Error(`FEDIPULSE_OPENCOLLECTIVE_URL "${url}" must be an https:// URL`);
  }
  const ledger = env.FEDIPULSE_LEDGER?.trim();
  return {
    ledgerPath: ledger ? path.resolve(ledger) : null,
    fxRates: env.FEDIPULSE_FX_RATES?.trim() || null,
    baseCurrency: base,
    reserveMonths: positiveNumber('FEDIPULSE_RESERVE_MONTHS', env.FEDIPULSE_RESERVE_MONTHS, 6)!,
    storagePricePerGbMonth: positiveNumber(
      'FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH',
      env.FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH,
      null
    ),
    openCollectiveUrl: url,
    openCollectiveSlug: env.FEDIPULSE_OPENCOLLECTIVE_SLUG?.trim() || null
  };
}

/** The transparency report's finances section is published unless FEDIPULSE_PUBLISH_FINANCES is false. */
export function publishFinances(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.FEDIPULSE_PUBLISH_FINANCES?.trim().toLowerCase();
  return !(v === 'false' || v === '0' || v === 'no' || v === 'off');
}
