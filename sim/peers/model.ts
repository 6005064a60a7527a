import { logNormal, normal, rngFor, weighted, type Rng } from '../random.ts';
import { ownLimitFor, type OwnLimit } from './blocklists.ts';
import { LYING, type Behaviour } from './failures.ts';
import {
  SOFTWARE,
  SOFTWARE_WEIGHTS,
  nodeNameFor,
  pickVersion,
  versionAtLeast,
  type SoftwareName,
  type Usage
} from './software.ts';

/**
 * One peer's lasting traits, derived from (seed, domain) alone whenever needed and never stored:
 * the catalog keeps only compact codes, so 100,000 peers cost a few megabytes.
 */
export interface PeerProfile {
  index: number;
  domain: string;
  software: SoftwareName;
  version: string;
  nodeName: string;
  openRegistrations: boolean;
  /** Users on day 0 (or on the day the server appeared). */
  users0: number;
  /** Daily growth rate of users. */
  growth: number;
  activeShare: number;
  halfyearShare: number;
  postsPerUser: number;
  commentsPerUser: number;
  /** Day the server appears (≤ 0: it exists when the simulation starts). */
  bornDay: number;
  /** Day the server goes away (Infinity: never), and how. */
  diesDay: number;
  deathBy: 'refused' | 'gone';
  /** Mastodon ≥ 4.0 `show_domain_blocks`. */
  showDomainBlocks: 'all' | 'users' | 'disabled' | 'absent';
  /** The failure this host would have if the catalog did not pin another one. */
  drawnBehaviour: Behaviour;
  /** Phase for periodic effects (activity waves, lying jumps). */
  phase: number;
}

export interface DeriveOptions {
  seed: number;
  failureRate: number;
  failureWeights: readonly (readonly [Behaviour, number])[];
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Everything about a peer that does not depend on the day. */
export function deriveProfile(o: DeriveOptions, index: number, domain: string): PeerProfile {
  const r = rngFor(o.seed, domain);
  // Index 0 is the flagship (the sim's mastodon.social): big, Mastodon, healthy.
  const flagship = index === 0;
  const software = flagship ? 'mastodon' : weighted(r, SOFTWARE_WEIGHTS);
  const kind = SOFTWARE[software];
  const version = flagship ? '4.4.5' : pickVersion(r, software);
  const big = flagship || (kind.size.big && r() < 0.002);
  // Heavy tail: most servers are tiny, a few have 100k+ users.
  const users0 = big
    ? Math.round(100_000 * Math.exp(Math.abs(normal(r)) * 1.3))
    : Math.max(1, Math.round(logNormal(r, kind.size.median, kind.size.sigma)));
  const life = rngFor(o.seed, `${domain}#life`);
  const bornDay = life() < 0.06 && !flagship ? 1 + Math.floor(life() * 180) : -Math.floor(life() * 2000);
  const newcomer = bornDay > 0;
  const growth = newcomer ? 0.01 + life() * 0.02 : clamp(0.0006 + normal(life) * 0.0008, -0.0008, 0.006);
  const activeShare = users0 < 5 ? 0.6 + life() * 0.4 : clamp(logNormal(life, 0.18, 0.6), 0.01, 0.9);
  const halfyearShare = clamp(activeShare * (1.5 + life() * 1.5), activeShare, 1);
  const fail = rngFor(o.seed, `${domain}#fail`);
  const failing = !flagship && fail() < o.failureRate;
  const drawnBehaviour: Behaviour = failing ? weighted(fail, o.failureWeights) : 'ok';
  const dies = !flagship && fail() < o.failureRate * 0.3;
  const diesDay = dies ? 1 + Math.floor(fail() * 365) : Infinity;
  const deathBy = fail() < 0.8 ? 'refused' : 'gone';
  const mastodon4 = software === 'mastodon' && versionAtLeast(version, 4);
  const showDomainBlocks = mastodon4
    ? weighted(r, [
        ['all', 30],
        ['users', 10],
        ['disabled', 60]
      ] as const)
    : 'absent';
  return {
    index,
    domain,
    software,
    version,
    nodeName: flagship ? 'Flagship Social' : nodeNameFor(r, domain),
    openRegistrations: r() < (software === 'mastodon' ? 0.55 : 0.4),
    users0,
    growth,
    activeShare,
    halfyearShare,
    postsPerUser: logNormal(r, 150, 1),
    commentsPerUser: software === 'lemmy' || software === 'peertube' ? logNormal(r, 40, 1) : 0,
    bornDay,
    diesDay,
    deathBy,
    showDomainBlocks,
    drawnBehaviour,
    phase: Math.floor(r() * 360)
  };
}

/** The honest numbers on `day`: growth from day 0, or from the day a newcomer appeared. */
export function honestUsage(p: PeerProfile, day: number): Usage {
  const t = day - Math.max(p.bornDay, 0);
  const total = Math.max(1, Math.round(p.users0 * Math.exp(p.growth * t)));
  // Activity breathes over a month; the count never exceeds the members when honest.
  const wave = 1 + 0.08 * Math.sin((2 * Math.PI * (day + p.phase)) / 30);
  const activeMonth = Math.min(total, Math.max(0, Math.round(total * p.activeShare * wave)));
  const activeHalfyear = Math.min(total, Math.max(activeMonth, Math.round(total * p.halfyearShare)));
  const postRate = Math.max(0.05, p.users0 * p.activeShare * 0.8);
  const localPosts = Math.max(0, Math.round(p.users0 * p.postsPerUser + postRate * t));
  const localComments = Math.max(0, Math.round(total * p.commentsPerUser));
  return { total, activeMonth, activeHalfyear, localPosts, localComments };
}

/** The numbers a lying host serves instead (flagged `suspect` in the expectations). */
export function lyingUsage(p: PeerProfile, b: Behaviour, day: number, u: Usage): Usage {
  if (!LYING.has(b)) return u;
  switch (b) {
    case 'active_gt_total':
      // Mastodon's login HyperLogLog counts more than the confirmed members (gotosocial#1307).
      return { ...u, activeMonth: u.total + 1 + Math.floor(u.total * 0.05), activeHalfyear: u.total + 2 };
    case 'negative_numbers':
      return { ...u, total: -u.total, localPosts: -1 };
    case 'huge_numbers':
      return { ...u, total: 2 ** 31 + u.total * 1000, localPosts: 2 ** 53 - 1 };
    case 'jumps':
      // Every fourth day the count is a hundred times larger, then back.
      return (day + p.phase) % 4 === 0 ? { ...u, total: u.total * 100, activeMonth: u.activeMonth * 100 } : u;
    default:
      return u;
  }
}

/** Pleroma and Akkoma publish their MRF simple policy (block lists included) in NodeInfo metadata. */
export const publishesMrf = (p: { software: string }): boolean =>
  p.software === 'pleroma' || p.software === 'akkoma';

/** A peer's own-server limit, drawn once; only peers that publish their list can have one. */
export function drawnOwnLimit(seed: number, p: PeerProfile): OwnLimit | undefined {
  if (p.showDomainBlocks !== 'all' && !publishesMrf(p)) return undefined;
  return ownLimitFor(rngFor(seed, `${p.domain}#limit`));
}

export const dayOf = (epochMs: number, at: Date): number => Math.floor((at.getTime() - epochMs) / 86_400_000);

export type { Rng };
