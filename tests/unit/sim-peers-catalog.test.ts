import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sim/clock.ts';
import {
  createPeerCatalog,
  FAILURES,
  PEER_ZONES,
  FLOOD_ZONE,
  obfuscate,
  sha256
} from '../../sim/peers/index.ts';

const ca = { cert: '', key: '', certPath: '' };
const start = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;
const make = (o: { seed?: number; count?: number; failureRate?: number; clock?: SimClock } = {}) =>
  createPeerCatalog({
    seed: o.seed ?? 42,
    count: o.count ?? 5000,
    ownDomain: 'social.coop.example',
    clock: o.clock ?? new SimClock(start),
    failureRate: o.failureRate ?? 0.15,
    ca
  });

describe('peer catalog', () => {
  it('is the same catalog for the same seed, another for another seed', () => {
    const a = make();
    const b = make();
    expect(b.peersListEntries()).toEqual(a.peersListEntries());
    const sample = a.peers().filter((_, i) => i % 250 === 0);
    for (const p of sample) {
      expect(b.expected(p.domain)).toEqual(a.expected(p.domain));
      expect(b.nodeinfoDocuments(p.domain)).toEqual(a.nodeinfoDocuments(p.domain));
    }
    expect(make({ seed: 43 }).peersListEntries()).not.toEqual(a.peersListEntries());
  });

  it('looks like the fediverse: mostly Mastodon, mostly tiny, a few huge', () => {
    const peers = make().peers();
    const mastodon = peers.filter((p) => p.software === 'mastodon').length / peers.length;
    expect(mastodon).toBeGreaterThan(0.55);
    expect(mastodon).toBeLessThan(0.75);
    const sizes = peers.map((p) => p.usersTotal).sort((x, y) => x - y);
    expect(sizes[sizes.length >> 1]).toBeLessThan(50);
    expect(sizes.filter((s) => s >= 100_000).length).toBeGreaterThanOrEqual(2);
    for (const p of peers) {
      const zone = p.domain.slice(p.domain.indexOf('.') + 1);
      expect(PEER_ZONES as readonly string[]).toContain(zone);
      expect(p.domain).toMatch(/^[a-z0-9-]+\.[a-z]+\.(example|test)$/);
    }
  });

  it('every failure can be found, and a host can be pinned to one', () => {
    const c = make();
    for (const b of FAILURES) {
      const host = c.byBehaviour(b);
      expect(host, b).toBeDefined();
      expect(c.get(host!)?.behaviour).toBe(b);
    }
    const healthy = c.byBehaviour('ok')!;
    c.pin(healthy, 'gzip_bomb');
    expect(c.byBehaviour('gzip_bomb')).toBe(healthy);
    expect(c.expected(healthy)?.outcome).toBe('too_large');
    expect(c.find((p) => p.behaviour === 'refused')?.domain).toBeDefined();
  });

  it('tells crawler tests what to expect per peer', () => {
    const c = make();
    const ok = c.expected(c.byBehaviour('ok')!)!;
    expect(ok).toMatchObject({ outcome: 'ok', software: 'mastodon', suspect: false });
    expect(ok.usersTotal).toBeGreaterThan(0);
    expect(c.expected(c.byBehaviour('refused')!)).toMatchObject({ outcome: 'unreachable', software: null });
    expect(c.expected(c.byBehaviour('gone')!)).toMatchObject({ outcome: 'gone' });
    const lie = c.expected(c.byBehaviour('active_gt_total')!)!;
    expect(lie.suspect).toBe(true);
    expect(lie.activeMonth!).toBeGreaterThan(lie.usersTotal!);
    expect(c.expected(c.byBehaviour('huge_numbers')!)!.usersTotal!).toBeGreaterThan(2 ** 31);
    const gts = c.find(
      (p) =>
        p.software === 'gotosocial' &&
        p.behaviour === 'ok' &&
        c.expected(p.domain)?.outcome === 'robots_disallowed'
    );
    expect(gts).toBeDefined();
  });

  it('grows slowly day by day; servers appear and die', () => {
    const clock = new SimClock(start);
    const c = make({ clock });
    const flagship = c.peers()[0];
    const listed = c.peersListEntries().length;
    const alive = c.peers().filter((p) => p.alive).length;
    clock.advance(120 * DAY);
    const later = c.get(flagship.domain)!;
    expect(later.usersTotal).toBeGreaterThan(flagship.usersTotal);
    expect(later.usersTotal).toBeLessThan(flagship.usersTotal * 2);
    expect(c.peersListEntries().length).toBeGreaterThan(listed);
    expect(c.peers().filter((p) => p.alive).length).toBeLessThan(
      alive + (c.peersListEntries().length - listed)
    );
    expect(c.peers().some((p) => !p.alive)).toBe(true);
  });

  it('carries the junk real peers lists carry', () => {
    const c = make();
    const list = c.peersListEntries();
    const kinds = new Set(c.junk().map((j) => j.kind));
    for (const k of [
      'duplicate',
      'uppercase',
      'trailing_dot',
      'unicode_idn',
      'space',
      'wildcard',
      'ip_port',
      'flood'
    ]) {
      expect(kinds, k).toContain(k);
    }
    expect(list).toContain('*.bad.example');
    expect(list).toContain('203.0.113.5:8080');
    expect(list.some((e) => e.endsWith(`.${FLOOD_ZONE}`))).toBe(true);
    expect(list.some((e) => e.endsWith('.') && e !== '.')).toBe(true);
    expect(new Set(list).size).toBeLessThan(list.length);
    // The Unicode IDN and its punycode twin are one host; the handler answers the punycode name.
    const idn = c.junk().find((j) => j.kind === 'unicode_idn')!;
    expect(list).toContain(idn.entry);
    expect(list).toContain(idn.normalizesTo);
    expect(domainToASCII(idn.entry)).toBe(idn.normalizesTo);
    expect(idn.normalizesTo).toMatch(/^xn--/);
    expect(c.handler(idn.normalizesTo!)).toBeDefined();
    expect(c.handler(`spam123.${FLOOD_ZONE}`)).toBeDefined();
  });

  it('some peers limit the own server, by name or by digest, with public reasons', () => {
    const c = make();
    const limiting = c.limitingOwn();
    expect(limiting.some((l) => l.matchedBy === 'domain')).toBe(true);
    expect(limiting.some((l) => l.matchedBy === 'digest')).toBe(true);
    expect(limiting.some((l) => l.comment?.includes('<script>alert(1)</script>'))).toBe(true);
    const digest = sha256('social.coop.example');
    const byDigest = limiting.find((l) => l.matchedBy === 'digest')!;
    const entry = c.domainBlocks(byDigest.peer)!.find((e) => e.digest === digest)!;
    expect(entry.domain).toBe(obfuscate('social.coop.example'));
    expect(entry.domain).toContain('*');
    expect(['silence', 'suspend']).toContain(entry.severity);
    const other = c.domainBlocks(byDigest.peer)!.filter((e) => e.digest !== digest);
    for (const e of other) expect(e.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('builds 100,000 peers lazily and small', () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const t = performance.now();
    const c = make({ count: 100_000 });
    const built = performance.now() - t;
    const peers = c.peers();
    const heapMb = (process.memoryUsage().heapUsed - before) / 1e6;
    console.log(`100,000 peers: built in ${built.toFixed(0)} ms, heap +${heapMb.toFixed(0)} MB`);
    expect(peers.length).toBeGreaterThan(90_000);
    expect(heapMb).toBeLessThan(400);
  });
});
