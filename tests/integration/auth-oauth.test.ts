import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { loadAuthConfig } from '../../src/lib/server/auth/config.ts';
import {
  authorizeUrl,
  ensureApp,
  exchangeCode,
  pkcePair,
  verifyCredentials,
  type Fetcher
} from '../../src/lib/server/auth/oauth.ts';
import { startTrustedSim } from '../helpers/index.ts';

/** The simulated server's OAuth provider, driven by the dashboard's own client code. */
describe('sign-in against the simulated own server', () => {
  let sim: Sim;
  let base: string;
  const fetcher: Fetcher = (url, init) => fetch(url, { ...init, redirect: 'manual' });
  const redirectUri = 'http://127.0.0.1:9/auth/callback';

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 10 });
    base = `http://127.0.0.1:${sim.httpPort}`; // the own server over plain HTTP, as a local server
  });
  afterAll(async () => sim?.stop());

  const config = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-oauth-'));
    return loadAuthConfig(
      { FEDIPULSE_INSTANCE_URL: base, ORIGIN: new URL(redirectUri).origin },
      path.join(dir, 'db.duckdb')
    );
  };

  /** The authorisation page's form, submitted for one account. */
  async function approve(url: string, accountId: string, decision = 'approve'): Promise<URL> {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(
        m[1],
        m[2]
          .replace(/&amp;/g, '&')
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&#39;/g, "'")
      );
    }
    form.set('account_id', accountId);
    form.set('decision', decision);
    const res = await fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('registers once with read:accounts, signs in with PKCE and reads the role', async () => {
    const cfg = config();
    const app = await ensureApp(cfg, fetcher);
    expect(statSync(cfg.appFile).mode & 0o777).toBe(0o600);
    expect([...sim.oauth.state.apps.values()].find((a) => a.clientId === app.clientId)?.scopes).toEqual([
      'read:accounts'
    ]);
    expect((await ensureApp(cfg, fetcher)).clientId).toBe(app.clientId); // from the file

    const { verifier, challenge } = pkcePair();
    const back = await approve(authorizeUrl(base, app, 'st4te', challenge), sim.oauth.accounts[2].id);
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st4te');
    const token = await exchangeCode(app, back.searchParams.get('code')!, verifier, fetcher);
    const who = await verifyCredentials(base, token, fetcher);
    // Mastodon's computed permissions: the Moderator role's 1308 with the everyone role's 65536 added.
    expect(who).toMatchObject({ acct: 'chidi@127.0.0.1', roleName: 'Moderator', permissions: '66844' });
  });

  it('without ORIGIN registers nothing: a redirect URI is never guessed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-oauth-'));
    const cfg = loadAuthConfig({ FEDIPULSE_INSTANCE_URL: base }, path.join(dir, 'db.duckdb'));
    const before = sim.oauth.state.apps.size;
    await expect(ensureApp(cfg, fetcher)).rejects.toMatchObject({ code: 'no_origin' });
    expect(sim.oauth.state.apps.size).toBe(before);
    expect(existsSync(cfg.appFile)).toBe(false);
  });

  it('registers again when the server no longer knows the stored app', async () => {
    const cfg = config();
    writeFileSync(
      cfg.appFile,
      JSON.stringify({ instance: base, redirectUri, clientId: 'forgotten', clientSecret: 'forgotten' })
    );
    const app = await ensureApp(cfg, fetcher);
    expect(app.clientId).not.toBe('forgotten');
    expect(sim.oauth.state.apps.has(app.clientId)).toBe(true);
    expect(JSON.parse(readFileSync(cfg.appFile, 'utf8')).clientId).toBe(app.clientId);
    // The check's client-credentials token was revoked again.
    expect([...sim.oauth.state.tokens.values()].filter((t) => t.clientId === app.clientId)).toHaveLength(0);
  });

  it('refuses a wrong PKCE verifier, a reused code, and a code for another redirect URI', async () => {
    const app = await ensureApp(config(), fetcher);
    const { challenge } = pkcePair();
    const back = await approve(authorizeUrl(base, app, 's', challenge), sim.oauth.accounts[0].id);
    const code = back.searchParams.get('code')!;
    await expect(exchangeCode(app, code, pkcePair().verifier, fetcher)).rejects.toThrow(/refused the code/);

    const pair = pkcePair();
    const again = await approve(authorizeUrl(base, app, 's', pair.challenge), sim.oauth.accounts[0].id);
    const code2 = again.searchParams.get('code')!;
    await expect(
      exchangeCode({ ...app, redirectUri: 'http://127.0.0.1:9/other' }, code2, pair.verifier, fetcher)
    ).rejects.toThrow();
    await expect(exchangeCode(app, code2, pair.verifier, fetcher)).rejects.toThrow(); // used up by the failed try
  });

  it('shows an error instead of redirecting to an unregistered URI, and accepts only S256', async () => {
    const app = await ensureApp(config(), fetcher);
    const { challenge } = pkcePair();
    const evil = new URL(authorizeUrl(base, app, 's', challenge));
    evil.searchParams.set('redirect_uri', 'https://evil.example/cb');
    const res = await fetch(evil, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();

    const plain = new URL(authorizeUrl(base, app, 's', challenge));
    plain.searchParams.set('code_challenge_method', 'plain');
    const r2 = await fetch(plain, { redirect: 'manual' });
    expect(r2.status).toBe(302);
    expect(new URL(r2.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    const wide = new URL(authorizeUrl(base, app, 's', challenge));
    wide.searchParams.set('scope', 'admin:read');
    const r3 = await fetch(wide, { redirect: 'manual' });
    expect(new URL(r3.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });

  it('a denied authorisation comes back as access_denied; tokens can be revoked', async () => {
    const app = await ensureApp(config(), fetcher);
    const pair = pkcePair();
    const denied = await approve(
      authorizeUrl(base, app, 'x', pair.challenge),
      sim.oauth.accounts[0].id,
      'deny'
    );
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('code')).toBeNull();

    const p2 = pkcePair();
    const ok = await approve(authorizeUrl(base, app, 'x', p2.challenge), sim.oauth.accounts[3].id);
    const token = await exchangeCode(app, ok.searchParams.get('code')!, p2.verifier, fetcher);
    const who = await verifyCredentials(base, token, fetcher);
    expect(who.roleName).toBe('');
    expect(who.permissions).toBe('65536'); // the everyone role: invite_users only
    await fetch(`${base}/oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, token })
    });
    const after = await fetch(`${base}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${token}` }
    });
    expect(after.status).toBe(401);
  });

  it('verify_credentials has the Mastodon Account shape with a role', async () => {
    const res = await fetch(`${base}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${sim.own.tokens.admin}` }
    });
    const body = (await res.json()) as Record<string, unknown>;
    // The Owner role stores only administrator (1); the API gives its computed permissions: every flag.
    expect(body).toMatchObject({
      username: 'ada',
      acct: 'ada',
      role: { name: 'Owner', permissions: String(2 ** 20 - 1) }
    });
    expect(body.source).toBeTypeOf('object');
    // The S256 challenge the provider checks is the RFC 7636 one.
    const v = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect(createHash('sha256').update(v).digest('base64url')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    );
  });
});
