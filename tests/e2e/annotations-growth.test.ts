import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staffBrowser } from '../helpers/browser.ts';
import type { Served } from '../../bench/pages.ts';

const SHOTS = path.resolve('test-results/screenshots');
let server: Served;
let context: BrowserContext;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ server, context, close } = await staffBrowser('fp-e2e-annotations-'));
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => close?.());

describe('growth annotations in a browser', () => {
  it('staff add a day and a period; both are drawn on the growth charts and listed', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${server.url}/growth?range=90d`, { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-metric="members"] .chart[data-drawn="true"]');
    const before = Number(await page.getAttribute('[data-metric="members"] .chart', 'data-annotations'));
    const json = await fetch(`${server.url}/data/growth/members.json?range=90d`, {
      headers: { cookie: server.staffCookie }
    });
    const last = ((await json.json()) as { range: { end: string } }).range.end;
    const day = (offset: number) =>
      new Date(Date.parse(`${last}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

    await page.getByRole('link', { name: 'Add or edit annotations' }).click();
    await page.waitForURL(/\/growth\/annotations/);
    const add = page.locator('form[action="?/add"]');
    await add.getByLabel('Day (or first day)').fill(day(-30));
    await add.getByLabel(/^Label/).fill('Registrations closed');
    await add.getByLabel(/^Note/).fill('Closed during the spam wave <b>not bold</b>');
    await add.getByRole('button', { name: 'Add annotation' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Annotation added.');
    await add.getByLabel('Day (or first day)').fill(day(-60));
    await add.getByLabel('Last day (optional, for a period)').fill(day(-50));
    await add.getByLabel(/^Label/).fill('Migration wave');
    await add.getByRole('button', { name: 'Add annotation' }).click();
    const list = page.locator('[data-annotations-list] tbody tr');
    await expect.poll(() => list.count()).toBe(2);
    expect(await list.allTextContents()).toEqual([
      expect.stringContaining('Migration wave'),
      expect.stringContaining('Registrations closed')
    ]);
    // A wrong date is refused with a message next to the field, and nothing is added.
    await add.getByLabel('Day (or first day)').fill(day(-10));
    await add.getByLabel('Last day (optional, for a period)').fill(day(-20));
    await add.getByLabel(/^Label/).fill('Backwards');
    await add.getByRole('button', { name: 'Add annotation' }).click();
    await expect.poll(() => page.locator('#add-end-err').textContent()).toContain('on or after the start');
    expect(await list.count()).toBe(2);
    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)
    ).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'growth-annotations.png'), fullPage: true });

    await page.getByRole('link', { name: 'Back to Growth' }).click();
    await page.waitForURL(/\/growth\?range=90d$/);
    await page.waitForSelector('[data-metric="members"] .chart[data-drawn="true"]');
    // The members and daily sign-ups charts draw both: a line for the day, a shaded box for the period.
    for (const key of ['members', 'new_users']) {
      const n = Number(await page.getAttribute(`[data-metric="${key}"] .chart`, 'data-annotations'));
      expect(n, key).toBeGreaterThanOrEqual(2);
    }
    expect(Number(await page.getAttribute('[data-metric="members"] .chart', 'data-annotations'))).toBe(
      before + 2
    );
    const events = page.locator('[data-metric="events"] table');
    await expect.poll(() => events.textContent()).toContain('Registrations closed');
    const text = (await events.textContent()) ?? '';
    expect(text).toContain('Migration wave');
    expect(text).toContain(day(-50));
    expect(text).toContain('<b>not bold</b>'); // shown as text, never as markup
    await page.screenshot({ path: path.join(SHOTS, 'growth-with-annotations.png'), fullPage: true });

    // Edit and delete from the list.
    await page.goto(`${server.url}/growth/annotations`, { waitUntil: 'networkidle' });
    const row = page.locator('[data-annotations-list] tbody tr', { hasText: 'Registrations closed' });
    await row.getByText('Edit').click();
    await row.getByLabel(/^Label/).fill('Registrations closed (board decision)');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => page.locator('[data-annotations-list]').textContent())
      .toContain('(board decision)');
    const wave = page.locator('[data-annotations-list] tbody tr', { hasText: 'Migration wave' });
    await wave.getByText('Edit').click();
    await wave.getByRole('button', { name: /^Delete/ }).click();
    await expect.poll(() => list.count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
