/**
 * Storage proven against the simulator's own model (sim/own-server/dashboard.ts spaceUsage: what the
 * server's PostgreSQL, Elasticsearch, media and Redis hold at any moment), collected by the real
 * collectors and read back through /data/capacity/<metric>.json, the overview and the disk alert.
 *
 * The window spans the co-op's upgrade to Mastodon 4.3.0 (2024-10-14, sim/own-server/versions.ts), the
 * release whose space_usage dimension first reports `search`. Every stored figure is exact (the server's
 * answer at the 06:00 UTC collection); the forecasts are checked against Theil–Sen worked out here on the
 * model's own series: the median of all pairwise slopes, and the median of the residuals as intercept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../../bench/pages.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { spaceUsage } from '../../sim/own-server/dashboard.ts';
import { atLeast, stackAt } from '../../sim/own-server/versions.ts';
import { alertConfig, currentAlerts } from '../../src/lib/server/alerts/index.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

const DAY = 86_400_000;
const HOOK = 300_000;
const END = Date.UTC(2024, 9, 31);
const DAYS = 24;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type Row = Record<string, number | string | null>;
type Rows = { rows: Row[] };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Theil–Sen by its definition, every pair (the series here are short). */
function theilSenByHand(pts: [number, number][]) {
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++)
    for (let j = i + 1; j < pts.length; j++) slopes.push((pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0]));
  const slope = median(slopes);
  return { slope, intercept: median(pts.map(([x, y]) => y - slope * x)) };
}

