import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import {
  authConfig,
  ownServerFetch,
  OAUTH_COOKIE,
  setSealedCookie,
  type PendingSignIn
} from '$lib/server/auth';
import { authorizeUrl, ensureApp, OAuthError, pkcePair, randomToken } from '$lib/server/auth/oauth';
import { safeReturnPath } from '$lib/server/auth/paths';

/** What the sign-in page may say went wrong: fixed texts, never anything a request or a server supplied. */
const ERRORS: Record<string, string> = {
  not_configured: 'Sign-in is not configured: set FEDIPULSE_INSTANCE_URL to the co-op’s own server.',
  no_origin:
    'Sign-in is off until the dashboard knows its own public address: set ORIGIN to the URL staff open it at ' +
    '(for example ORIGIN=https://stats.social.example) and restart it.',
  access_denied: 'The sign-in was cancelled on the server.',
  state: 'The sign-in expired or was started in another window. Please try again.',
  registration_failed: 'The server refused to register this dashboard as an app.',
  token_failed: 'The server did not accept the sign-in. Please try again.',
  account_failed: 'The server did not say who you are.',
  server_error: 'The server answered with something unexpected.',
  unreachable: 'The server could not be reached.'
};

const PENDING_SECONDS = 600;

export const load: PageServerLoad = async ({ url, locals }) => {
  const returnTo = safeReturnPath(url.searchParams.get('return'));
  if (locals.staff) redirect(303, returnTo);
  const code = url.searchParams.get('error') ?? '';
  return {
    returnTo,
    server: authConfig.instanceUrl ? new URL(authConfig.instanceUrl).host : null,
    // Without ORIGIN there is no redirect URI we could trust: say what to set instead of a button.
    needsOrigin: authConfig.origin ? null : ERRORS.no_origin,
    error: ERRORS[code] ?? null,
    signedOut: url.searchParams.has('signed_out')
  };
};

export const actions: Actions = {
  default: async ({ request, url, cookies }) => {
    // Nothing happens without ORIGIN: no app registered, no redirect (a request's Host is not ours to trust).
    if (!authConfig.origin) return fail(503, { error: ERRORS.no_origin });
    const form = await request.formData();
    const returnTo = safeReturnPath(String(form.get('return') ?? '/'));
    const failTo = (code: string) =>
      redirect(303, `/auth/signin?error=${code}&return=${encodeURIComponent(returnTo)}`);
    if (!authConfig.instanceUrl || !authConfig.browserUrl) failTo('not_configured');
    let target: string;
    try {
      const app = await ensureApp(authConfig, ownServerFetch);
      const { verifier, challenge } = pkcePair();
      const state = randomToken(24);
      const pending: PendingSignIn = {
        state,
        verifier,
        returnTo,
        exp: Math.floor(Date.now() / 1000) + PENDING_SECONDS
      };
      setSealedCookie(cookies, url, OAUTH_COOKIE, 'oauth', pending, PENDING_SECONDS, '/auth');
      target = authorizeUrl(authConfig.browserUrl as string, app, state, challenge);
    } catch (err) {
      console.warn(`sign-in: ${(err as Error).message}`);
      failTo(err instanceof OAuthError ? err.code : 'unreachable');
    }
    redirect(303, target!);
  }
};
