import { describe, expect, it } from 'vitest';
import { findOwnDomainBlock, findOwnMrfBlock, sha256 } from '../../collectors/peers/blocks.ts';
import { domainList, optOutMatcher } from '../../collectors/peers/config.ts';
import { nextState } from '../../collectors/peers/crawl.ts';
import { parseInstance } from '../../collectors/peers/instance.ts';
import { chooseNodeinfoLink, parseNodeinfo, readBool, readCount } from '../../collectors/peers/nodeinfo.ts';
import { readJson, redirectVerdict, retryAfter, sameSite } from '../../collectors/net/fetch.ts';

const NS = 'http://nodeinfo.diaspora.software/ns/schema/';
const base = new URL('https://peer.example/.well-known/nodeinfo');
const doc = (
  over: Record<string, unknown> = {},
  usage: unknown = { users: { total: 10, activeMonth: 3 } }
) => ({
  version: '2.0',
  software: { name: 'mastodon', version: '4.3.0' },
  protocols: ['activitypub'],
  services: { inbound: [], outbound: [] },
  openRegistrations: true,
  usage,
  metadata: {},
  ...over
});
const ok = (d: unknown, prev: { usersTotal: number | null } | null = null) => {
  const r = parseNodeinfo(d, prev);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('discovery quirks (NODEINFO-QUIRKS.md)', () => {
  it('chooses by rel, never by position, and the highest version understood', () => {
    const d = {
      links: [
        { rel: 'https://www.w3.org/ns/activitystreams#Application', href: 'https://peer.example/actor' },
        { rel: `${NS}2.0`, href: 'https://peer.example/nodeinfo/2.0' },
        { rel: `${NS}2.1`, href: 'https://peer.example/nodeinfo/2.1' },
        { rel: `${NS}1.0`, href: 'https://peer.example/nodeinfo/1.0' }
      ]
    };
    expect(chooseNodeinfoLink(d, base)?.href.href).toBe('https://peer.example/nodeinfo/2.1');
  });
  it('accepts the https rel variant (WordPress) and a trailing slash', () => {
    const d = {
      links: [{ rel: 'https://nodeinfo.diaspora.software/ns/schema/2.0/', href: '/wp-json/ap/nodeinfo/2.0' }]
    };
    expect(chooseNodeinfoLink(d, base)).toMatchObject({ version: '2.0' });
    expect(chooseNodeinfoLink(d, base)?.href.href).toBe('https://peer.example/wp-json/ap/nodeinfo/2.0');
  });
  it('reads links as a single object, and the Hubzilla sibling "0" key', () => {
    expect(
      chooseNodeinfoLink({ links: { rel: `${NS}2.0`, href: 'https://p.example/n' } }, base)?.version
    ).toBe('2.0');
    const hub = {
      links: { rel: `${NS}1.0`, href: 'https://p.example/1' },
      0: { rel: `${NS}2.0`, href: 'https://p.example/2' }
    };
    expect(chooseNodeinfoLink(hub, base)?.href.href).toBe('https://p.example/2');
  });
  it('upgrades an http href (BookWyrm) to https and keeps a href on another host', () => {
    expect(
      chooseNodeinfoLink({ links: [{ rel: `${NS}2.0`, href: 'http://peer.example/nodeinfo/2.0' }] }, base)
        ?.href.protocol
    ).toBe('https:');
    expect(
      chooseNodeinfoLink({ links: [{ rel: `${NS}2.0`, href: 'https://public-api.blogs.example/x' }] }, base)
        ?.href.hostname
    ).toBe('public-api.blogs.example');
  });
  it('only 2.1 advertised (Lemmy 0.19.4+), only 2.2, or nothing usable', () => {
    expect(chooseNodeinfoLink({ links: [{ rel: `${NS}2.1`, href: '/n/2.1' }] }, base)?.version).toBe('2.1');
    expect(chooseNodeinfoLink({ links: [{ rel: `${NS}2.2`, href: '/n/2.2' }] }, base)?.version).toBe('2.2');
    expect(chooseNodeinfoLink({ links: [{ rel: 'self', href: '/x' }] }, base)).toBeNull();
    expect(
      chooseNodeinfoLink({ links: [{ rel: `${NS}2.0`, href: 'javascript:alert(1)' }] }, base)
    ).toBeNull();
    expect(chooseNodeinfoLink('nope', base)).toBeNull();
  });
});

describe('document quirks', () => {
  it('numbers as strings, string booleans, capitalised names', () => {
    const v = ok(
      doc(
        { software: { name: 'Mobilizon', version: 2 }, openRegistrations: 'FALSE' },
        { users: { total: '1,234', activeMonth: '12' }, localPosts: '7' }
      )
    );
    expect(v).toMatchObject({
      software: 'mobilizon',
      softwareVersion: '2',
      usersTotal: 1234,
      usersActiveMonth: 12,
      localPosts: 7,
      openRegistrations: false
    });
    expect(v.suspectReasons).toEqual([]);
  });
  it('metadata [] , missing services/metadata, protocols null or non-enum, users {} or null counts', () => {
    expect(ok(doc({ metadata: [] })).quirks).toContain('metadata is an array');
    const lemmy = {
      version: '2.0',
      software: { name: 'lemmy', version: '0.19.3' },
      protocols: null,
      usage: { users: { total: 5 } },
      openRegistrations: true
    };
    expect(ok(lemmy).usersTotal).toBe(5);
    expect(ok(doc({ protocols: ['dfrn', 'bluesky'] })).software).toBe('mastodon');
    expect(ok(doc({}, { users: {} }))).toMatchObject({ usersTotal: null, usersActiveMonth: null });
    expect(ok(doc({}, { users: { total: 4, activeMonth: null, activeHalfyear: null } }))).toMatchObject({
      usersTotal: 4,
      usersActiveMonth: null
    });
    expect(ok(doc({}, null)).usersTotal).toBeNull();
    expect(ok(doc({ usage: undefined })).usersTotal).toBeNull();
  });
  it('localPosts as an object uses .all', () => {
    expect(ok(doc({}, { users: { total: 1 }, localPosts: { all: 3, direct: 1 } })).localPosts).toBe(3);
  });
  it('a document naming no software is invalid (e.g. the instance actor served instead)', () => {
    expect(parseNodeinfo({ type: 'Application', id: 'https://x/actor' }).ok).toBe(false);
    expect(parseNodeinfo([]).ok).toBe(false);
    expect(parseNodeinfo(null).ok).toBe(false);
  });
});

describe('numbers that lie are flagged suspect, raw value kept', () => {
  it('negative, above 2^31, not finite', () => {
    expect(ok(doc({}, { users: { total: -5 } })).suspectReasons[0]).toMatch(/negative/);
    const big = ok(doc({}, { users: { total: 2 ** 31 + 5 }, localPosts: 2 ** 53 - 1 }));
    expect(big.suspectReasons.join()).toMatch(/implausibly large/);
    expect(big.usersTotal).toBe(2 ** 31 + 5);
    expect(ok(doc({}, { users: { total: 1e300 } })).suspectReasons.join()).toMatch(/implausibly large/);
  });
  it('active above total', () => {
    expect(ok(doc({}, { users: { total: 20, activeMonth: 21 } })).suspectReasons[0]).toMatch(
      /active_month 21 > total 20/
    );
  });
  it('×100 jumps against the previous observation, not tiny changes', () => {
    expect(ok(doc({}, { users: { total: 500_000 } }), { usersTotal: 5000 }).suspectReasons[0]).toMatch(
      /jumped/
    );
    expect(ok(doc({}, { users: { total: 50 } }), { usersTotal: 5000 }).suspectReasons[0]).toMatch(/jumped/);
    expect(ok(doc({}, { users: { total: 90 } }), { usersTotal: 1 }).suspectReasons).toEqual([]);
    expect(ok(doc({}, { users: { total: 200 } }), { usersTotal: 2 }).suspectReasons[0]).toMatch(/jumped/);
    expect(ok(doc({}, { users: { total: 6000 } }), { usersTotal: 5000 }).suspectReasons).toEqual([]);
  });
  it('readCount / readBool edge cases', () => {
    expect(readCount('abc', 'x').value).toBeNull();
    expect(readCount(true, 'x').value).toBeNull();
    expect(readCount(3.5, 'x').reason).toMatch(/integer/);
    expect(readBool('TRUE')).toBe(true);
    expect(readBool('maybe')).toBeNull();
  });
});

describe('does a peer limit us?', () => {
  const own = 'social.coop.example';
  it('by name, by parent domain, by digest of an obfuscated name; nothing else kept', () => {
    expect(
      findOwnDomainBlock(
        [{ domain: 'other.example', digest: sha256('other.example'), severity: 'suspend' }],
        own
      )
    ).toBeNull();
    expect(
      findOwnDomainBlock([{ domain: own, digest: sha256(own), severity: 'silence', comment: 'spam' }], own)
    ).toEqual({ severity: 'silence', matchedBy: 'domain', comment: 'spam' });
    expect(
      findOwnDomainBlock(
        [{ domain: 'coop.example', digest: sha256('coop.example'), severity: 'suspend' }],
        own
      )
    ).toMatchObject({ matchedBy: 'domain', severity: 'suspend' });
    expect(
      findOwnDomainBlock(
        [{ domain: 'so**al.c**p.example', digest: sha256(own).toUpperCase(), severity: 'suspend' }],
        own
      )
    ).toEqual({ severity: 'suspend', matchedBy: 'digest', comment: null });
    expect(findOwnDomainBlock({ error: 'nope' }, own)).toBeNull();
  });
  it('Pleroma/Akkoma MRF in NodeInfo metadata, names and wildcards', () => {
    const ni = (simple: unknown, info: unknown = {}) => ({
      metadata: { federation: { mrf_simple: simple, mrf_simple_info: info } }
    });
    expect(
      findOwnMrfBlock(ni({ reject: ['a.example', own] }, { reject: { [own]: { reason: 'bad' } } }), own)
    ).toEqual({ severity: 'suspend', matchedBy: 'domain', comment: 'bad' });
    expect(findOwnMrfBlock(ni({ federated_timeline_removal: ['*.coop.example'] }), own)).toMatchObject({
      severity: 'silence'
    });
    expect(findOwnMrfBlock(ni({ reject: [[own, 'why']] }), own)).toMatchObject({ comment: 'why' });
    expect(findOwnMrfBlock(ni({ reject: ['*.other.example'] }), own)).toBeNull();
    expect(findOwnMrfBlock({ metadata: [] }, own)).toBeNull();
  });
});

describe('network policy helpers', () => {
  const from = new URL('https://peer.example/.well-known/nodeinfo');
  it('redirects: same-site followed; cross-host, http, ports refused; IP literals are refused addresses', () => {
    expect(redirectVerdict(from, new URL('https://peer.example/.well-known/nodeinfo/'), false)).toBeNull();
    expect(redirectVerdict(from, new URL('https://www.peer.example/x'), false)).toBeNull();
    expect(redirectVerdict(from, new URL('https://other.example/x'), false)?.outcome).toBe(
      'redirect_refused'
    );
    expect(redirectVerdict(from, new URL('https://other.example/x'), true)).toBeNull();
    expect(redirectVerdict(from, new URL('http://peer.example/x'), false)?.outcome).toBe('redirect_refused');
    expect(redirectVerdict(from, new URL('https://peer.example:8443/x'), false)?.outcome).toBe(
      'redirect_refused'
    );
    expect(redirectVerdict(from, new URL('https://127.0.0.1/x'), true)?.outcome).toBe('refused_address');
    expect(redirectVerdict(from, new URL('https://[::1]/x'), true)?.outcome).toBe('refused_address');
    expect(sameSite('Peer.example.', 'www.peer.example')).toBe(true);
  });
  it('bodies: HTML, challenge pages, PHP warnings and truncated JSON are not JSON; a BOM is fine', () => {
    expect(readJson(Buffer.from('<!DOCTYPE html><title>Just a moment...</title>')).ok).toBe(false);
    expect(readJson(Buffer.from('<br />\n<b>Warning</b> {"a":1}')).ok).toBe(false);
    expect(readJson(Buffer.from('{"version":"2.0","usage":{"tot')).ok).toBe(false);
    expect(readJson(Buffer.from('')).ok).toBe(false);
    expect(readJson(Buffer.from('\ufeff {"a":1}\n'))).toMatchObject({ ok: true, value: { a: 1 } });
  });
  it('Retry-After in seconds or as a date, capped', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(retryAfter('3600', now)?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(retryAfter('Thu, 01 Jan 2026 02:00:00 GMT', now)?.toISOString()).toBe('2026-01-01T02:00:00.000Z');
    expect(retryAfter('99999999999', now)?.toISOString()).toBe('2026-01-08T00:00:00.000Z');
    expect(retryAfter('soon', now)).toBeNull();
  });
  it('backoff: ok and robots next day, gone never, failures 1, 2, 4 … 64 days, Retry-After wins when later', () => {
    const day = '2026-03-01';
    expect(nextState('ok', 3, day, null)).toEqual({
      hostState: 'ok',
      consecutiveFailures: 0,
      nextAttemptAt: new Date('2026-03-02T00:00:00Z')
    });
    expect(nextState('gone', 0, day, null)).toMatchObject({ hostState: 'gone', nextAttemptAt: null });
    expect(nextState('robots_disallowed', 0, day, null).nextAttemptAt).toEqual(
      new Date('2026-03-02T00:00:00Z')
    );
    expect(nextState('timeout', 0, day, null).nextAttemptAt).toEqual(new Date('2026-03-02T00:00:00Z'));
    expect(nextState('timeout', 2, day, null)).toMatchObject({
      consecutiveFailures: 3,
      nextAttemptAt: new Date('2026-03-05T00:00:00Z')
    });
    expect(nextState('unreachable', 20, day, null).nextAttemptAt).toEqual(new Date('2026-05-04T00:00:00Z'));
    expect(nextState('http_error', 0, day, new Date('2026-03-04T00:00:00Z')).nextAttemptAt).toEqual(
      new Date('2026-03-04T00:00:00Z')
    );
  });
  it('opt-out covers subdomains; lists are comma or space separated and normalised', () => {
    expect(domainList('A.example, b.example  ÄPFEL.example,,*.bad 1.2.3.4')).toEqual([
      'a.example',
      'b.example',
      'xn--pfel-koa.example'
    ]);
    const out = optOutMatcher(['a.example']);
    expect([out('a.example'), out('x.a.example'), out('ba.example')]).toEqual([true, true, false]);
  });
  it('instance API: v2 active_month, v1 user_count kept apart', () => {
    expect(
      parseInstance({ title: 'T', version: '4.3.0', usage: { users: { active_month: 7 } } }, 'v2')
    ).toMatchObject({ title: 'T', activeMonth: 7 });
    expect(parseInstance({ uri: 'x', title: 'T', stats: { user_count: '12' } }, 'v1')).toMatchObject({
      userCount: 12
    });
    expect(parseInstance('<html>', 'v1')).toBeNull();
  });
});
