/**
 * What the co-op's server knows about each peer: follows both ways, statuses and accounts seen, media
 * cached. Bigger peers weigh more; each peer's relationship grows in step with the co-op's own
 * membership, so per-day values are the increments of one cumulative curve and always add up.
 */
import { createHash } from 'node:crypto';
import type { SimPeer, PeerCatalog } from '../peers/index.ts';
import { hash, rngFor, type Rng } from '../random.ts';
import { elapsed, type History } from './history.ts';
import { dayOf } from './dates.ts';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The membership size the per-peer bases are scaled to. */
const SCALE = 3000;

export interface PeerBase {
  follows: number;
  followers: number;
  statuses: number;
  accounts: number;
  mediaBytes: number;
}

export interface PeerIndex {
  list: SimPeer[];
  byDomain: Map<string, SimPeer>;
  /** Cumulative pick weights (usersTotal^0.7): reports and spam waves come from big and small peers alike. */
  cum: Float64Array;
  base(domain: string): PeerBase | null;
}

export function indexPeers(seed: number, catalog: Pick<PeerCatalog, 'peers'>): PeerIndex {
  const list = catalog.peers();
  const cum = new Float64Array(list.length);
  let acc = 0;
  list.forEach((p, i) => {
    acc += Math.pow(Math.max(1, p.usersTotal), 0.7);
    cum[i] = acc;
  });
  const byDomain = new Map(list.map((p) => [p.domain, p]));
  const bases = new Map<string, PeerBase>();
  return {
    list,
    byDomain,
    cum,
    base(domain) {
      const peer = byDomain.get(domain);
      if (!peer) return null;
      let b = bases.get(domain);
      if (!b) {
        b = peerBase(seed, peer);
        bases.set(domain, b);
      }
      return b;
    }
  };
}

export function pickPeer(ix: PeerIndex, r: Rng): SimPeer | undefined {
  if (ix.list.length === 0) return undefined;
  const x = r() * ix.cum[ix.cum.length - 1];
  let lo = 0;
  let hi = ix.cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ix.cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return ix.list[lo];
}

function peerBase(seed: number, p: SimPeer): PeerBase {
  const r = rngFor(seed, `peer-relation:${p.domain}`);
  // Topical affinity: some small peers are much closer to the co-op than their size suggests.
  const affinity = Math.exp(0.8 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
  const size = Math.max(1, p.usersTotal);
  const follows = Math.round(Math.pow(size, 0.6) * 0.9 * affinity);
  const followers = Math.round(Math.pow(size, 0.6) * 1.05 * affinity * (0.7 + 0.6 * r()));
  const accounts = Math.max(1, Math.round(follows * 1.4 + Math.pow(size, 0.45)));
  const statuses = Math.round(accounts * (40 + 160 * r()) * affinity);
  const mediaBytes = Math.round(statuses * 0.18 * (250_000 + 500_000 * r()));
  return { follows, followers, statuses, accounts, mediaBytes };
}

/**
 * Cumulative growth per day, computed once per history: index d = signups on days < d, as a share of SCALE.
 */
export function growthCurve(h: History): Float64Array {
  const out = new Float64Array(h.horizon + 1);
  for (let d = 0; d < h.horizon; d++) out[d + 1] = out[d] + h.signups[d] / SCALE;
  return out;
}

/** The per-peer value accumulated before `day` (days < day), as of `nowMs`. */
export function peerCumulative(curve: Float64Array, base: number, day: number, nowMs: number): number {
  const nowDay = dayOf(nowMs);
  if (day <= 0) return 0;
  if (day <= nowDay) return Math.floor(base * curve[Math.min(day, curve.length - 1)]);
  const today = Math.min(nowDay, curve.length - 2);
  if (today < 0) return 0;
  const partial = curve[today] + (curve[today + 1] - curve[today]) * elapsed(nowMs);
  return Math.floor(base * partial);
}

/** A stable pseudo-random integer for (seed, key): for values that must not drift between requests. */
export const stable = (seed: number, key: string, mod: number): number => hash(key, seed) % mod;
