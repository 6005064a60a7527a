import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { generateDataset, SMALL } from '../../bench/dataset.ts';
import { serve, type Served } from '../../bench/pages.ts';

/**
 * Debian's Chromium as the browser tests drive it: headless, as root (no sandbox), and without the
 * background traffic (updates, sync) that this machine's closed network refuses.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];

export function launchChromium(
  profileDir: string,
  opts: { extraArgs?: string[]; viewport?: { width: number; height: number }; locale?: string } = {}
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.FEDIPULSE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
    ...(opts.locale ? { locale: opts.locale } : {})
  });
}

export interface StaffBrowser {
  server: Served;
  context: BrowserContext;
  close(): Promise<void>;
}

/** A small generated dataset, the built dashboard on it, and a browser signed in as staff. */
export async function staffBrowser(prefix: string): Promise<StaffBrowser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'fp.duckdb');
  await generateDataset({ ...SMALL, file });
  const server = await serve(file, { buildDir: process.env.FEDIPULSE_BUILD_DIR, publicPages: false });
  const context = await launchChromium(path.join(dir, 'profile'), {
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB'
  });
  const [, value] = server.staffCookie.split(/=(.*)/s);
  await context.addCookies([{ name: 'fedipulse_session', value, url: server.url }]);
  return {
    server,
    context,
    close: async () => {
      await context.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
