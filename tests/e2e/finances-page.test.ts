import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import { closeWriter, openWriter } from '../../collectors/store/database.ts';
import { upsertDailyValues, type DailyValue } from '../../collectors/store/metrics.ts';
import { newSession, seal } from '../../src/lib/server/auth/session.ts';
import { ROOT, runCollect, startDashboard, tempDir, type Dashboard } from '../helpers/index.ts';

const LEDGER = path.join(ROOT, 'sim', 'ledger', 'demo-ledger.csv');
const RATES = path.join(ROOT, 'sim', 'ledger', 'rates.csv');
const SECRET = 'finances-e2e-session-secret-0123456789';
const INSTANCE = 'social.coop.example';

/** Month-end balance and costs of 2026-10 from the CSV, the simple way (the page's "as of" month). */
function handFigures() {
  const usd = (day: string) =>
    day >= '2026-01-01' ? 0.87 : day >= '2025-01-01' ? 0.9 : day >= '2024-01-01' ? 0.92 : 0.93;
  let balance = 0;
  let octCost = 0;
  for (const line of readFileSync(LEDGER, 'utf8').trim().split('\n').slice(1)) {
    const [date, amount, currency, category] = line.split(',');
    if (date >= '2026-11-01') continue;
    const cents = Math.round(Math.round(Number(amount) * 100) * (currency === 'USD' ? usd(date) : 1));
    const income = ['dues', 'donation', 'grant', 'opening_balance'].includes(category);
    balance += income ? cents : -cents;
    if (!income && date.startsWith('2026-10')) octCost += cents;
  }
  return { balance: balance / 100, octCost: octCost / 100 };
}

describe('/finances in a browser', () => {
  let dashboard: Dashboard;
  let context: BrowserContext;
  const dir = tempDir('fedipulse-fin-e2e-');
  const dbPath = path.join(dir, 'f.duckdb');

  beforeAll(async () => {
    // Members, active users and storage as the instance collector records them.
    const values: DailyValue[] = [];
    for (let i = 0; i < 36; i++) {
      const d = new Date(Date.UTC(2023, 10 + i + 1, 0)).toISOString().slice(0, 10); // each month's last day
      values.push({ instance: INSTANCE, day: d, metric: 'user_count', value: 400 + 25 * i, source: 'test' });
      values.push({
        instance: INSTANCE,
        day: d,
        metric: 'active_month',
        value: 200 + 10 * i,
        source: 'test'
      });
    }
    for (let k = 0; k < 180; k++) {
      const day = new Date(Date.UTC(2026, 4, 1) + k * 86_400_000).toISOString().slice(0, 10);
      values.push({
        instance: INSTANCE,
        day,
        metric: 'storage_media_bytes',
        value: 400e9 + k * 0.8e9,
        source: 'test'
      });
      values.push({
        instance: INSTANCE,
        day,
        metric: 'storage_postgresql_bytes',
        value: 90e9 + k * 0.2e9,
        source: 'test'
      });
      values.push({ instance: INSTANCE, day, metric: 'storage_redis_bytes', value: 1e9, source: 'test' });
    }
    const db = await openWriter(dbPath, 'test');
    await upsertDailyValues(db, values, new Date());
    closeWriter(db);
    const r = await runCollect(['finances', '--quiet'], {
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_LEDGER: LEDGER,
      FEDIPULSE_FX_RATES: RATES,
      FEDIPULSE_RESERVE_MONTHS: '6',
      FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH: '0.02'
    });
    expect(r.code).toBe(0);
    dashboard = await startDashboard({
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_SESSION_SECRET: SECRET,
      FEDIPULSE_INSTANCE_URL: ''
    });
    context = await launchChromium(tempDir('fedipulse-fin-chromium-'), { locale: 'en-US' });
  });
  afterAll(async () => {
    await context?.close();
    await dashboard?.stop();
  });

  it('is for signed-in staff only', async () => {
    const res = await fetch(`${dashboard.url}/finances`, { redirect: 'manual' });
    expect([302, 303, 307]).toContain(res.status);
    expect(res.headers.get('location')).toMatch(/auth|sign/);
  });

  it('shows balance, runway, cost per active member, the charts and the storage projection', async () => {
    const user = {
      id: '1',
      acct: `treasurer@${INSTANCE}`,
      displayName: 'Treasurer',
      role: 'Admin',
      via: 'role' as const
    };
    const cookie = seal(Buffer.from(SECRET, 'utf8'), 'session', newSession(user, 3600));
    await context.addCookies([{ name: 'fedipulse_session', value: cookie, url: dashboard.url }]);
    const page = await context.newPage();
    const res = await page.goto(`${dashboard.url}/finances`);
    expect(res?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/finances');
    const { balance, octCost } = handFigures();
    const eur = (x: number, d = 0) =>
      new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency: 'EUR',
        minimumFractionDigits: d,
        maximumFractionDigits: d
      }).format(x);
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe(eur(balance));
    expect(await page.getByText('Balance at the end of 2026-10').count()).toBe(1);
    expect(await page.getByTestId('runway').textContent()).toMatch(/^\s*\d+(\.\d)? months\s*$/);
    expect(await page.getByTestId('runway-trend').textContent()).toMatch(/months over the last three months/);
    expect(await page.getByTestId('monthly-cost').textContent()).toBe(eur(octCost));
    const active = 200 + 10 * 35;
    expect(await page.getByTestId('cost-per-active').textContent()).toBe(
      `${eur(octCost / active, 2)} a month`
    );
    // 1 GB a day for a year at 0.02 EUR per GB a month: 7.30 EUR more a month.
    expect(await page.getByTestId('storage-projection').textContent()).toMatch(
      /storage costs\s+€7\.30 more per month in a year/
    );
    expect(await page.getByTestId('expense-categories').textContent()).toMatch(/moderation/);
    await expect.poll(() => page.locator('[data-drawn="true"]').count()).toBe(5);
    await page.close();
  });
});
