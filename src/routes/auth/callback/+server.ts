import { redirect, type RequestHandler } from '@sveltejs/kit';
import { timingSafeEqual } from 'node:crypto';
import {
  authConfig,
  deleteCookie,
  OAUTH_COOKIE,
  ownServerFetch,
  readSealedCookie,
  REFUSED_COOKIE,
  SESSION_COOKIE,
  setSealedCookie,
  type PendingSignIn,
  type Refusal
} from '$lib/server/auth';
import { staffReason } from '$lib/server/auth/config';
import { ensureApp, exchangeCode, OAuthError, revokeToken, verifyCredentials } from '$lib/server/auth/oauth';
import { safeReturnPath } from '$lib/server/auth/paths';
import { newSession } from '$lib/server/auth/session';

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The own server sends the browser back here with ?code&state (or ?error). */
export const GET: RequestHandler = async ({ url, cookies }) => {
  const pending = readSealedCookie<PendingSignIn>(cookies, OAUTH_COOKIE, 'oauth');
  deleteCookie(cookies, url, OAUTH_COOKIE, '/auth'); // one use only, whatever happens next
  const returnTo = safeReturnPath(pending?.returnTo);
  const fail = (code: string): never =>
    redirect(303, `/auth/signin?error=${code}&return=${encodeURIComponent(returnTo)}`);

  const state = url.searchParams.get('state') ?? '';
  if (!pending || pending.exp * 1000 < Date.now() || !state || !same(state, pending.state)) fail('state');
  if (url.searchParams.get('error')) fail('access_denied');
  const code = url.searchParams.get('code');
  if (!code) fail('state');

  let outcome: { session: ReturnType<typeof newSession> } | { refusal: Refusal };
  try {
    const app = await ensureApp(authConfig, ownServerFetch);
    const token = await exchangeCode(app, code!, pending!.verifier, ownServerFetch);
    let account;
    try {
      account = await verifyCredentials(app.instance, token, ownServerFetch);
    } finally {
      await revokeToken(app, token, ownServerFetch); // we keep no token: who you are is all we needed
    }
    const via = staffReason(account, authConfig);
    outcome = via
      ? {
          session: newSession(
            {
              id: account.id,
              acct: account.acct,
              displayName: account.displayName,
              role: account.roleName,
              via
            },
            authConfig.sessionTtlSeconds
          )
        }
      : {
          refusal: {
            acct: account.acct,
            displayName: account.displayName,
            role: account.roleName,
            exp: Math.floor(Date.now() / 1000) + 600
          }
        };
  } catch (err) {
    console.warn(`sign-in callback: ${(err as Error).message}`);
    return fail(err instanceof OAuthError ? err.code : 'unreachable');
  }

  if ('refusal' in outcome) {
    setSealedCookie(cookies, url, REFUSED_COOKIE, 'refused', outcome.refusal, 600, '/auth');
    redirect(303, '/auth/refused');
  }
  const s = outcome.session;
  setSealedCookie(cookies, url, SESSION_COOKIE, 'session', s, authConfig.sessionTtlSeconds);
  redirect(303, returnTo);
};
