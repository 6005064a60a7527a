/** Locale-aware formatting of metric values, the same on the server and in the browser. */
export type Unit = 'count' | 'bytes' | 'percent' | 'hours' | 'days' | 'ratio' | 'date' | 'text';

const cache = new Map<string, Intl.NumberFormat>();
function nf(locale: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, opts);
    } catch {
      f = new Intl.NumberFormat('en', opts);
    }
    cache.set(key, f);
  }
  return f;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function formatValue(v: number | string | null | undefined, unit: Unit, locale: string): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '–';
  if (typeof v === 'string') return v;
  switch (unit) {
    case 'bytes': {
      let i = 0;
      let x = Math.abs(v);
      while (x >= 1000 && i < BYTE_UNITS.length - 1) {
        x /= 1000;
        i++;
      }
      return `${nf(locale, { maximumFractionDigits: x < 10 ? 1 : 0 }).format(Math.sign(v) * x)} ${BYTE_UNITS[i]}`;
    }
    case 'percent':
      return nf(locale, { style: 'percent', maximumFractionDigits: 1 }).format(v);
    case 'hours':
      return v < 48
        ? `${nf(locale, { maximumFractionDigits: 1 }).format(v)} h`
        : `${nf(locale, { maximumFractionDigits: 1 }).format(v / 24)} d`;
    case 'days':
      return `${nf(locale, { maximumFractionDigits: 0 }).format(v)} d`;
    case 'ratio':
      return nf(locale, { maximumFractionDigits: 2 }).format(v);
    default:
      return nf(locale, { maximumFractionDigits: Math.abs(v) < 10 && !Number.isInteger(v) ? 1 : 0 }).format(
        v
      );
  }
}

/** "+12.5 %" style change between two values, or null when there is nothing to compare with. */
export function change(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return (current - previous) / Math.abs(previous);
}

export function formatChange(c: number | null, locale: string): string {
  if (c === null) return '–';
  return nf(locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(c);
}

/** The first supported locale from an Accept-Language header. */
export function pickLocale(header: string | null): string {
  for (const part of (header ?? '').split(',')) {
    const tag = part.split(';')[0].trim();
    if (!tag || tag === '*') continue;
    try {
      return Intl.getCanonicalLocales(tag)[0];
    } catch {
      /* not a locale tag: try the next */
    }
  }
  return 'en';
}
