import type { SecureContext } from 'node:tls';
import { domainToASCII } from 'node:url';
import type { SimClock } from '../clock.ts';
import type { HostHandler } from '../http.ts';
import { hash, pick, rng, rngFor } from '../random.ts';
import type { Ca } from '../tls.ts';
import {
  domainBlocksFor,
  PUBLIC_REASONS,
  SCRIPT_REASON,
  sha256,
  type DomainBlockEntry,
  type OwnLimit
} from './blocklists.ts';
import {
  BadCertificates,
  BEHAVIOURS,
  FAILURE_WEIGHTS,
  FAILURES,
  LYING,
  OUTCOME,
  RefuseConnection,
  type Behaviour,
  type Outcome
} from './failures.ts';
import {
  dayOf,
  deriveProfile,
  drawnOwnLimit,
  honestUsage,
  lyingUsage,
  publishesMrf,
  type PeerProfile
} from './model.ts';
import {
  FLOOD_ZONE,
  junkEntries,
  PEER_ZONES,
  peerNames,
  SHARED_NODEINFO_HOST,
  type JunkEntry
} from './names.ts';
import { serveFlood, servePeer, serveSharedNodeInfo, type PeerContext } from './serve.ts';
import { SOFTWARE, versionAtLeast, type NodeInfoDocument, type Site, type SoftwareName } from './software.ts';

export interface PeerCatalogOptions {
  seed: number;
  count: number;
  ownDomain: string;
  clock: SimClock;
  failureRate: number;
  ca: Ca;
  /** Pin behaviours on given domains (tests); `pin()` does the same at run time. */
  behaviours?: Record<string, Behaviour>;
  /** Entries of the fake-subdomain flood in the peers list (default 2% of count, at least 20). */
  floodCount?: number;
}

/** What the own server needs to know of a peer (its follows, reports and blocks refer to peers). */
export interface SimPeer {
  domain: string;
  software: string;
  usersTotal: number;
  /** Behaviour today ('ok' or the failure), see failures.ts. */
  behaviour: Behaviour;
  /** False once the server has shut down (refused or 410 for good). */
  alive: boolean;
  /** Unicode form of an IDN domain. */
  unicode?: string;
}

/** What a careful crawler should record for a peer on a day (compare with peer_observations). */
export interface ExpectedObservation {
  domain: string;
  behaviour: Behaviour;
  outcome: Outcome | 'robots_disallowed' | 'http_error';
  /** NodeInfo software.name as stored (lowercase), null unless the outcome is ok. */
  software: string | null;
  version: string | null;
  usersTotal: number | null;
  activeMonth: number | null;
  /** The values should be flagged: lies (active > total, negative, > 2^31, jumps) or fake stats. */
  suspect: boolean;
  fake?: 'baffle' | 'zero';
  /** The honest numbers behind whatever is served. */
  actual: { software: SoftwareName; usersTotal: number; activeMonth: number };
}

export interface OwnLimitView {
  peer: string;
  severity: 'silence' | 'suspend';
  matchedBy: 'domain' | 'digest';
  comment?: string;
}

