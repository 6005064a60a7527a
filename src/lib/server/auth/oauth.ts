import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writePrivateFile, type AuthConfig } from './config.ts';

/**
 * OAuth 2 authorization code + PKCE (S256) against the co-op's own Mastodon server, with fetch and
 * node:crypto (oauth4webapi is not installed). The only scope ever asked for is read:accounts: enough for
 * verify_credentials, nothing else. The access token is revoked right after it was used once.
 */
export const SCOPE = 'read:accounts';
export const CLIENT_NAME = 'fedipulse';

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export interface OAuthApp {
  instance: string;
  redirectUri: string;
  clientId: string;
  clientSecret: string;
  registeredAt?: string;
}

export class OAuthError extends Error {
  /** A fixed code the sign-in page can explain (never the server's text, which is not ours to show). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomToken(48); // 64 characters, inside RFC 7636's 43..128
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function readJson(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new OAuthError('server_error', `${what}: the server answered HTTP ${res.status} without JSON`);
}

/**
 * The one redirect URI: the configured public origin's /auth/callback, never one made from a request (its
 * Host or X-Forwarded-Host is the sender's choice, and a code sent there is the sender's to replay).
 */
export function redirectUriOf(cfg: Pick<AuthConfig, 'origin'>): string {
  if (!cfg.origin)
    throw new OAuthError('no_origin', 'ORIGIN is not set: sign-in needs the dashboard’s public URL');
  return `${cfg.origin}/auth/callback`;
}

let registering: Promise<OAuthApp> | null = null;

/**
 * The OAuth client: from the environment, else the file beside the database, else registered now through
 * POST /api/v1/apps (once per configured origin and server; concurrent sign-ins share the one registration).
 */
export async function ensureApp(cfg: AuthConfig, fetcher: Fetcher): Promise<OAuthApp> {
  if (!cfg.instanceUrl) throw new OAuthError('not_configured', 'FEDIPULSE_INSTANCE_URL is not set');
  const redirectUri = redirectUriOf(cfg);
  if (cfg.fixedClient) return { instance: cfg.instanceUrl, redirectUri, ...cfg.fixedClient };
  if (existsSync(cfg.appFile)) {
    let app: OAuthApp | null = null;
    try {
      app = JSON.parse(readFileSync(cfg.appFile, 'utf8')) as OAuthApp;
    } catch {
      /* unreadable: register again */
    }
    // A new ORIGIN or another server means another registration: redirect URIs must match exactly.
    if (app && app.instance === cfg.instanceUrl && app.redirectUri === redirectUri && app.clientId) {
      if (checked.has(app.clientId) || (await clientStillKnown(app, fetcher))) {
        checked.add(app.clientId);
        return app;
      }
    }
  }
  registering ??= registerApp(cfg, redirectUri, fetcher).finally(() => (registering = null));
  return registering;
}

const checked = new Set<string>();

/**
 * Once per process: does the server still know our client? (A wiped or re-created server, or the demo's
 * fresh simulator, forgets it, and the person would meet "unknown client" on the server's page.) Asks for
 * a client-credentials token, which only a known client with the right secret gets, and revokes it.
 */
async function clientStillKnown(app: OAuthApp, fetcher: Fetcher): Promise<boolean> {
  let res: Response;
  try {
    res = await fetcher(`${app.instance}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        scope: SCOPE
      }).toString()
    });
  } catch {
    return true; // unreachable now: keep the app, the sign-in reports the network error
  }
  const body = await res.json().catch(() => ({}) as Record<string, unknown>);
  if (res.ok && typeof body.access_token === 'string') {
    await revokeToken(app, body.access_token, fetcher);
    return true;
  }
  return !(res.status === 401 || body.error === 'invalid_client');
}

async function registerApp(cfg: AuthConfig, redirectUri: string, fetcher: Fetcher): Promise<OAuthApp> {
  const instance = cfg.instanceUrl as string;
  const res = await fetcher(`${instance}/api/v1/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: CLIENT_NAME,
      redirect_uris: redirectUri,
      scopes: SCOPE,
      website: cfg.origin ?? undefined
    })
  });
  const body = await readJson(res, 'registering the app');
  if (!res.ok || typeof body.client_id !== 'string' || typeof body.client_secret !== 'string') {
    throw new OAuthError('registration_failed', `registering the app failed (HTTP ${res.status})`);
  }
  const app: OAuthApp = {
    instance,
    redirectUri,
    clientId: body.client_id,
    clientSecret: body.client_secret,
    registeredAt: new Date().toISOString()
  };
  writePrivateFile(cfg.appFile, `${JSON.stringify(app, null, 2)}\n`);
  return app;
}

export function authorizeUrl(browserUrl: string, app: OAuthApp, state: string, challenge: string): string {
  const u = new URL(`${browserUrl}/oauth/authorize`);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256'
  }).toString();
  return u.toString();
}

export async function exchangeCode(
  app: OAuthApp,
  code: string,
  verifier: string,
  fetcher: Fetcher
): Promise<string> {
  const res = await fetcher(`${app.instance}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: app.redirectUri,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      code_verifier: verifier,
      scope: SCOPE
    }).toString()
  });
  const body = await readJson(res, 'exchanging the code');
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new OAuthError('token_failed', `the server refused the code (HTTP ${res.status})`);
  }
  return body.access_token;
}

export interface VerifiedAccount {
  id: string;
  /** user@domain: verify_credentials says `acct` = username for a local account. */
  acct: string;
  displayName: string;
  /** Shown to the person only; never decides access. */
  roleName: string;
  /** The role's computed permissions (Mastodon's UserRole::FLAGS bit field, decimal), '' without a role. */
  permissions: string;
}

export async function verifyCredentials(
  instanceUrl: string,
  token: string,
  fetcher: Fetcher
): Promise<VerifiedAccount> {
  const res = await fetcher(`${instanceUrl}/api/v1/accounts/verify_credentials`, {
    method: 'GET',
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' }
  });
  const body = await readJson(res, 'reading the account');
  if (!res.ok || typeof body.id !== 'string' || typeof body.username !== 'string') {
    throw new OAuthError('account_failed', `the server did not return the account (HTTP ${res.status})`);
  }
  const domain = new URL(instanceUrl).hostname.toLowerCase();
  const acct = String(body.acct ?? body.username).toLowerCase();
  const role = body.role as { name?: unknown; permissions?: unknown } | null | undefined;
  const perms = role?.permissions;
  return {
    id: body.id,
    acct: acct.includes('@') ? acct : `${acct}@${domain}`,
    displayName: typeof body.display_name === 'string' ? body.display_name.slice(0, 200) : '',
    roleName: role && typeof role.name === 'string' ? role.name.slice(0, 100) : '',
    permissions: typeof perms === 'string' || typeof perms === 'number' ? String(perms) : ''
  };
}

/** Best effort: a token we no longer need should not stay valid on the server. */
export async function revokeToken(app: OAuthApp, token: string, fetcher: Fetcher): Promise<void> {
  try {
    const res = await fetcher(`${app.instance}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: app.clientId,
        client_secret: app.clientSecret,
        token
      }).toString()
    });
    await res.body?.cancel();
  } catch {
    /* the token expires on its own; sign-in goes on */
  }
}
