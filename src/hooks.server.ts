import { redirect, type Handle } from '@sveltejs/kit';
import { createHash, timingSafeEqual } from 'node:crypto';
import { authConfig, currentSession } from '$lib/server/auth';
import { classifyPath } from '$lib/server/auth/paths';

const sha = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of a bearer token with FEDIPULSE_METRICS_TOKEN. */
function bearerMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return Boolean(m) && timingSafeEqual(sha(m![1]), sha(token));
}

function setHeader(res: Response, name: string, value: string): void {
  try {
    res.headers.set(name, value);
  } catch {
    /* immutable headers (a proxied fetch response): leave them */
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
  if (access === 'metrics' && authConfig.metricsToken && !session) {
    if (!bearerMatches(event.request.headers.get('authorization'), authConfig.metricsToken)) {
      return new Response('metrics need a bearer token (FEDIPULSE_METRICS_TOKEN)\n', {
        status: 401,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'www-authenticate': 'Bearer',
          'cache-control': 'no-store'
        }
      });
    }
  }
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
  setHeader(response, 'x-content-type-options', 'nosniff');
  // Keeps ?code= and private paths out of Referer headers sent to other sites.
  setHeader(response, 'referrer-policy', 'same-origin');
  if (access === 'private-page' || access === 'private-data' || event.url.pathname.startsWith('/auth')) {
    setHeader(response, 'cache-control', 'private, no-store');
  } else if (session && /\bpublic\b/.test(response.headers.get('cache-control') ?? '')) {
    // A page rendered for a signed-in person may show who they are: never for a shared cache.
    setHeader(response, 'cache-control', 'private, no-store');
  }
  if (access === 'public') setHeader(response, 'vary', 'Cookie');
  return response;
};
