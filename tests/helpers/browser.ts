import { chromium, type BrowserContext } from 'playwright-core';

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
