import { describe, expect, it } from 'vitest';
import { daysUntil, predict, theilSen } from '../../src/lib/server/queries/forecast.ts';
import { parseRange, rangeQuery } from '../../src/lib/components/range.ts';
import { formatValue, pickLocale } from '../../src/lib/components/format.ts';

describe('storage forecast', () => {
  it('fits the trend and ignores a cleanup that drops the line for a few days', () => {
    const pts: [number, number | null][] = Array.from({ length: 90 }, (_, x) => [x, 1000 + 10 * x]);
    for (const x of [40, 41, 42]) pts[x][1] = 200;
    pts[50][1] = null; // a gap
    const f = theilSen(pts)!;
    expect(f.slope).toBeCloseTo(10, 5);
    expect(predict(f, 100).y).toBeCloseTo(2000, 3);
    expect(daysUntil(f, 2890, 1890)).toBe(100);
  });

  it('has a band that widens with the horizon, and no full date when storage shrinks', () => {
    const pts: [number, number | null][] = Array.from({ length: 60 }, (_, x) => [x, 500 + 2 * x + (x % 3)]);
    const f = theilSen(pts)!;
    const near = predict(f, 61);
    const far = predict(f, 300);
    expect(far.hi - far.lo).toBeGreaterThan(near.hi - near.lo);
    const down = theilSen(Array.from({ length: 30 }, (_, x) => [x, 900 - x] as [number, number]))!;
    expect(daysUntil(down, 1000, 870)).toBeNull();
    expect(theilSen([[0, 1]])).toBeNull();
  });
});

describe('date range in the URL', () => {
  it('reads presets and comparisons, with previous period and previous year', () => {
    const r = parseRange(new URLSearchParams('range=7d&compare=year'), '2026-03-10', '2024-01-01');
    expect(r).toMatchObject({
      start: '2026-03-04',
      end: '2026-03-10',
      days: 7,
      cmp: { start: '2025-03-04', end: '2025-03-10' }
    });
    const p = parseRange(new URLSearchParams(''), '2026-03-10', '2024-01-01');
    expect(p).toMatchObject({
      preset: '30d',
      start: '2026-02-09',
      cmp: { start: '2026-01-10', end: '2026-02-08' }
    });
    const all = parseRange(new URLSearchParams('range=all&compare=none'), '2026-03-10', '2026-03-01');
    expect(all).toMatchObject({ start: '2026-03-01', days: 10, cmp: null });
    expect(parseRange(new URLSearchParams('range=bogus'), '2026-03-10', '2024-01-01').preset).toBe('30d');
    expect(rangeQuery('30d', 'previous')).toBe('');
    expect(rangeQuery('12mo', 'none')).toBe('?range=12mo&compare=none');
  });

  it('formats numbers in the reader’s locale', () => {
    expect(formatValue(1234567, 'count', 'de')).toBe('1.234.567');
    expect(formatValue(1.5e12, 'bytes', 'en')).toBe('1.5 TB');
    expect(formatValue(null, 'count', 'en')).toBe('–');
    expect(pickLocale('fr-CH, fr;q=0.9, en;q=0.8')).toBe('fr-CH');
    expect(pickLocale(null)).toBe('en');
  });
});
