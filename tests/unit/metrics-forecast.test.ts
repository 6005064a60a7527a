import { describe, expect, it } from 'vitest';
import {
  daysUntil,
  parseSize,
  parseVolumes,
  predict,
  theilSen,
  volumeStatus,
  volumesFromEnv
} from '../../src/lib/server/queries/forecast.ts';
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

describe('volumes: which stores share a disk or bucket (FEDIPULSE_VOLUMES)', () => {
  it('reads names, components and sizes in decimal and binary units', () => {
    expect(parseVolumes('db=postgresql,search:400GB; media=media:2TB')).toEqual([
      { name: 'db', components: ['postgresql', 'search'], bytes: 400e9 },
      { name: 'media', components: ['media'], bytes: 2e12 }
    ]);
    expect(parseVolumes(' bucket = media ')).toEqual([
      { name: 'bucket', components: ['media'], bytes: null }
    ]);
    expect(parseSize('1.5TiB')).toBe(1.5 * 2 ** 40);
    expect(parseSize('123456')).toBe(123456);
  });

  it('refuses Redis (RAM), unknown stores, a store on two volumes and sizes it cannot read', () => {
    expect(() => parseVolumes('db=postgresql,redis:10GB')).toThrow(/Redis is measured as memory/);
    expect(() => parseVolumes('db=postgres')).toThrow(/unknown component "postgres"/);
    expect(() => parseVolumes('a=media; b=media')).toThrow(/media is on both "a" and "b"/);
    expect(() => parseVolumes('a=media:lots')).toThrow(/volume "a".*not a size/);
    expect(() => parseVolumes('a=media; a=search')).toThrow(/named twice/);
  });

  it('keeps FEDIPULSE_DISK_BYTES as one disk of PostgreSQL, search and media, and refuses both settings at once', () => {
    expect(volumesFromEnv({ FEDIPULSE_DISK_BYTES: '2_000_000_000_000' })).toEqual([
      { name: 'disk', components: ['postgresql', 'search', 'media'], bytes: 2e12 }
    ]);
    expect(volumesFromEnv({})).toEqual([]);
    expect(() => volumesFromEnv({ FEDIPULSE_DISK_BYTES: '1', FEDIPULSE_VOLUMES: 'a=media' })).toThrow(
      /not both/
    );
    expect(() => volumesFromEnv({ FEDIPULSE_DISK_BYTES: 'lots' })).toThrow(/FEDIPULSE_DISK_BYTES/);
  });

  it('days until full per volume: its own components only, never Redis, and none without a size', () => {
    // 30 days: PostgreSQL grows 1 GB a day from 100 GB, media 10 GB a day from 500 GB, Redis wildly.
    const days = Array.from({ length: 30 }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}`);
    const series = (f: (i: number) => number) => new Map(days.map((d, i) => [d, f(i)]));
    const values = new Map([
      ['storage_postgresql_bytes', series((i) => 100e9 + i * 1e9)],
      ['storage_media_bytes', series((i) => 500e9 + i * 10e9)],
      ['storage_redis_bytes', series((i) => (i % 2 ? 1e12 : 1e6))]
    ]);
    const [db, media, bucket] = [
      volumeStatus({ name: 'db', components: ['postgresql', 'search'], bytes: 200e9 }, days, values),
      volumeStatus({ name: 'media', components: ['media'], bytes: 1000e9 }, days, values),
      volumeStatus({ name: 'bucket', components: ['media'], bytes: null }, days, values)
    ];
    // db: 129 GB on day 30 (search not reported, so not waited for), 1 GB a day: 200 GB in 71 days.
    expect(db).toMatchObject({ used: 129e9, reported: ['postgresql'], daysToFull: 71, fullOn: '2026-04-11' });
    expect(db.slope).toBeCloseTo(1e9, 0);
    // media: 790 GB, 10 GB a day: 1000 GB in 21 days.
    expect(media).toMatchObject({ used: 790e9, daysToFull: 21, fullOn: '2026-02-20' });
    expect(bucket).toMatchObject({ used: 790e9, daysToFull: null, fullOn: null });
  });

  it('a day missing a component the server reports is a gap, not a drop', () => {
    const days = Array.from({ length: 20 }, (_, i) => `2026-02-${String(i + 1).padStart(2, '0')}`);
    const pg = new Map(days.map((d, i) => [d, 1000 + i * 10]));
    const search = new Map(days.slice(0, 19).map((d, i) => [d, 500 + i * 5]));
    const s = volumeStatus(
      { name: 'db', components: ['postgresql', 'search'], bytes: 10_000 },
      days,
      new Map([
        ['storage_postgresql_bytes', pg],
        ['storage_search_bytes', search]
      ])
    );
    // Day 20 has no search figure: the last whole day is the 19th, 1180 + 590.
    expect(s).toMatchObject({ lastDay: '2026-02-19', used: 1770, reported: ['postgresql', 'search'] });
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
