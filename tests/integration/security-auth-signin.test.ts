import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { newSession, readSession, seal } from '../../src/lib/server/auth/session.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

/**
 * Sign-in and sessions of the built dashboard against the simulator's OAuth provider (the truth: which apps
 * it holds, which redirect URIs they have, which role and permissions each account has).
 */
const SECRET = 'security-auth-secret-0123456789';
const NEW_SECRET = 'security-auth-rotated-key-987654321';

const staff = {
  id: '9',
  acct: 'ada@social.coop.example',
  displayName: 'Ada',
  role: 'Owner',
  via: 'role' as const
};

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

/** An HTTP request with headers fetch will not send as given (Host), as any client can. */
function raw(
  base: string,
  reqPath: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string }
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: reqPath, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };

describe('staff sign-in and sessions, over HTTP', () => {
  let sim: Sim;
  let dir: string;
  let dashEnv: Record<string, string>;
  const running: Dashboard[] = [];
  const start = async (extra: Record<string, string | undefined> = {}) => {
    const d = await startDashboard({ ...dashEnv, ...(extra as Record<string, string>) });
    running.push(d);
    return d;
  };

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 20 });
    dir = tempDir('fp-sec-auth-');
    const env = sim.env({
      FEDIPULSE_DB: path.join(dir, 'fedipulse.duckdb'),
      FEDIPULSE_TOKEN: sim.own.tokens.admin
    });
    expect((await runCollect(['instance', '--quiet'], env)).code).toBe(0);
    dashEnv = {
      ...env,
      FEDIPULSE_TOKEN: '',
      FEDIPULSE_SESSION_SECRET: SECRET,
      FEDIPULSE_PUBLIC_PAGES: 'growth',
      // The test plays the browser against the simulator's authorisation page over plain HTTP.
      FEDIPULSE_OAUTH_BROWSER_URL: `http://127.0.0.1:${sim.httpPort}`
    };
  });
  afterAll(async () => {
    for (const d of running) await d.stop();
    await sim?.stop();
  });

  const account = (username: string) => sim.oauth.accounts.find((a) => a.username === username)!;

  /** The whole flow as a browser does it, through the simulator's authorisation page. */
  async function signIn(url: string, username: string, returnTo: string) {
    const jar = new Jar();
    const begin = await fetch(`${url}/auth/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: url, ...form },
      body: new URLSearchParams({ return: returnTo })
    });
    expect(begin.status).toBe(303);
    jar.take(begin);
    const authorize = new URL(begin.headers.get('location')!);
    const html = await (await fetch(authorize)).text();
    const fields = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
      fields.set(m[1], m[2].replace(/&amp;/g, '&'));
    fields.set('account_id', account(username).id);
    fields.set('decision', 'approve');
    const approved = await fetch(new URL('/oauth/authorize', authorize), {
      method: 'POST',
      body: fields,
      redirect: 'manual'
    });
    const callback = new URL(approved.headers.get('location')!);
    expect(callback.origin).toBe(url);
    const final = await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(final);
    return { jar, final };
  }

  it('without ORIGIN, a sign-in POST with Host: evil.example registers no app and redirects nowhere', async () => {
    const dash = await start({ ORIGIN: undefined }); // no ORIGIN at all, as a careless deployment
    const port = new URL(dash.url).port;
    const before = sim.oauth.state.apps.size;
    for (const host of ['evil.example', `127.0.0.1:${port}`]) {
      // Origin matches the Host, so SvelteKit's CSRF check passes: only the sign-in code stands in the way.
      const res = await raw(dash.url, '/auth/signin', {
        method: 'POST',
        headers: { host, origin: `https://${host}`, 'x-forwarded-host': 'evil.example', ...form },
        body: 'return=%2F'
      });
      expect(res.status, host).toBe(503);
      expect(res.headers.location, host).toBeUndefined();
      expect(res.body, host).toContain('set ORIGIN');
    }
    expect(sim.oauth.state.apps.size).toBe(before);
    expect([...sim.oauth.state.apps.values()].flatMap((a) => a.redirectUris).join(' ')).not.toContain('evil');
    expect(existsSync(path.join(dir, 'fedipulse.duckdb.oauth-app.json'))).toBe(false);

    // The page says what to set, and offers no button that could start a sign-in.
    const page = await raw(dash.url, '/auth/signin', { headers: { host: 'evil.example' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/set ORIGIN to the URL staff open it at/);
    expect(page.body).not.toMatch(/Sign in with social\.coop\.example/);
  });

  let dash: Dashboard;

  it('with ORIGIN, the redirect URI is ORIGIN’s whatever the Host, and one app is registered', async () => {
    dash = await start(); // ORIGIN = its own URL (the test helper's default)
    const known = new Set(sim.oauth.state.apps.keys());
    const port = new URL(dash.url).port;
    for (const host of ['evil.example', 'other.example:8443', `127.0.0.1:${port}`]) {
      const res = await raw(dash.url, '/auth/signin', {
        method: 'POST',
        headers: { host, origin: dash.url, 'x-forwarded-host': 'evil.example', ...form },
        body: 'return=%2F'
      });
      expect(res.status, host).toBe(303);
      const to = new URL(res.headers.location!);
      expect(to.pathname).toBe('/oauth/authorize');
      expect(to.searchParams.get('redirect_uri'), host).toBe(`${dash.url}/auth/callback`);
    }
    const added = [...sim.oauth.state.apps.values()].filter((a) => !known.has(a.clientId));
    expect(added).toHaveLength(1);
    expect(added[0].redirectUris).toEqual([`${dash.url}/auth/callback`]);
  });

  it('a custom role named "Admin" is refused; the Moderator role renamed "Gardener" gets in', async () => {
    expect(account('emil').role.name).toBe('Admin');
    const refused = await signIn(dash.url, 'emil', '/moderation');
    expect(refused.final.headers.get('location')).toBe('/auth/refused');
    expect(refused.jar.get('fedipulse_session')).toBeUndefined();
    const why = await (
      await fetch(`${dash.url}/auth/refused`, { headers: { cookie: refused.jar.header() } })
    ).text();
    expect(why).toContain('@emil@social.coop.example');
    expect(why).toMatch(/Your role, <em>Admin<\/em>, does not have that permission/);

    expect(account('gwen').role.name).toBe('Gardener');
    const allowed = await signIn(dash.url, 'gwen', '/moderation');
    expect(allowed.final.headers.get('location')).toBe('/moderation');
    const page = await fetch(`${dash.url}/moderation`, {
      redirect: 'manual',
      headers: { cookie: allowed.jar.header() }
    });
    expect(page.status).toBe(200);
  });

  it('return paths with dot segments cannot send a signed-in person to another site', async () => {
    const cookie = `fedipulse_session=${seal(Buffer.from(SECRET), 'session', newSession(staff, 3600))}`;
    for (const evil of ['/.//evil.com', '/x/..//evil.com', '/%2e//evil.com']) {
      // Signed-in staff opening a sign-in link are sent straight on to its return path.
      const res = await fetch(`${dash.url}/auth/signin?return=${encodeURIComponent(evil)}`, {
        redirect: 'manual',
        headers: { cookie }
      });
      expect(res.status, evil).toBe(303);
      expect(res.headers.get('location'), evil).toBe('/');
      // And through the whole sign-in flow.
      const { final } = await signIn(dash.url, 'chidi', evil);
      expect(final.headers.get('location'), evil).toBe('/');
    }
  });

  it('everything rendered for a signed-in person is private, no-store; public pages stay cacheable', async () => {
    const { jar } = await signIn(dash.url, 'ada', '/');
    for (const p of [
      '/growth', // public (FEDIPULSE_PUBLIC_PAGES) but rendered for this person
      '/growth/__data.json',
      '/data/growth/members.json',
      '/data/growth/members.csv',
      '/transparency/how',
      '/moderation',
      '/data/moderation/backlog.json',
      '/growth/annotations',
      '/metrics',
      '/healthz',
      '/auth/signout'
    ]) {
      const res = await fetch(`${dash.url}${p}`, { redirect: 'manual', headers: { cookie: jar.header() } });
      expect(res.status, p).toBeLessThan(400);
      expect(res.headers.get('cache-control'), p).toBe('private, no-store');
      await res.body?.cancel();
    }
    const anonymous = await fetch(`${dash.url}/transparency/how`);
    expect(anonymous.headers.get('cache-control')).toMatch(/^public/);
  });

  it('sign-out holds across a restart, and the session key rotates without signing anyone out', async () => {
    const { jar } = await signIn(dash.url, 'gwen', '/status');
    const signedOut = await fetch(`${dash.url}/auth/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: dash.url, cookie: jar.header(), ...form },
      body: ''
    });
    expect(signedOut.status).toBe(303);
    const revokedFile = path.join(dir, 'fedipulse.duckdb.revoked-sessions.json');
    expect(statSync(revokedFile).mode & 0o777).toBe(0o600);
    const stale = `fedipulse_session=${jar.get('fedipulse_session')}`;
    await dash.stop();

    // Restarted with a new signing key in front and the old one still accepted.
    const again = await start({
      FEDIPULSE_SESSION_SECRET: NEW_SECRET,
      FEDIPULSE_SESSION_PREVIOUS_SECRETS: SECRET
    });
    const get = (d: Dashboard, cookie: string) =>
      fetch(`${d.url}/status`, { redirect: 'manual', headers: { cookie } });
    const refused = await get(again, stale);
    expect(refused.status).toBe(303);
    expect(new URL(refused.headers.get('location')!, again.url).pathname).toBe('/auth/signin');
    // A session signed with the old key and never signed out is still good: the refusal was the sign-out.
    const oldKey = `fedipulse_session=${seal(Buffer.from(SECRET), 'session', newSession(staff, 3600))}`;
    expect((await get(again, oldKey)).status).toBe(200);
    // New sessions are signed with the new key.
    const fresh = await signIn(again.url, 'ada', '/');
    const cookie = fresh.jar.get('fedipulse_session')!;
    expect(readSession([Buffer.from(NEW_SECRET)], cookie)).not.toBeNull();
    expect(readSession([Buffer.from(SECRET)], cookie)).toBeNull();
    await again.stop();

    // The old key removed: its cookies are gone, the new ones stay.
    const rotated = await start({ FEDIPULSE_SESSION_SECRET: NEW_SECRET });
    expect((await get(rotated, oldKey)).status).toBe(303);
    expect((await get(rotated, `fedipulse_session=${cookie}`)).status).toBe(200);
  });
});
