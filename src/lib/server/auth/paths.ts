/**
 * Which paths anyone may see, and where a sign-in may send the browser back to. Pure functions, so every
 * rule is a unit test.
 */
import { PAGES } from '../../components/nav.ts';

/** Always public: the transparency report, liveness, sign-in, the theme switch, static assets. */
const ALWAYS_PUBLIC = [
  /^\/transparency(\/|$)/,
  /^\/healthz\/?$/,
  /^\/auth(\/|$)/,
  /^\/theme\/?$/,
  /^\/_app\//
];
const STATIC_FILE = /^\/(favicon\.(ico|png|svg)|robots\.txt|apple-touch-icon[\w-]*\.png)$/;

/** Pages the co-op may choose to publish (FEDIPULSE_PUBLIC_PAGES); "overview" is /. */
export const PUBLISHABLE_PAGES: readonly string[] = PAGES.map((p) => p.key);

export type Access = 'public' | 'metrics' | 'private-page' | 'private-data';

/** FEDIPULSE_PUBLIC_PAGES="growth,retention" → a set of page names; unknown names are reported. */
export function parsePublicPages(spec: string | undefined): { pages: Set<string>; unknown: string[] } {
  const pages = new Set<string>();
  const unknown: string[] = [];
  for (const raw of (spec ?? '').split(/[\s,]+/)) {
    const name = raw.trim().toLowerCase().replace(/^\//, '') || (raw.trim() === '/' ? 'overview' : '');
    if (!name) continue;
    if (PUBLISHABLE_PAGES.includes(name)) pages.add(name);
    else unknown.push(raw.trim());
  }
  return { pages, unknown };
}

/** Data endpoints answer 401 to the unauthenticated, pages redirect to sign-in. */
function isDataPath(pathname: string): boolean {
  return /^\/(data|api)(\/|$)/.test(pathname) || /\.(json|csv|txt|ndjson)$/i.test(pathname);
}

/**
 * How a request path is protected. Anything not named public here is private, including paths no
 * route serves (so a 404 never tells an anonymous visitor which private pages exist).
 */
export function classifyPath(pathname: string, publicPages: ReadonlySet<string>): Access {
  // Percent-decoding cannot sneak past the checks: SvelteKit routes on the decoded path, so decode too.
  let p: string;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    return 'private-page';
  }
  if (p.includes('\\') || p.includes('\0') || /(^|\/)\.\.?(\/|$)/.test(p))
    return isDataPath(p) ? 'private-data' : 'private-page';
  if (ALWAYS_PUBLIC.some((r) => r.test(p)) || STATIC_FILE.test(p)) return 'public';
  if (p === '/metrics') return 'metrics';
  const first = p.split('/')[1] ?? '';
  if (p === '/' || p === '') return publicPages.has('overview') ? 'public' : 'private-page';
  // /data/<page>[...] belongs to the page it feeds: public exactly when that page is.
  if (first === 'data') {
    const page = (p.split('/')[2] ?? '').replace(/\.[a-z]+$/i, '');
    return publicPages.has(page) ? 'public' : 'private-data';
  }
  if (isDataPath(p)) return 'private-data';
  return publicPages.has(first) ? 'public' : 'private-page';
}

/**
 * The return URL after sign-in: a path inside this app, or '/' when it is anything else (another
 * origin, a scheme-relative `//host`, `/\host` that browsers treat as `//host`, control characters,
 * encoded variants of those, dot segments that normalise into one of those, or the sign-in pages).
 */
export function safeReturnPath(raw: string | null | undefined): string {
  if (!raw || raw.length > 2048 || !looksLocal(raw)) return '/';
  const base = 'http://fedipulse.invalid';
  let u: URL;
  try {
    u = new URL(raw, base);
  } catch {
    return '/';
  }
  if (u.origin !== base) return '/';
  // Check again after normalisation: dot segments can collapse into a scheme-relative path
  // ('/.//evil.com', '/x/..//evil.com', '/%2e//evil.com' all normalise to '//evil.com').
  const path = `${u.pathname}${u.search}${u.hash}`;
  if (!looksLocal(path) || /^\/auth(\/|$)/i.test(u.pathname)) return '/';
  // What the browser will make of the Location header must be this origin too.
  return new URL(path, base).origin === base ? path : '/';
}

/**
 * One leading slash, and none of `//`, `/\`, backslashes, control characters or whitespace, neither as
 * given nor percent-decoded (a few rounds, so that %2F%2F, %5C and doubly encoded forms are seen).
 */
function looksLocal(raw: string): boolean {
  let decoded = raw;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return false;
    }
    if (next === decoded) break;
    decoded = next;
  }
  for (const s of [raw, decoded]) {
    // eslint-disable-next-line no-control-regex
    if (/[\\\u0000-\u001f\u007f\s]/.test(s)) return false;
    if (!s.startsWith('/') || s.startsWith('//')) return false;
  }
  return true;
}
