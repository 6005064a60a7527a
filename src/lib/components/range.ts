/** Date range presets and comparisons, shared by the server (parsing) and the range picker (links). */
export const PRESETS = [
  { key: '7d', label: '7 days', days: 7 },
  { key: '30d', label: '30 days', days: 30 },
  { key: '90d', label: '90 days', days: 90 },
  { key: '12mo', label: '12 months', days: 365 },
  { key: 'all', label: 'All time', days: 0 }
] as const;
export type PresetKey = (typeof PRESETS)[number]['key'];

export const COMPARES = [
  { key: 'previous', label: 'Previous period' },
  { key: 'year', label: 'Previous year' },
  { key: 'none', label: 'No comparison' }
] as const;
export type CompareKey = (typeof COMPARES)[number]['key'];

export const DEFAULT_PRESET: PresetKey = '30d';
export const DEFAULT_COMPARE: CompareKey = 'previous';

/** The range of days a page shows (inclusive, YYYY-MM-DD) and the one it is compared with. */
export interface Range {
  preset: PresetKey;
  compare: CompareKey;
  start: string;
  end: string;
  days: number;
  cmp: { start: string; end: string } | null;
}

const DAY = 86_400_000;
const toMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const toDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (d: string, n: number) => toDay(toMs(d) + n * DAY);
export const daysBetween = (a: string, b: string) => Math.round((toMs(b) - toMs(a)) / DAY);

function minusYear(d: string): string {
  const t = new Date(toMs(d));
  t.setUTCFullYear(t.getUTCFullYear() - 1);
  return toDay(t.getTime());
}

/** Reads ?range= and ?compare= (unknown values fall back to the defaults); `end` is the newest data day. */
export function parseRange(params: URLSearchParams, end: string, first: string): Range {
  const preset = (PRESETS.find((p) => p.key === params.get('range'))?.key ?? DEFAULT_PRESET) as PresetKey;
  const compare = (COMPARES.find((c) => c.key === params.get('compare'))?.key ??
    DEFAULT_COMPARE) as CompareKey;
  const days =
    preset === 'all' ? Math.max(1, daysBetween(first, end) + 1) : PRESETS.find((p) => p.key === preset)!.days;
  const start = addDays(end, -(days - 1));
  const cmp =
    compare === 'none'
      ? null
      : compare === 'year'
        ? { start: minusYear(start), end: minusYear(end) }
        : { start: addDays(start, -days), end: addDays(start, -1) };
  return { preset, compare, start, end, days, cmp };
}

/** The query string for a range, keeping defaults out of the URL so that links stay short. */
export function rangeQuery(preset: string, compare: string): string {
  const q = new URLSearchParams();
  if (preset !== DEFAULT_PRESET) q.set('range', preset);
  if (compare !== DEFAULT_COMPARE) q.set('compare', compare);
  const s = q.toString();
  return s ? `?${s}` : '';
}
