/**
 * Everything the server knows, built once from the seed (and rebuilt only when the clock runs past the
 * generated horizon or the peer catalog changes), plus the sorted time indexes that let each request
 * count events in a range with two binary searches.
 */
import type { SimClock } from '../clock.ts';
import type { PeerCatalog } from '../peers/index.ts';
import { DAY, dayOf, dayStart } from './dates.ts';
import { growthCurve, indexPeers, type PeerIndex } from './federation.ts';
import { buildHistory, type History, type Member } from './history.ts';
import {
  blockAt,
  buildModeration,
  type DomainBlock,
  type Moderation,
  type RemoteAccount
} from './moderation.ts';

export interface World {
  seed: number;
  catalog: Pick<PeerCatalog, 'peers' | 'peersListEntries'>;
  h: History;
  mod: Moderation;
  ix: PeerIndex;
  curve: Float64Array;
  signupTimes: Float64Array;
  openedTimes: Float64Array;
  resolvedTimes: Float64Array;
  /** Local members and known remote accounts, newest id first (the admin accounts order). */
  accountsDesc: ({ local: Member } | { remote: RemoteAccount })[];
  /** activeBefore[d] = Σ daily logins on days < d (drives storage growth). */
  activeBefore: Float64Array;
}

/** Days generated beyond the clock, so that a demo moving day by day rarely triggers a rebuild. */
const AHEAD = 180;

export function worldKeeper(seed: number, clock: SimClock, catalog: World['catalog']): () => World {
  let world: World | null = null;
  let peersRef = '';
  return () => {
    const now = clock.now().getTime();
    const list = catalog.peers();
    // The catalog may hand out a fresh array each call: compare what it says, not its identity.
    const ref = `${list.length}:${list[0]?.domain}:${list[list.length - 1]?.domain}`;
    if (!world || dayOf(now) >= world.h.horizon - 1 || ref !== peersRef) {
      const horizon = Math.max(dayOf(now), 0) + AHEAD;
      world = buildWorld(seed, catalog, Math.max(horizon, world?.h.horizon ?? 0));
      peersRef = ref;
    }
    return world;
  };
}

function buildWorld(seed: number, catalog: World['catalog'], horizon: number): World {
  const h = buildHistory(seed, horizon);
  const ix = indexPeers(seed, catalog);
  const mod = buildModeration(seed, h, ix);
  const resolved = mod.reports.map((r) => r.resolvedMs).filter(Number.isFinite);
  const accounts: World['accountsDesc'] = [
    ...h.members.map((local) => ({ local })),
    ...mod.remoteAccounts.map((remote) => ({ remote }))
  ];
  const idOf = (a: World['accountsDesc'][number]) => BigInt('local' in a ? a.local.id : a.remote.id);
  accounts.sort((a, b) => (idOf(b) > idOf(a) ? 1 : idOf(b) < idOf(a) ? -1 : 0));
  const activeBefore = new Float64Array(horizon + 1);
  for (let d = 0; d < horizon; d++) activeBefore[d + 1] = activeBefore[d] + h.dailyActive[d];
  return {
    seed,
    catalog,
    h,
    mod,
    ix,
    curve: growthCurve(h),
    signupTimes: Float64Array.from(h.members.map((m) => m.createdMs)),
    openedTimes: Float64Array.from(mod.reports.map((r) => r.createdMs)),
    resolvedTimes: Float64Array.from(resolved).sort(),
    accountsDesc: accounts,
    activeBefore
  };
}

/** Number of sorted times t with from <= t < to. */
export function countIn(times: Float64Array, from: number, to: number): number {
  return to <= from ? 0 : lowerBound(times, to) - lowerBound(times, from);
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events on one day, as the database holds them at `nowMs`. */
export const onDay = (times: Float64Array, day: number, nowMs: number): number =>
  countIn(times, dayStart(day), Math.min(dayStart(day) + DAY, nowMs + 1));

/** Blocks in force at `ms`. */
export function activeBlocks(
  w: World,
  ms: number
): { block: DomainBlock; state: NonNullable<ReturnType<typeof blockAt>> }[] {
  const out = [];
  for (const block of w.mod.blocks) {
    const state = blockAt(block, ms);
    if (state) out.push({ block, state });
  }
  return out;
}
