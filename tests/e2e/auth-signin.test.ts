import { rmSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import type { Sim } from '../../sim/index.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

/**
 * Sign-in as a person does it: the dashboard sends the browser to the simulated own server
 * (https://social.coop.example, mapped to the simulator), the person picks an account and authorises,
 * and comes back signed in, or refused with a clear page.
 */
let sim: Sim;
let dash: Dashboard;
let dir: string;
let context: BrowserContext;
const dialogs: string[] = [];

beforeAll(async () => {
  dir = tempDir('fp-e2e-auth-');
  sim = await startTrustedSim({ peers: 20 });
  const env = sim.env({
    FEDIPULSE_DB: path.join(dir, 'fedipulse.duckdb'),
    FEDIPULSE_TOKEN: sim.own.tokens.admin
  });
  expect((await runCollect(['instance', '--quiet'], env)).code).toBe(0);
  dash = await startDashboard({ ...env, FEDIPULSE_SESSION_SECRET: 'e2e-auth-secret-0123456789' });
  context = await launchChromium(path.join(dir, 'profile'), {
    extraArgs: [
      `--host-resolver-rules=MAP ${new URL(sim.ownUrl).hostname} 127.0.0.1:${sim.httpsPort}`,
      '--ignore-certificate-errors'
    ]
  });
  context.on('page', (p) => p.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss())));
});

afterAll(async () => {
  await context?.close();
  await dash?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** From a private page through the own server's authorisation page, as one account. */
async function signInAs(page: Page, username: string, from: string): Promise<void> {
  await page.goto(`${dash.url}${from}`);
  expect(new URL(page.url()).pathname).toBe('/auth/signin');
  await page.getByRole('button', { name: /Sign in with social\.coop\.example/ }).click();
  await page.waitForURL(/social\.coop\.example\/oauth\/authorize/);
  await expect(
    page.getByRole('heading', { name: /Sign in to social\.coop\.example/ }).isVisible()
  ).resolves.toBe(true);
  await page.getByLabel(new RegExp(`@${username}@`)).check();
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL((u) => u.origin === dash.url && !u.pathname.startsWith('/auth/callback'));
}

describe('signing in with the own Mastodon server', () => {
  it('an Owner signs in, sees the staff pages, signs out and is refused again', async () => {
    const page = await context.newPage();
    await signInAs(page, 'ada', '/?from=e2e');
    expect(page.url()).toBe(`${dash.url}/?from=e2e`);
    const cookies = await context.cookies(dash.url);
    const session = cookies.find((c) => c.name === 'fedipulse_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(session.expires).toBeGreaterThan(Date.now() / 1000);
    // document.cookie cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('fedipulse_session');

    for (const p of ['/', '/growth', '/retention', '/federation', '/moderation', '/capacity', '/status']) {
      const res = await page.goto(`${dash.url}${p}`);
      expect(new URL(page.url()).pathname, p).toBe(p);
      expect(res?.status(), p).not.toBe(401);
    }

    await page.goto(`${dash.url}/auth/signout`);
    await expect(page.getByText('@ada@social.coop.example').isVisible()).resolves.toBe(true);
    await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/auth\/signin\?signed_out=1/);
    await expect(page.getByText('You are signed out.').isVisible()).resolves.toBe(true);
    expect((await context.cookies(dash.url)).find((c) => c.name === 'fedipulse_session')).toBeUndefined();

    // The old cookie, put back by hand, is refused too (sign-out revokes the session).
    await context.addCookies([{ ...session }]);
    await page.goto(`${dash.url}/moderation`);
    expect(new URL(page.url()).pathname).toBe('/auth/signin');
    expect(new URL(page.url()).searchParams.get('return')).toBe('/moderation');
    await context.clearCookies();
    await page.close();
  });

  it('a Moderator is let in; a member without a staff role gets a clear refusal page', async () => {
    const page = await context.newPage();
    await signInAs(page, 'chidi', '/status');
    expect(new URL(page.url()).pathname).toBe('/status');
    await context.clearCookies();

    await signInAs(page, 'dana', '/growth');
    expect(new URL(page.url()).pathname).toBe('/auth/refused');
    await expect(
      page.getByRole('heading', { name: 'This account cannot see the staff pages' }).isVisible()
    ).resolves.toBe(true);
    await expect(page.getByText('@dana@social.coop.example').isVisible()).resolves.toBe(true);
    await expect(
      page
        .getByText(/role on our server may see its admin\s+dashboard/)
        .first()
        .isVisible()
    ).resolves.toBe(true);
    await page.goto(`${dash.url}/growth`);
    expect(new URL(page.url()).pathname).toBe('/auth/signin');
    await context.clearCookies();
    await page.close();
  });

  it('a role called "Admin" without the dashboard permission is refused; a renamed staff role is not', async () => {
    const page = await context.newPage();
    await signInAs(page, 'emil', '/capacity');
    expect(new URL(page.url()).pathname).toBe('/auth/refused');
    await expect(
      page.getByText('Your role, Admin, does not have that permission.').isVisible()
    ).resolves.toBe(true);
    await context.clearCookies();

    await signInAs(page, 'gwen', '/capacity');
    expect(new URL(page.url()).pathname).toBe('/capacity');
    await context.clearCookies();
    await page.close();
  });

  it('a display name with HTML and script is shown as text and runs nothing', async () => {
    const page = await context.newPage();
    await signInAs(page, 'mallory', '/');
    expect(new URL(page.url()).pathname).toBe('/auth/refused');
    const shown = await page.locator('.display-name').textContent();
    expect(shown).toBe('<img src=x onerror="alert(1)"><script>alert(2)</script>');
    expect(await page.locator('.refused img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await context.clearCookies();
    await page.close();
  });

  it('cancelling on the server brings the person back with an explanation', async () => {
    const page = await context.newPage();
    await page.goto(`${dash.url}/federation`);
    await page.getByRole('button', { name: /Sign in with/ }).click();
    await page.waitForURL(/oauth\/authorize/);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(/\/auth\/signin\?error=access_denied/);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/cancelled/);
    expect(new URL(page.url()).searchParams.get('return')).toBe('/federation');
    await page.close();
  });
});
