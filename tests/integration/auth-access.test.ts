import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { newSession, seal } from '../../src/lib/server/auth/session.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

const SECRET = 'access-test-secret-0123456789';
const METRICS_TOKEN = 'metrics-token-for-tests';
const PRIVATE_PAGES = [
  '/',
  '/growth',
  '/retention',
  '/federation',
  '/moderation',
  '/capacity',
  '/status',
  '/finances',
  '/no-such-page'
];
const DATA_ENDPOINTS = [
  '/data/growth.json',
  '/data/moderation.csv',
  '/data/federation/peers.json',
  '/growth/export.csv'
];

const staff = {
  id: '1',
  acct: 'ada@social.coop.example',
  displayName: 'Ada',
  role: 'Owner',
  via: 'role' as const
};
const cookieOf = (value: string) => `fedipulse_session=${value}`;

/** A tiny cookie jar: name=value pairs from Set-Cookie, expired ones dropped. */
class Jar {
  private map = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') this.map.delete(name);
      else this.map.set(name, value);
    }
  }
  header(): string {
    return [...this.map].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(name: string): string | undefined {
    return this.map.get(name);
  }
}

describe('access control and sign-in, over HTTP', () => {
  let sim: Sim;
  let dash: Dashboard;
  let url: string;

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 20 });
    const dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    const env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
    const run = await runCollect(['instance', '--quiet'], env);
    expect(run.code).toBe(0);
    dash = await startDashboard({
      ...env,
      FEDIPULSE_SESSION_SECRET: SECRET,
      FEDIPULSE_METRICS_TOKEN: METRICS_TOKEN,
      // The test talks to the simulator's authorisation page over plain HTTP, as the demo's browser does.
      FEDIPULSE_OAUTH_BROWSER_URL: `http://127.0.0.1:${sim.httpPort}`
    });
    url = dash.url;
  });
  afterAll(async () => {
    await dash?.stop();
    await sim?.stop();
  });

  const get = (p: string, cookie?: string, extra: Record<string, string> = {}) =>
    fetch(`${url}${p}`, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...extra } });

  async function expectRefused(cookie: string | undefined) {
    for (const p of PRIVATE_PAGES) {
      const res = await get(p, cookie);
      expect(res.status, p).toBe(303);
      const loc = new URL(res.headers.get('location')!, url);
      expect(loc.pathname, p).toBe('/auth/signin');
      expect(loc.searchParams.get('return'), p).toBe(p);
      expect(res.headers.get('set-cookie') ?? '').not.toMatch(/fedipulse_session=[^;]/);
    }
    for (const p of DATA_ENDPOINTS) {
      const res = await get(p, cookie);
      expect(res.status, p).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'sign-in required' });
    }
    // SvelteKit's client-side data requests are refused the same way (a redirect, no data).
    const data = await get('/growth/__data.json', cookie);
    const body = await data.text();
    expect(body).toMatch(/"type":"redirect"/);
    expect(body).not.toMatch(/"nodes"/);
    const post = await fetch(`${url}/moderation`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: url, ...(cookie ? { cookie } : {}) }
    });
    expect([401, 403]).toContain(post.status);
  }

  it('refuses every private page and data endpoint to an anonymous visitor', async () => {
    await expectRefused(undefined);
  });

  it('refuses a tampered, a forged, an expired and a wrongly signed session', async () => {
    const good = seal(Buffer.from(SECRET), 'session', newSession(staff, 3600));
    const [body, sig] = good.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    payload.exp += 86400 * 365;
    const tampered = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    const expired = seal(Buffer.from(SECRET), 'session', newSession(staff, 3600, Date.now() - 7200_000));
    const otherKey = seal(Buffer.from('another-secret-0123456789abc'), 'session', newSession(staff, 3600));
    const oauthCookie = seal(Buffer.from(SECRET), 'oauth', newSession(staff, 3600));
    for (const c of [tampered, expired, otherKey, oauthCookie, `${body}.`, 'garbage'])
      await expectRefused(cookieOf(c));
    // The genuine one is let in, which shows the refusals were about the cookie.
    const ok = await get('/', cookieOf(good));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('private, no-store');
  });

  it('public pages stay public; a signed-in view of them is never put in a shared cache', async () => {
    for (const p of ['/transparency/how', '/auth/signin', '/healthz'])
      expect((await get(p)).status, p).toBe(200);
    const pub = await get('/transparency/how');
    expect(pub.headers.get('cache-control')).toMatch(/^public/);
    const good = seal(Buffer.from(SECRET), 'session', newSession(staff, 3600));
    const signedIn = await get('/transparency/how', cookieOf(good));
    expect(signedIn.headers.get('cache-control')).toBe('private, no-store');
  });

  it('/metrics needs the bearer token (or a staff session) when FEDIPULSE_METRICS_TOKEN is set', async () => {
    const anon = await get('/metrics');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect((await get('/metrics', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get('/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(200);
    const good = seal(Buffer.from(SECRET), 'session', newSession(staff, 3600));
    expect((await get('/metrics', cookieOf(good))).status).toBe(200);
  });

  /** The whole flow as a browser does it, through the simulator's authorisation page. */
  async function signIn(accountId: string, returnTo: string): Promise<{ jar: Jar; final: Response }> {
    const jar = new Jar();
    const start = await fetch(`${url}/auth/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: url, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ return: returnTo })
    });
    expect(start.status).toBe(303);
    jar.take(start);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.pathname).toBe('/oauth/authorize');
    expect(authorize.searchParams.get('scope')).toBe('read:accounts');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.toString()).not.toContain(sim.own.tokens.admin);
    const page = await fetch(authorize);
    const html = await page.text();
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(m[1], m[2].replace(/&amp;/g, '&'));
    }
    form.set('account_id', accountId);
    form.set('decision', 'approve');
    const approved = await fetch(new URL('/oauth/authorize', authorize), {
      method: 'POST',
      body: form,
      redirect: 'manual'
    });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get('location')!);
    expect(callback.origin).toBe(url);
    const final = await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(final);
    return { jar, final };
  }

  it('an Owner signs in, sees the staff pages, signs out and is refused again', async () => {
    const { jar, final } = await signIn(sim.oauth.accounts[0].id, '/moderation?range=90d');
    expect(final.status).toBe(303);
    expect(final.headers.get('location')).toBe('/moderation?range=90d');
    const session = final.headers.getSetCookie().find((c) => c.startsWith('fedipulse_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Max-Age=\d+/i);
    expect(session).not.toMatch(/Secure/); // plain http here; Secure when ORIGIN is https
    const home = await get('/', jar.header());
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).not.toContain(sim.own.tokens.admin);
    // The token was used once for verify_credentials and revoked: the provider holds no live token for the app.
    const live = [...sim.oauth.state.tokens.values()].filter(
      (t) => t.clientId !== null && t.accountId !== ''
    );
    expect(live).toHaveLength(0);

    const signout = await fetch(`${url}/auth/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: url,
        accept: 'text/html',
        cookie: jar.header(),
        'content-type': 'application/x-www-form-urlencoded'
      },
      body: ''
    });
    expect(signout.status).toBe(303);
    expect(signout.headers.getSetCookie().join('\n')).toMatch(
      /fedipulse_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/i
    );
    // Even a copy of the old cookie is refused now.
    const stale = jar.header();
    await expectRefused(stale);
  });

  it('an account without a staff role gets the refusal page, and no session', async () => {
    const dana = sim.oauth.accounts.find((a) => a.username === 'dana')!;
    const { jar, final } = await signIn(dana.id, '/growth');
    expect(final.headers.get('location')).toBe('/auth/refused');
    expect(jar.get('fedipulse_session')).toBeUndefined();
    const page = await get('/auth/refused', jar.header());
    const html = await page.text();
    expect(html).toContain('@dana@social.coop.example');
    expect(html).toMatch(/cannot see the staff pages/);
    expect((await get('/growth', jar.header())).status).toBe(303);
  });

  it('a display name with HTML is shown as text', async () => {
    const mallory = sim.oauth.accounts.find((a) => a.username === 'mallory')!;
    const { jar } = await signIn(mallory.id, '/');
    const html = await (await get('/auth/refused', jar.header())).text();
    expect(html).not.toContain('<img src=x onerror');
    expect(html).not.toContain('<script>alert(2)');
    expect(html).toContain('&lt;img src=x onerror="alert(1)">&lt;script>alert(2)&lt;/script>');
  });

  it('never sends the browser outside the app after sign-in', async () => {
    for (const evil of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      '/%2F%2Fevil.example',
      '/%5Cevil.example'
    ]) {
      const { final } = await signIn(sim.oauth.accounts[1].id, evil);
      const loc = final.headers.get('location')!;
      expect(new URL(loc, url).origin, evil).toBe(url);
      expect(loc.startsWith('//') || loc.includes('\\'), evil).toBe(false);
    }
    const page = await (await get('/auth/signin?return=https://evil.example/')).text();
    expect(page).toContain('name="return" value="/"');
  });

  it('a callback with a wrong or missing state gives no session', async () => {
    const { jar } = await (async () => {
      const j = new Jar();
      const start = await fetch(`${url}/auth/signin`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: url, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ return: '/' })
      });
      j.take(start);
      return { jar: j };
    })();
    for (const q of ['?code=abc&state=wrong', '?code=abc', '?state=x&error=access_denied']) {
      const res = await get(`/auth/callback${q}`, jar.header());
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/auth\/signin\?error=state/);
      expect(res.headers.getSetCookie().join('')).not.toMatch(/fedipulse_session=[^;]/);
    }
  });
});
