import type { Cookies } from '@sveltejs/kit';
import { randomBytes } from 'node:crypto';
import { fetch as undiciFetch, type Agent } from 'undici';
import { createDispatcher } from '../../../../collectors/net/dispatcher.ts';
import { config } from '../db.ts';
import { loadAuthConfig, loadSessionKeys, type AuthConfig } from './config.ts';
import type { Fetcher } from './oauth.ts';
import { readSession, RevokedSessions, seal, unseal, type Session } from './session.ts';

/** The dashboard's sign-in state, built once per server process. */
export const SESSION_COOKIE = 'fedipulse_session';
export const OAUTH_COOKIE = 'fedipulse_oauth';
export const REFUSED_COOKIE = 'fedipulse_refused';

export const authConfig: AuthConfig = loadAuthConfig(process.env, config.dbPath);
if (authConfig.unknownPublicPages.length) {
  console.warn(
    `FEDIPULSE_PUBLIC_PAGES: unknown page(s) ignored: ${authConfig.unknownPublicPages.join(', ')}`
  );
}

if (authConfig.instanceUrl && !authConfig.origin) {
  console.warn(
    'ORIGIN is not set: staff sign-in is off. Set ORIGIN to the dashboard’s public URL ' +
      '(e.g. https://stats.social.example), the address staff open it at.'
  );
}
if (process.env.FEDIPULSE_STAFF_ROLES?.trim()) {
  console.warn(
    'FEDIPULSE_STAFF_ROLES is ignored: staff are decided by role permissions (administrator or ' +
      'view_dashboard), never by role name. Use FEDIPULSE_STAFF to name more accounts.'
  );
}

let keys: Buffer[] | null = null;
/** The signing key ring, loaded lazily: a missing data folder is created on the first request, not at import. */
export function sessionKeys(): Buffer[] {
  if (keys) return keys;
  try {
    keys = loadSessionKeys(process.env, authConfig.secretFile);
  } catch (err) {
    if (process.env.FEDIPULSE_SESSION_SECRET?.trim()) throw err; // a bad configured secret is an error
    // A read-only data folder: sessions still work, until the server restarts.
    console.warn(
      `cannot keep a session key in ${authConfig.secretFile} (${(err as Error).message}); using one for this process only`
    );
    keys = [randomBytes(32)];
  }
  return keys;
}

/** Signed-out session ids, kept beside the database so that a sign-out outlives a restart. */
export const revoked = new RevokedSessions(authConfig.revokedFile);

let agent: Agent | null = null;
/** Requests to the own server honour FEDIPULSE_CONNECT_TO and trust NODE_EXTRA_CA_CERTS, like the collector. */
export const ownServerFetch: Fetcher = (url, init) => {
  agent ??= createDispatcher({ connectTo: config.connectTo, allowPrivate: true, connections: 2 });
  return undiciFetch(url, {
    ...(init as object),
    dispatcher: agent,
    redirect: 'error',
    signal: AbortSignal.timeout(15_000)
  }) as unknown as Promise<Response>;
};

/** Cookies are Secure exactly when the dashboard is served over https. */
export function isSecure(url: URL): boolean {
  return (authConfig.origin ?? url.origin).startsWith('https:');
}

export function currentSession(cookies: Cookies): Session | null {
  return readSession(sessionKeys(), cookies.get(SESSION_COOKIE), Date.now(), revoked);
}

export function setSealedCookie(
  cookies: Cookies,
  url: URL,
  name: string,
  purpose: string,
  value: unknown,
  maxAgeSeconds: number,
  cookiePath = '/'
): void {
  cookies.set(name, seal(sessionKeys(), purpose, value), {
    path: cookiePath,
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecure(url),
    maxAge: maxAgeSeconds
  });
}

export function readSealedCookie<T>(cookies: Cookies, name: string, purpose: string): T | null {
  return unseal<T>(sessionKeys(), purpose, cookies.get(name));
}

/** Between "Sign in" and the callback, in a sealed cookie on /auth: the PKCE verifier never leaves us. */
export interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** Who was refused, for the refusal page (sealed, ten minutes, /auth only). */
export interface Refusal {
  acct: string;
  displayName: string;
  role: string;
  exp: number;
}

export function deleteCookie(cookies: Cookies, url: URL, name: string, cookiePath = '/'): void {
  cookies.delete(name, { path: cookiePath, httpOnly: true, sameSite: 'lax', secure: isSecure(url) });
}