export interface PeerCatalog {
  /** DNS zones the peers live in; each gets a wildcard certificate. */
  zones: string[];
  /** The own server's /api/v1/instance/peers body: real peers plus the junk real lists carry. */
  peersListEntries(): string[];
  peers(): SimPeer[];
  get(domain: string): SimPeer | undefined;
  handler(host: string): HostHandler | undefined;
  certOverride?: (servername: string) => Promise<SecureContext | null> | SecureContext | null;
  /** Tests: the first peer (lowest index) matching, today. */
  find(pred: (p: SimPeer) => boolean): SimPeer | undefined;
  /** Tests: a domain whose behaviour today is `b` (lowest index; of `software` when one has it, Mastodon by default). */
  byBehaviour(b: Behaviour, software?: SoftwareName): string | undefined;
  /** Tests: force a behaviour on a domain from now on ('ok' makes it healthy). */
  pin(domain: string, b: Behaviour): void;
  /** What a crawler should record for `domain` at `at` (default now). */
  expected(domain: string, at?: Date): ExpectedObservation | undefined;
  /** The NodeInfo documents the host serves when reachable (for schema checks). */
  nodeinfoDocuments(domain: string, at?: Date): NodeInfoDocument[];
  /** The public domain-block list of a peer, or null when it does not publish one. */
  domainBlocks(domain: string, at?: Date): DomainBlockEntry[] | null;
  /** Reachable peers whose public list (or published MRF policy) limits the own server, at `at`. */
  limitingOwn(at?: Date): OwnLimitView[];
  /** URLs fetched through a NodeInfo link no crawler should follow (another host or port). */
  lured(): string[];
  /** The junk entries of the peers list, with what each normalises to. */
  junk(): JunkEntry[];
  /** Day 0 of the model: the UTC midnight before the clock's time at creation. */
  epoch: Date;
}

