import { redirect, type Handle } from '@sveltejs/kit';
import { authConfig, currentSession } from '$lib/server/auth';
import { classifyPath } from '$lib/server/auth/paths';

/** Sets headers; a response with immutable headers (a proxied fetch) is copied so they still apply. */
function withHeaders(res: Response, headers: Record<string, string>): Response {
  try {
    for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    return copy;
  }
}

/**
 * Access control for every request, before any route runs: the session cookie gives locals.user and
 * locals.staff; private pages redirect to sign-in, private data endpoints answer 401. What is private is
 * everything not listed public (src/lib/server/auth/paths.ts, FEDIPULSE_PUBLIC_PAGES).
 */
export const handle: Handle = async ({ event, resolve }) => {
  const session = currentSession(event.cookies);
  event.locals.user = session?.user ?? null;
  event.locals.staff = session !== null;
  event.locals.session = session ? { sid: session.sid, exp: session.exp } : null;

  const access = classifyPath(event.url.pathname, authConfig.publicPages);
  // /metrics decides its own access (src/lib/server/metrics-access.ts): staff, a bearer token or opt-in.
  if (access === 'private-data' && !session) {
    return new Response(JSON.stringify({ error: 'sign-in required', signin: '/auth/signin' }), {
      status: 401,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
    });
  }
  if (access === 'private-page' && !session) {
    if (event.request.method !== 'GET' && event.request.method !== 'HEAD') {
      return new Response('sign-in required\n', {
        status: 401,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }
      });
    }
    const back = `${event.url.pathname}${event.url.search}`;
    redirect(303, `/auth/signin?return=${encodeURIComponent(back)}`);
  }

  const response = await resolve(event);
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    // Keeps ?code= and private paths out of Referer headers sent to other sites.
    'referrer-policy': 'same-origin'
  };
  // Anything rendered for a signed-in person (any page, /data/*, annotations, /metrics, even a public page
  // that may show who they are) and anything private or about sign-in is kept out of every cache.
  if (
    session ||
    access === 'private-page' ||
    access === 'private-data' ||
    /^\/auth(\/|$)/.test(event.url.pathname)
  )
    headers['cache-control'] = 'private, no-store';
  if (access === 'public') headers.vary = 'Cookie';
  return withHeaders(response, headers);
};
