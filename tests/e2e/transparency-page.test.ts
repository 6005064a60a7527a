import { rmSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import type { Sim } from '../../sim/index.ts';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { closedPeriods, latestClosed } from '../../src/lib/server/transparency/period.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';
import { Reader, type ReportJson } from '../helpers/transparency-attack.ts';

/**
 * The latest closed quarter of a simulated server, in a browser, against numbers computed here straight
 * from the stable views (independently of the report's own queries), with k = 5.
 */
const K = 5;
let sim: Sim;
let dash: Dashboard;
let dir: string;
let context: BrowserContext;
let db: Db;
const quarter = latestClosed('quarter', new Date());
const start = `${quarter.start}T00:00:00Z`;
const end = `${quarter.end}T00:00:00Z`;

beforeAll(async () => {
  dir = tempDir('fp-e2e-transparency-');
  sim = await startTrustedSim({ peers: 50 });
  const dbPath = path.join(dir, 'fedipulse.duckdb');
  const env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
  expect((await runCollect(['all', '--quiet'], env)).code).toBe(0);
  db = await openReadOnly(latestSnapshot(dbPath)!);
  dash = await startDashboard({ ...env, FEDIPULSE_MIN_COUNT: String(K) });
  context = await launchChromium(path.join(dir, 'profile'));
});

afterAll(async () => {
  await context?.close();
  db?.close();
  await dash?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Num {
  value: number | null;
  suppressed: boolean;
  reason?: string;
}
/**
 * Expected text of a count on the page: a small count is "fewer than k"; any other count is itself, unless
 * the report hid it so that a small one cannot be worked out (reason "complementary", "not shown*").
 */
const shown = (n: number | null, published: Num) =>
  n === null
    ? '—'
    : n > 0 && n < K
      ? `fewer than ${K}`
      : published.reason === 'complementary'
        ? 'not shown*'
        : n.toLocaleString('en-GB');
/** The same for the JSON: the views' number, or null with the flag and why — never 0 for a hidden number. */
const asJson = (n: number | null, published: Num) =>
  n === null
    ? { value: null, suppressed: false }
    : n > 0 && n < K
      ? { value: null, suppressed: true, reason: 'small' }
      : published.suppressed
        ? { value: null, suppressed: true, reason: 'complementary' }
        : { value: n, suppressed: false };

async function fromViews() {
  const n = async (sql: string, params: string[] = []) =>
    Number((await db.one<{ n: number }>(sql, params))?.n ?? 0);
  const inQ = `created_at >= CAST($1 AS TIMESTAMPTZ) AND created_at < CAST($2 AS TIMESTAMPTZ)`;
  const last = await db.one<{ v: number }>(
    `SELECT value AS v FROM daily_metrics WHERE metric = 'user_count' AND day BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE) ORDER BY day DESC LIMIT 1`,
    [quarter.start, quarter.last]
  );
  return {
    members: last ? Number(last.v) : null,
    received: await n(`SELECT count(*) AS n FROM reports WHERE ${inQ}`, [start, end]),
    local: await n(`SELECT count(*) AS n FROM reports WHERE ${inQ} AND target_origin = 'local'`, [
      start,
      end
    ]),
    remote: await n(`SELECT count(*) AS n FROM reports WHERE ${inQ} AND target_origin = 'remote'`, [
      start,
      end
    ]),
    handled: await n(
      `SELECT count(*) AS n FROM reports WHERE resolved_at >= CAST($1 AS TIMESTAMPTZ) AND resolved_at < CAST($2 AS TIMESTAMPTZ)`,
      [start, end]
    ),
    spam: await n(`SELECT count(*) AS n FROM reports WHERE ${inQ} AND category = 'spam'`, [start, end]),
    rules: await n(
      `SELECT count(*) AS n FROM instance_rules WHERE first_seen_at < CAST($1 AS TIMESTAMPTZ) AND (removed_at IS NULL OR removed_at >= CAST($1 AS TIMESTAMPTZ))`,
      [end]
    ),
    limiting: await n(
      `SELECT count(*) AS n FROM peers_limiting_us WHERE first_seen_at < CAST($2 AS TIMESTAMPTZ) AND last_seen_at >= CAST($1 AS TIMESTAMPTZ)`,
      [start, end]
    ),
    days: await n(
      `SELECT count(DISTINCT day) AS n FROM daily_metrics WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)`,
      [quarter.start, quarter.end]
    )
  };
}

describe(`transparency report for ${quarter.id}`, () => {
  it('page, JSON and CSV match the views, and no count from 1 to k−1 appears', async () => {
    const want = await fromViews();
    const json = await (await fetch(`${dash.url}/transparency/${quarter.id}.json`)).json();
    const page = await context.newPage();
    const res = await page.goto(`${dash.url}/transparency`);
    expect(res?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(quarter.label);
    const cell = (m: string) =>
      page
        .locator(`[data-metric="${m}"]`)
        .first()
        .textContent()
        .then((t) => t?.trim());
    expect(await cell('members.total')).toBe(shown(want.members, json.members.total));
    expect(await cell('reports.received')).toBe(shown(want.received, json.reports.received));
    const local = await cell('reports.about_local_accounts');
    if (want.local > 0 && want.local < K) expect(local).toBe(`fewer than ${K}`);
    expect(await cell('reports.handled')).toBe(shown(want.handled, json.reports.handled));
    expect(await cell('federation.peers_limiting_us')).toBe(
      shown(want.limiting, json.federation.peers_limiting_us)
    );
    expect(await page.locator('ol.rules li').count()).toBe(want.rules);
    expect(await page.locator('.coverage').textContent()).toContain(
      `data on ${want.days} of ${quarter.days} days`
    );

    // No cell shows a count from 1 to k−1.
    const cells = await page
      .locator('[data-metric]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-metric') ?? '', e.textContent ?? '']));
    for (const [metric, text] of cells) {
      if (/share|median|coverage|_change/.test(metric)) continue; // a change is no group of people
      for (const num of text.replace(/fewer than \d+/, '').match(/\d[\d,]*/g) ?? []) {
        const v = Number(num.replace(/,/g, ''));
        expect(v > 0 && v < K, `${metric}: ${text}`).toBe(false);
      }
    }

    expect(json.members.total).toEqual(asJson(want.members, json.members.total));
    expect(json.reports.received).toEqual(asJson(want.received, json.reports.received));
    expect(json.reports.handled).toEqual(asJson(want.handled, json.reports.handled));
    expect(json.federation.peers_limiting_us).toEqual(
      asJson(want.limiting, json.federation.peers_limiting_us)
    );
    expect(json.rules).toHaveLength(want.rules);
    expect(json.coverage.days_with_data).toBe(want.days);
    if (want.received >= K) {
      const spam = json.reports.by_category.find((c: { category: string }) => c.category === 'spam').count;
      if (!spam.suppressed) expect(spam.value).toBe(want.spam);
      if (!json.reports.about_local_accounts.suppressed)
        expect(json.reports.about_local_accounts.value).toBe(want.local);
      if (!json.reports.about_remote_accounts.suppressed)
        expect(json.reports.about_remote_accounts.value).toBe(want.remote);
    }
    const walk = (v: unknown, p: string): void => {
      if (v && typeof v === 'object' && 'suppressed' in v && 'value' in v) {
        const { value } = v as { value: number | null };
        if (value !== null && !/share|median|_change/.test(p)) expect(value > 0 && value < K, p).toBe(false);
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${p}.${k}`);
    };
    walk(json, '');

    const csv = await (await fetch(`${dash.url}/transparency/${quarter.id}.csv`)).text();
    const rows = csv
      .trim()
      .split('\r\n')
      .map((r) => r.split(','));
    const header = rows[0];
    const vi = header.indexOf('value');
    const row = (metric: string) => rows.find((r) => r[2] === 'reports' && r[3] === metric)!;
    expect(row('received')[vi]).toBe(json.reports.received.suppressed ? '' : String(want.received));
    for (const r of rows.slice(1)) {
      if (/share|median|_change/.test(r[3]) || r[2] === 'coverage' || r[vi] === '') continue;
      const v = Number(r[vi]);
      expect(v > 0 && v < K, r.join(',')).toBe(false);
    }
    await page.close();
  });

  it('a reader with every period’s JSON and CSV cannot work out any hidden number', async () => {
    const first = await db.one<{ day: string }>(
      `SELECT strftime(least((SELECT min(day) FROM daily_metrics), (SELECT min(timezone('UTC', created_at))::DATE FROM reports)), '%Y-%m-%d') AS day`
    );
    const from = new Date(`${first!.day}T00:00:00Z`);
    const periods = (['month', 'quarter', 'year'] as const).flatMap((kind) =>
      closedPeriods(kind, from, new Date())
    );
    const reader = new Reader();
    for (const p of periods) {
      const json = (await (await fetch(`${dash.url}/transparency/${p.id}.json`)).json()) as ReportJson;
      reader.readJson(json);
      reader.readCsv(await (await fetch(`${dash.url}/transparency/${p.id}.csv`)).text());
    }
    expect(reader.problems).toEqual([]);
    expect(reader.suppressed.size).toBeGreaterThan(0); // the simulated co-op has small counts to protect
    expect(reader.solve()).toEqual([]);
  });

  it('prints cleanly: the picker is hidden in print', async () => {
    const page = await context.newPage();
    await page.goto(`${dash.url}/transparency/${quarter.id}`);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('form.picker').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });
    expect(await page.locator('form.picker').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await page.close();
  });

  it('the open quarter is not published', async () => {
    const page = await context.newPage();
    const open = latestClosed('quarter', new Date(Date.parse(quarter.end) + 100 * 86_400_000));
    const res = await page.goto(`${dash.url}/transparency/${open.id}`);
    expect(res?.status()).toBe(404);
    await expect(page.textContent('body')).resolves.toMatch(/not over yet/);
    await page.close();
  });
});