/** Lowercase ASCII without trailing dot: how SNI, Host and list entries are compared. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return /^[\x21-\x7e]*$/.test(h) ? h : domainToASCII(h);
}

const FLAG_LIMIT = 1;

export function createPeerCatalog(o: PeerCatalogOptions): PeerCatalog {
  const zones = [...PEER_ZONES, FLOOD_ZONE];
  const named = peerNames(o.seed, o.count);
  const domains = named.map((n) => n.domain);
  const unicode = new Map<number, string>();
  named.forEach((n, i) => n.unicode && unicode.set(i, n.unicode));
  const indexOf = new Map(domains.map((d, i) => [d, i]));
  const epochMs = Math.floor(o.clock.now().getTime() / 86_400_000) * 86_400_000;
  const day = (at: Date = o.clock.now()) => dayOf(epochMs, at);
  const derive = { seed: o.seed, failureRate: o.failureRate, failureWeights: FAILURE_WEIGHTS };
  const profile = (i: number): PeerProfile => deriveProfile(derive, i, domains[i]);

  // Compact per-peer codes; everything else is derived again on demand.
  const behaviourCode = new Uint8Array(o.count);
  const flags = new Uint8Array(o.count);
  const forcedLimits = new Map<number, OwnLimit>();
  const pinned = new Map<string, Behaviour>();
  for (const [d, b] of Object.entries(o.behaviours ?? {})) pinned.set(normalizeHost(d), b);
  for (let i = 0; i < o.count; i++) {
    const p = profile(i);
    behaviourCode[i] = BEHAVIOURS.indexOf(p.drawnBehaviour);
    if (drawnOwnLimit(o.seed, p)) flags[i] |= FLAG_LIMIT;
  }

  // Healthy, long-lived Mastodon 4 hosts, visited in a seeded order: where showcases go.
  const showcaseCandidates = function* (want: (p: PeerProfile) => boolean) {
    const step = o.count % 7919 === 0 ? 7907 : 7919; // coprime with count: visits every index
    const start = hash('showcase', o.seed) % Math.max(1, o.count);
    for (let k = 0; k < o.count; k++) {
      const i = (start + k * step) % o.count;
      if (i === 0 || behaviourCode[i] !== 0 || forcedLimits.has(i)) continue;
      const p = profile(i);
      if (p.software !== 'mastodon' || !versionAtLeast(p.version, 4) || p.version.startsWith('4.0.0rc'))
        continue;
      if (p.bornDay > 0 || p.diesDay !== Infinity || !want(p)) continue;
      yield i;
    }
  };
  // Every failure exists at least once whenever failures are on, so tests can always find one.
  if (o.failureRate > 0 && o.count >= 200) {
    const present = new Set(behaviourCode);
    const free = showcaseCandidates(() => true);
    for (const b of FAILURES) {
      const code = BEHAVIOURS.indexOf(b);
      if (present.has(code)) continue;
      const next = free.next();
      if (next.done) break;
      behaviourCode[next.value] = code;
    }
  }
  // Some peers always limit the own server: by name (with markup in the reason) and by digest.
  if (o.count >= 100) {
    const showcase: OwnLimit[] = [
      { severity: 'suspend', obfuscated: false, comment: SCRIPT_REASON, fromDay: -30, untilDay: Infinity },
      { severity: 'silence', obfuscated: true, comment: 'Spam', fromDay: -90, untilDay: Infinity },
      { severity: 'suspend', obfuscated: true, fromDay: -10, untilDay: Infinity }
    ];
    const listing = showcaseCandidates((p) => p.showDomainBlocks === 'all');
    for (const limit of showcase) {
      const next = listing.next();
      if (next.done) break;
      forcedLimits.set(next.value, limit);
      flags[next.value] |= FLAG_LIMIT;
    }
    // And one Pleroma/Akkoma server rejects it in its published MRF policy, among other domains.
    for (let i = 1; i < o.count; i++) {
      const p = profile(i);
      if (!publishesMrf(p) || behaviourCode[i] !== 0 || p.bornDay > 0 || p.diesDay !== Infinity) continue;
      forcedLimits.set(i, {
        severity: 'suspend',
        obfuscated: false,
        comment: PUBLIC_REASONS[1],
        fromDay: -60,
        untilDay: Infinity
      });
      flags[i] |= FLAG_LIMIT;
      break;
    }
  }

  // A jump is visible on the day it happens and the day it falls back.
  const lyingToday = (p: PeerProfile, b: Behaviour, d: number) =>
    b === 'jumps' ? (d + p.phase) % 4 <= 1 : LYING.has(b);
  const ownLimit = (p: PeerProfile): OwnLimit | undefined =>
    forcedLimits.get(p.index) ?? drawnOwnLimit(o.seed, p);

  const behaviourOn = (p: PeerProfile, d: number): Behaviour => {
    const pin = pinned.get(p.domain);
    if (pin) return pin;
    if (d < p.bornDay) return 'refused';
    if (d >= p.diesDay) return p.deathBy;
    return BEHAVIOURS[behaviourCode[p.index]];
  };

  const knownPeers = (domain: string) => () => {
    const r = rngFor(o.seed, `${domain}#peers`);
    const n = Math.min(domains.length, 5 + Math.floor(r() * 60));
    const out = new Set<string>();
    for (let k = 0; k < n; k++) out.add(domains[Math.floor(r() * domains.length)]);
    out.delete(domain);
    return [...out];
  };

  const siteOf = (p: PeerProfile, d: number, b: Behaviour): Site => {
    const usage = lyingUsage(p, b, d, honestUsage(p, d));
    return SOFTWARE[p.software].build({
      domain: p.domain,
      version: p.version,
      nodeName: p.nodeName,
      openRegistrations: p.openRegistrations,
      usage,
      r: rngFor(o.seed, `${p.domain}#quirks`),
      daily: rngFor(o.seed, `${p.domain}#day${d}`),
      lying: LYING.has(b),
      showDomainBlocks: p.showDomainBlocks,
      knownPeers: knownPeers(p.domain),
      mrf: () => ({ blocks: blocksOf(p, d, true), quarantined: quarantineOf(p) })
    });
  };

  const blocksOf = (p: PeerProfile, d: number, plain = false): DomainBlockEntry[] =>
    domainBlocksFor(rngFor(o.seed, `${p.domain}#blocks`), {
      ownDomain: o.ownDomain,
      limit: ownLimit(p),
      day: d,
      withComments: rngFor(o.seed, `${p.domain}#rationale`)() < 0.8,
      others: () => knownPeers(p.domain)().slice(0, 10),
      plain
    });

  /** Servers a Pleroma/Akkoma peer quarantines: names no other list of the simulation carries. */
  const quarantineOf = (p: PeerProfile) => {
    const r = rngFor(o.seed, `${p.domain}#quarantine`);
    return Array.from({ length: 1 + Math.floor(r() * 3) }, (_, k) => ({
      domain: `quarantined${k}-${Math.floor(r() * 1e6)}.invalid`,
      reason: pick(r, PUBLIC_REASONS)
    }));
  };
  const lured: string[] = [];

  const simPeer = (p: PeerProfile, d: number): SimPeer => {
    const b = behaviourOn(p, d);
    return {
      domain: p.domain,
      software: p.software,
      usersTotal: honestUsage(p, d).total,
      behaviour: b,
      alive: d < p.diesDay,
      ...(unicode.has(p.index) ? { unicode: unicode.get(p.index) } : {})
    };
  };

  // peers() and the list are asked for often (the own server's instance stats): one copy per day.
  let peersCache: { day: number; list: SimPeer[] } | undefined;
  let listCache: { day: number; list: string[] } | undefined;
  const flood = o.floodCount ?? Math.max(20, Math.round(o.count * 0.02));
  const junk = junkEntries(o.seed, named, flood);
  const flagshipDomain = domains[0] ?? 'flagship.social.example';

  const ctxFor = (i: number): PeerContext => {
    const p = profile(i);
    const d = day();
    const b = behaviourOn(p, d);
    return {
      profile: p,
      behaviour: b,
      now: o.clock.now(),
      site: () => siteOf(p, d, b),
      domainBlocks: () => blocksOf(p, d),
      knownPeers: knownPeers(p.domain),
      crossHost: p.index === 0 ? (domains[1] ?? flagshipDomain) : flagshipDomain,
      lured: (url) => void lured.push(url)
    };
  };

  const isOurs = (h: string) => zones.some((z) => h === z || h.endsWith(`.${z}`));
  const bad = new BadCertificates(o.ca, zones);

  return {
    zones,
    epoch: new Date(epochMs),
    peersListEntries() {
      const d = day();
      if (listCache?.day === d) return listCache.list;
      const list: string[] = [];
      for (let i = 0; i < o.count; i++) if (profile(i).bornDay <= d) list.push(domains[i]);
      list.push(...junk.map((j) => j.entry));
      // Real lists come in database order, not sorted: a seeded shuffle.
      const r = rng(hash('peers-list', o.seed));
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
      listCache = { day: d, list };
      return list;
    },
    peers() {
      const d = day();
      if (peersCache?.day === d) return peersCache.list;
      const list: SimPeer[] = [];
      for (let i = 0; i < o.count; i++) {
        const p = profile(i);
        if (p.bornDay <= d) list.push(simPeer(p, d));
      }
      peersCache = { day: d, list };
      return list;
    },
    get(domain) {
      const i = indexOf.get(normalizeHost(domain));
      return i === undefined ? undefined : simPeer(profile(i), day());
    },
    find(pred) {
      const d = day();
      for (let i = 0; i < o.count; i++) {
        const sp = simPeer(profile(i), d);
        if (pred(sp)) return sp;
      }
      return undefined;
    },
    byBehaviour(b, software = 'mastodon') {
      const d = day();
      for (const [domain, pb] of pinned) if (pb === b && indexOf.has(domain)) return domain;
      // Prefer the given software (Mastodon by default: its paths are the predictable ones).
      let fallback: string | undefined;
      for (let i = 0; i < o.count; i++) {
        const p = profile(i);
        if (behaviourOn(p, d) !== b || p.bornDay > d) continue;
        if (p.software === software) return p.domain;
        fallback ??= p.domain;
      }
      return fallback;
    },
    pin(domain, b) {
      pinned.set(normalizeHost(domain), b);
      peersCache = undefined;
    },
    expected(domain, at) {
      const h = normalizeHost(domain);
      const i = indexOf.get(h);
      if (i === undefined) return undefined;
      const p = profile(i);
      const d = day(at);
      const b = behaviourOn(p, d);
      const site = siteOf(p, d, b);
      const honest = honestUsage(p, d);
      let outcome: ExpectedObservation['outcome'] = OUTCOME[b];
      if (outcome === 'ok' && site.expected.outcome) outcome = site.expected.outcome;
      const ok = outcome === 'ok';
      return {
        domain: h,
        behaviour: b,
        outcome,
        software: ok ? site.expected.software : null,
        version: ok ? site.expected.version : null,
        usersTotal: ok ? site.expected.usersTotal : null,
        activeMonth: ok ? site.expected.activeMonth : null,
        suspect: ok && (lyingToday(p, b, d) || site.expected.fake !== undefined),
        ...(ok && site.expected.fake ? { fake: site.expected.fake } : {}),
        actual: { software: p.software, usersTotal: honest.total, activeMonth: honest.activeMonth }
      };
    },
    nodeinfoDocuments(domain, at) {
      const i = indexOf.get(normalizeHost(domain));
      if (i === undefined) return [];
      const p = profile(i);
      const d = day(at);
      return siteOf(p, d, behaviourOn(p, d)).documents;
    },
    domainBlocks(domain, at) {
      const i = indexOf.get(normalizeHost(domain));
      if (i === undefined) return null;
      const p = profile(i);
      return p.showDomainBlocks === 'all' ? blocksOf(p, day(at)) : null;
    },
    limitingOwn(at) {
      const d = day(at);
      const out: OwnLimitView[] = [];
      for (let i = 0; i < o.count; i++) {
        if (!(flags[i] & FLAG_LIMIT)) continue;
        const p = profile(i);
        const b = behaviourOn(p, d);
        const l = ownLimit(p);
        if (!l || d < l.fromDay || d >= l.untilDay || p.bornDay > d) continue;
        // A peer that cannot be read (or asks not to be) tells nothing.
        if (OUTCOME[b] !== 'ok') continue;
        const entry = blocksOf(p, d).find((e) => e.digest === sha256(o.ownDomain));
        if (!entry) continue;
        out.push({
          peer: p.domain,
          severity: l.severity,
          // MRF lists name domains in clear; only Mastodon's public list obfuscates (with a digest).
          matchedBy: l.obfuscated && !publishesMrf(p) ? 'digest' : 'domain',
          ...(entry.comment !== undefined ? { comment: entry.comment } : {})
        });
      }
      return out;
    },
    junk: () => junk,
    lured: () => lured,
    handler(host) {
      const h = normalizeHost(host);
      if (h === SHARED_NODEINFO_HOST) {
        return (req, res) =>
          serveSharedNodeInfo(req, res, (domain) => {
            const i = indexOf.get(domain);
            return i === undefined ? undefined : ctxFor(i);
          });
      }
      if (h === FLOOD_ZONE || h.endsWith(`.${FLOOD_ZONE}`)) return (req, res) => serveFlood(req, res);
      const i = indexOf.get(h);
      if (i === undefined) return undefined;
      return (req, res) => servePeer(ctxFor(i), req, res);
    },
    async certOverride(servername) {
      const h = normalizeHost(servername);
      if (!isOurs(h) || h === SHARED_NODEINFO_HOST || h === FLOOD_ZONE || h.endsWith(`.${FLOOD_ZONE}`))
        return null;
      const i = indexOf.get(h);
      // A name nobody serves, a server not yet up or gone for good: the connection is dropped.
      if (i === undefined) throw new RefuseConnection(`${h}: no such host`);
      const b = behaviourOn(profile(i), day());
      if (b === 'refused') throw new RefuseConnection(`${h}: connection refused`);
      if (b === 'tls_self_signed' || b === 'tls_expired' || b === 'tls_wrong_host') return bad.get(b);
      return null;
    }
  };
}
