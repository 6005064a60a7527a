import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staffBrowser } from '../helpers/browser.ts';
import { ALL_PAGES, type Served } from '../../bench/pages.ts';

const SHOTS = path.resolve('test-results/screenshots');
let server: Served;
let context: BrowserContext;
let close: () => Promise<void>;

const name = (p: string) => (p === '/' ? 'overview' : p.slice(1));

/** Every canvas on the page has drawn something: some pixel differs from the first one. */
async function canvasesDrawn(page: Page): Promise<{ total: number; blank: string[] }> {
  await page.waitForFunction(
    () => [...document.querySelectorAll('.chart')].every((c) => c.getAttribute('data-drawn') === 'true'),
    null,
    { timeout: 20_000 }
  );
  return page.evaluate(() => {
    const blank: string[] = [];
    const canvases = [...document.querySelectorAll('canvas')];
    for (const c of canvases) {
      const ctx = c.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let differs = false;
      for (let i = 4; i < data.length && !differs; i += 4)
        if (
          data[i] !== data[0] ||
          data[i + 1] !== data[1] ||
          data[i + 2] !== data[2] ||
          data[i + 3] !== data[3]
        )
          differs = true;
      if (!differs) blank.push(c.getAttribute('aria-label') ?? '?');
    }
    return { total: canvases.length, blank };
  });
}

beforeAll(async () => {
  ({ server, context, close } = await staffBrowser('fp-e2e-'));
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => close?.());

describe('dashboard pages in a browser', () => {
  for (const p of ALL_PAGES) {
    it(`${p} draws every chart, logs no errors and passes axe`, async () => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      const res = await page.goto(`${server.url}${p}`, { waitUntil: 'networkidle' });
      expect(res?.status()).toBe(200);
      const { total, blank } = await canvasesDrawn(page);
      if (p !== '/status') expect(total).toBeGreaterThan(0);
      expect(blank).toEqual([]);
      const axe = await new AxeBuilder({ page }).analyze();
      const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(
        serious.map(
          (v) =>
            `${v.id}: ${v.nodes
              .map((n) => n.target.join(' '))
              .slice(0, 3)
              .join(', ')}`
        )
      ).toEqual([]);
      await page.screenshot({ path: path.join(SHOTS, `${name(p)}.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('dark theme and phone width: the overview stays readable and every chart still draws', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/?range=90d&compare=year`, { waitUntil: 'networkidle' });
    await page.getByRole('button', { name: 'Dark' }).click();
    await page.waitForSelector('.app[data-theme="dark"]');
    expect(page.url()).toContain('range=90d');
    const { blank } = await canvasesDrawn(page);
    expect(blank).toEqual([]);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)
    ).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'overview-phone-dark.png'), fullPage: true });
    await page.close();
  });
});
