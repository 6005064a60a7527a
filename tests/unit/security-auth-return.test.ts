import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../src/lib/server/auth/paths.ts';

/**
 * The return URL after sign-in goes into a Location header. Whatever it is, a browser resolving it against
 * the dashboard must stay on the dashboard: the truth here is the WHATWG URL parser (the one browsers
 * follow), not the code under test.
 */
const DASHBOARD = 'https://stats.coop.example';
const where = (out: string, from = `${DASHBOARD}/auth/callback?code=x&state=y`) => new URL(out, from);

describe('return paths that only become scheme-relative after normalisation', () => {
  it.each([
    '/.//evil.com',
    '/x/..//evil.com',
    '/%2e//evil.com',
    '/%2E%2e//evil.com',
    '/a/b/../..//evil.com/x'
  ])('%s is refused', (raw) => {
    // The URL parser itself turns each of these into //evil.com: an open redirect if passed on.
    expect(new URL(raw, 'http://x').pathname.startsWith('//')).toBe(true);
    const out = safeReturnPath(raw);
    expect(out).toBe('/');
    expect(where(out).origin).toBe(DASHBOARD);
  });

  it('paths with harmless dot segments still lead where they point', () => {
    expect(safeReturnPath('/./growth')).toBe('/growth');
    expect(safeReturnPath('/moderation/../status?x=1')).toBe('/status?x=1');
  });
});

describe('property: no accepted return path resolves off-origin', () => {
  // Pieces that parsers treat specially, glued together in any order.
  const piece = fc.constantFrom(
    '/',
    '//',
    '\\',
    '.',
    '..',
    '%2e',
    '%2E',
    '%2f',
    '%2F',
    '%5c',
    '%5C',
    '%25',
    '%09',
    '%0a',
    '%00',
    '\t',
    '\n',
    ' ',
    '@',
    ':',
    '?',
    '#',
    ';',
    'evil.com',
    'x',
    'growth',
    'auth',
    'http:',
    'https:',
    'javascript:',
    '\u3002',
    '\uff0f'
  );
  const candidate = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((p) => `/${p.join('')}`),
    fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
    fc.string({ maxLength: 40 })
  );

  it('every output is a same-origin path, also after the browser resolves it', () => {
    fc.assert(
      fc.property(candidate, (raw) => {
        const out = safeReturnPath(raw);
        expect(out.startsWith('/')).toBe(true);
        expect(out.startsWith('//') || out.startsWith('/\\')).toBe(false);
        // Resolved from any page of the dashboard, as a browser follows a Location header.
        for (const from of [`${DASHBOARD}/`, `${DASHBOARD}/auth/callback?code=1`, `${DASHBOARD}/a/b/c`]) {
          const u = where(out, from);
          expect(u.origin).toBe(DASHBOARD);
          expect(u.pathname.startsWith('//')).toBe(false);
        }
        // Stable: what is accepted once is accepted again unchanged (nothing is left to normalise).
        expect(safeReturnPath(out)).toBe(out);
      }),
      { numRuns: 5000 }
    );
  });
});
