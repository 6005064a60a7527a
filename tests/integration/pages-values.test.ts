import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, SMALL } from '../../bench/dataset.ts';
import { serve, type Served } from '../../bench/pages.ts';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';

// Shown values against the same figures computed straight from the views of the snapshot being served.
const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-pages-'));
const file = path.join(dir, 'fp.duckdb');
let server: Served;
let db: Db;

const get = async (p: string, staff = true) =>
  fetch(`${server.url}${p}`, {
    headers: { cookie: staff ? server.staffCookie : '', 'accept-language': 'en' }
  });
const kpi = (html: string, key: string) => {
  const m = new RegExp(`data-kpi="${key}"[\\s\\S]*?data-value="([^"]*)"`).exec(html);
  return m ? Number(m[1]) : NaN;
};

beforeAll(async () => {
  await generateDataset({ ...SMALL, file });
  db = await openReadOnly(latestSnapshot(file)!);
  server = await serve(file, { buildDir: process.env.FEDIPULSE_BUILD_DIR });
});
afterAll(async () => {
  await server?.stop();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pages show the numbers in the views', () => {
  it('overview KPI cards match daily_metrics, reports and federation_daily for the default 30 days', async () => {
    const html = await (await get('/')).text();
    const last = (await db.one<{ d: string }>(`SELECT CAST(max(day) AS VARCHAR) AS d FROM daily_metrics`))!.d;
    const sum = async (metric: string) =>
      (await db.one<{ v: number }>(
        `SELECT sum(value) AS v FROM daily_metrics WHERE metric = $1 AND day > $2::DATE - INTERVAL 30 DAY AND day <= $2::DATE`,
        [metric, last]
      ))!.v;
    const members = (await db.one<{ v: number }>(
      `SELECT value AS v FROM daily_metrics WHERE metric = 'user_count' AND day = $1::DATE`,
      [last]
    ))!.v;
    expect(kpi(html, 'members')).toBe(members);
    expect(kpi(html, 'signups')).toBe(await sum('new_users'));
    expect(kpi(html, 'reports_opened')).toBe(await sum('opened_reports'));
    const reach = (await db.one<{ v: number }>(
      `SELECT peers_reachable AS v FROM federation_daily ORDER BY day DESC LIMIT 1`
    ))!.v;
    expect(kpi(html, 'peers_reachable')).toBe(reach);
    const p50 = (await db.one<{ v: number }>(
      `SELECT quantile_cont(epoch(resolved_at - created_at) / 3600, 0.5) AS v FROM reports
       WHERE resolved_at >= $1::DATE - INTERVAL 29 DAY AND resolved_at < $1::DATE + INTERVAL 1 DAY`,
      [last]
    ))!.v;
    expect(kpi(html, 'resolve_p50')).toBeCloseTo(p50, 6);
    // Numbers are in the HTML before any script runs, in the reader's locale.
    expect(html).toContain(members.toLocaleString('en'));
    expect(html).toContain('Simulated data.');
  });

  it('exports carry the same rows as the views: backlog and peers', async () => {
    const csv = await (await get('/data/moderation/backlog.csv?range=7d')).text();
    const lastRow = csv.trim().split('\r\n').at(-1)!.split(',');
    const open = (await db.one<{ n: number }>(
      `SELECT count(*) AS n FROM reports WHERE created_at < $1::DATE + INTERVAL 1 DAY
       AND (resolved_at IS NULL OR resolved_at >= $1::DATE + INTERVAL 1 DAY)`,
      [lastRow[0]]
    ))!.n;
    expect(Number(lastRow[1])).toBe(open);
    const json = (await (await get('/data/federation/peers.json?range=90d')).json()) as {
      rows: { day: string; known: number | null }[];
    };
    const fed = await db.all<{ day: string; known: number }>(
      `SELECT CAST(day AS VARCHAR) AS day, peers_known AS known FROM federation_daily`
    );
    for (const f of fed) expect(json.rows.find((r) => r.day === f.day)?.known).toBe(f.known);
    // Days without a crawl stay empty (gaps), not zero.
    expect(json.rows.filter((r) => r.known === null).length).toBe(90 - fed.length);
  });

  it('the list of peers limiting us is for signed-in staff only', async () => {
    const staff = await (await get('/federation')).text();
    const names = await db.all<{ d: string }>(`SELECT peer_domain AS d FROM peers_limiting_us`);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(staff).toContain(n.d);
    expect((await get('/data/federation/limiting_us_list.json', false)).status).toBeGreaterThanOrEqual(401);
  });

  it('capacity shows days until the configured disk is full', async () => {
    const html = await (await get('/capacity')).text();
    expect(Number(/data-days-to-full="(\d+)"/.exec(html)?.[1])).toBeGreaterThan(0);
  });
});
