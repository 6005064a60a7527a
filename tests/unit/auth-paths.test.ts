import { describe, expect, it } from 'vitest';
import { classifyPath, parsePublicPages, safeReturnPath } from '../../src/lib/server/auth/paths.ts';

const none = new Set<string>();

describe('which paths are private', () => {
  it('every dashboard page and data endpoint is private by default', () => {
    for (const p of [
      '/',
      '/growth',
      '/retention',
      '/federation',
      '/moderation',
      '/capacity',
      '/status',
      '/finances'
    ]) {
      expect(classifyPath(p, none), p).toBe('private-page');
    }
    for (const p of [
      '/data/growth.json',
      '/data/moderation',
      '/growth/export.csv',
      '/api/x',
      '/nowhere.json'
    ]) {
      expect(classifyPath(p, none), p).toBe('private-data');
    }
    expect(classifyPath('/no-such-page', none)).toBe('private-page');
  });

  it('the transparency report, sign-in, liveness and assets are public', () => {
    for (const p of [
      '/transparency',
      '/transparency/2026-Q3',
      '/transparency/2026-Q3.json',
      '/transparency/2026.csv',
      '/transparency/how',
      '/healthz',
      '/auth/signin',
      '/auth/callback',
      '/_app/immutable/x.js',
      '/favicon.png',
      '/theme'
    ]) {
      expect(classifyPath(p, none), p).toBe('public');
    }
    expect(classifyPath('/metrics', none)).toBe('metrics');
  });

  it('look-alikes of public paths stay private', () => {
    for (const p of ['/transparencyx', '/healthz/x', '/authx', '/%2e%2e/growth', '/growth%5C', '/_appx']) {
      expect(classifyPath(p, none), p).not.toBe('public');
    }
  });

  it('config publishes named pages and the data that feeds them, nothing else', () => {
    const { pages, unknown } = parsePublicPages('growth, retention,bogus');
    expect([...pages].sort()).toEqual(['growth', 'retention']);
    expect(unknown).toEqual(['bogus']);
    expect(classifyPath('/growth', pages)).toBe('public');
    expect(classifyPath('/data/growth.json', pages)).toBe('public');
    expect(classifyPath('/data/moderation.json', pages)).toBe('private-data');
    expect(classifyPath('/moderation', pages)).toBe('private-page');
    expect(classifyPath('/', parsePublicPages('overview').pages)).toBe('public');
  });
});

describe('the return URL after sign-in stays inside the app', () => {
  it('keeps paths with query and fragment', () => {
    expect(safeReturnPath('/growth')).toBe('/growth');
    expect(safeReturnPath('/moderation?range=90d#backlog')).toBe('/moderation?range=90d#backlog');
    expect(safeReturnPath('/transparency/2026-Q3')).toBe('/transparency/2026-Q3');
  });

  it.each([
    'https://evil.example/',
    'http://evil.example',
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/%2F%2Fevil.example',
    '/%2fevil.example/../',
    '%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%255Cevil.example',
    '/%09/evil.example',
    '/\t/evil.example',
    'javascript:alert(1)',
    '/javascript:alert(1)//%0a',
    'data:text/html,x',
    ' /growth',
    '/auth/signin?return=//evil.example',
    '/auth/callback',
    '',
    null,
    undefined,
    `/${'a'.repeat(3000)}`
  ])('refuses %s', (raw) => {
    const out = safeReturnPath(raw as string);
    expect(out === '/' || (out.startsWith('/') && !out.startsWith('//') && !out.includes('\\'))).toBe(true);
    expect(new URL(out, 'http://app.test').origin).toBe('http://app.test');
    expect(out).not.toMatch(/^\/auth/);
  });
});