describe('capacity against the simulator: each store, its forecast, and days until each volume is full', () => {
  let t: Truth;
  let served: Served;
  /** The model's space_usage at each collection. */
  let model: { day: string; at: number; s: ReturnType<typeof spaceUsage>; search: boolean }[];
  let dbSize: number;
  let expectDbDays: number;
  const get = (p: string) =>
    fetch(`${served.url}${p}`, { headers: { cookie: served.staffCookie, 'accept-language': 'en' } });
  const json = async (p: string) => (await (await get(p)).json()) as Rows;

  // The db volume's use: PostgreSQL + search, on the days Mastodon reports search (from 4.3.0).
  const dbSeries = () =>
    model.flatMap((m, i) => (m.search ? [[i, m.s.postgresql + m.s.search] as [number, number]] : []));

  beforeAll(async () => {
    t = await collectFromSim({ days: DAYS, end: END, kindOf: () => 'instance', serve: false });
    const w = t.world();
    model = t.times.map((at) => ({
      day: iso(at),
      at,
      s: spaceUsage(w, at),
      search: atLeast(stackAt(at).mastodon, '4.3')
    }));
    // A size the db volume reaches in about 45 days at its pace, worked out by hand from the model.
    const series = dbSeries();
    const fit = theilSenByHand(series);
    const [lastX, lastY] = series[series.length - 1];
    dbSize = Math.round(lastY + 45 * fit.slope);
    expectDbDays = Math.ceil((dbSize - fit.intercept) / fit.slope - lastX);
    served = await serve(t.file, {
      buildDir: process.env.FEDIPULSE_BUILD_DIR,
      env: {
        FEDIPULSE_DISK_BYTES: '',
        FEDIPULSE_VOLUMES: `db=postgresql,search:${dbSize}; files=media`
      }
    });
  }, HOOK);
  afterAll(async () => {
    await served?.stop();
    await t?.stop();
  });

  it('stores PostgreSQL, media and Redis every day, and search from the 4.3.0 upgrade on, as the server reported them', async () => {
    expect(model.filter((m) => m.search).length).toBeGreaterThanOrEqual(14);
    expect(model.filter((m) => !m.search).length).toBeGreaterThan(0); // the window starts on 4.2
    for (const [key, pick] of [
      ['postgresql', (m: (typeof model)[number]) => m.s.postgresql],
      ['media', (m: (typeof model)[number]) => m.s.media],
      ['redis', (m: (typeof model)[number]) => m.s.redis],
      ['search', (m: (typeof model)[number]) => (m.search ? m.s.search : null)]
    ] as const) {
      const rows = new Map((await json(`/data/capacity/storage_${key}.json`)).rows.map((r) => [r.day, r]));
      for (const m of model) expect(rows.get(m.day)?.actual ?? null, `${key} on ${m.day}`).toBe(pick(m));
    }
  });

  it('the stacked chart holds PostgreSQL, search and media, never Redis (memory, not storage)', async () => {
    const rows = new Map((await json('/data/capacity/storage_total.json')).rows.map((r) => [r.day, r]));
    const last = model[model.length - 1];
    expect(rows.get(last.day)).toEqual({
      day: last.day,
      postgresql: last.s.postgresql,
      search: last.s.search,
      media: last.s.media
    });
  });

  it('forecasts each store on its own: the Theil–Sen line worked out by hand on the model’s series', async () => {
    for (const key of ['postgresql', 'media', 'search'] as const) {
      const pts = model.flatMap((m, i) =>
        key !== 'search' || m.search ? [[i, m.s[key]] as [number, number]] : []
      );
      const fit = theilSenByHand(pts);
      const rows = (await json(`/data/capacity/storage_${key}.json`)).rows;
      // 30 days past the last collection day: x = DAYS - 1 + 30 on the model's day index.
      const target = iso(END + 30 * DAY);
      const f = rows.find((r) => r.day === target)!;
      const want = Math.max(0, fit.intercept + fit.slope * (DAYS - 1 + 30));
      expect(Math.abs((f.forecast as number) - want), `${key} forecast on ${target}`).toBeLessThan(
        want * 1e-9 + 1
      );
      expect(f.low as number).toBeLessThan(f.forecast as number);
      expect(f.high as number).toBeGreaterThan(f.forecast as number);
    }
  });

  it('days until full is per volume: the db volume by hand, none for a bucket without a size, Redis on none', async () => {
    const rows = (await json('/data/capacity/storage_volumes.json')).rows;
    const last = model[model.length - 1];
    const db = rows.find((r) => r.volume === 'db')!;
    expect(db.used).toBe(last.s.postgresql + last.s.search);
    expect(db.size).toBe(dbSize);
    expect(expectDbDays).toBeGreaterThan(30);
    expect(db.days_to_full).toBe(expectDbDays);
    expect(db.full_on).toBe(iso(END + expectDbDays * DAY));
    const files = rows.find((r) => r.volume === 'files')!;
    expect(files).toMatchObject({ used: last.s.media, size: null, days_to_full: null, full_on: null });
    expect(JSON.stringify(rows)).not.toMatch(/redis/i);
    // The capacity page shows the same date, and the overview takes the soonest volume.
    const html = await (await get('/capacity')).text();
    expect(html).toContain(`data-days-to-full="${expectDbDays}"`);
    const overview = await (await get('/')).text();
    const kpi = /data-kpi="days_to_full"[\s\S]*?data-value="([^"]*)"/.exec(overview)?.[1];
    expect(Number(kpi)).toBe(expectDbDays);
  });

  it('the disk alert uses the same rule, per volume', async () => {
    const db = await openReadOnly(latestSnapshot(t.file)!);
    try {
      const config = alertConfig({
        FEDIPULSE_VOLUMES: `db=postgresql,search:${dbSize}; files=media`,
        FEDIPULSE_DISK_WARN_DAYS: String(expectDbDays)
      });
      const alerts = (await currentAlerts(db, new Date(t.times[t.times.length - 1]), config)).filter(
        (a) => a.kind === 'disk_full'
      );
      expect(alerts.map((a) => a.key)).toEqual([`disk_full:${t.sim.own.domain}:db`]);
      expect(alerts[0].fields).toMatchObject({
        volume: 'db',
        days_left: expectDbDays,
        capacity_bytes: dbSize
      });
    } finally {
      db.close();
    }
  });
});
