/**
 * The simulated peer servers: thousands of fediverse hosts of many kinds, each serving NodeInfo, the
 * Mastodon-compatible APIs it really has, robots.txt and its public block list, and failing the way real
 * servers fail. Everything follows from (seed, domain) and the simulated clock.
 */
export {
  createPeerCatalog,
  normalizeHost,
  type ExpectedObservation,
  type OwnLimitView,
  type PeerCatalog,
  type PeerCatalogOptions,
  type SimPeer
} from './catalog.ts';
export { BEHAVIOURS, FAILURES, OUTCOME, type Behaviour, type Outcome } from './failures.ts';
export { obfuscate, sha256, type DomainBlockEntry } from './blocklists.ts';
export { FLOOD_ZONE, PEER_ZONES, SHARED_NODEINFO_HOST, type JunkEntry, type JunkKind } from './names.ts';
export { SOFTWARE_NAMES, type NodeInfoDocument, type SoftwareName } from './software.ts';
