import { domainToASCII } from 'node:url';
import { pick, rng, rngFor, type Rng } from '../random.ts';

/**
 * Peer domain names. Every peer is `<label>.<zone>` with a zone from PEER_ZONES, so that one wildcard
 * certificate per zone covers 100,000 hosts. Only reserved TLDs (.example, .test, .invalid) are used.
 */
export const PEER_ZONES = [
  'social.example',
  'town.test',
  'masto.example',
  'fedi.test',
  'club.example',
  'space.test',
  'blogs.example',
  'video.test',
  'forum.example',
  'pics.test'
] as const;

/** The fake-subdomain flood (gab.best style): one wildcard DNS record, thousands of list entries. */
export const FLOOD_ZONE = 'flood.example';

/** WordPress.com-style shared NodeInfo host (discovery href on another host). */
export const SHARED_NODEINFO_HOST = 'public-api.blogs.example';

const WORDS = [
  'otter', 'heron', 'maple', 'fern', 'harbor', 'cedar', 'pixel', 'comet', 'lark', 'ember',
  'moss', 'tide', 'quill', 'birch', 'raven', 'meadow', 'glitch', 'sprout', 'cobalt', 'pine',
  'mill', 'lantern', 'orbit', 'wren', 'basalt', 'clover', 'delta', 'fjord', 'garnet', 'hollow',
  'iris', 'juniper', 'kelp', 'loom', 'mosaic', 'nectar', 'opal', 'prairie', 'quartz', 'rowan',
  'sable', 'thistle', 'umber', 'vale', 'willow', 'yarrow', 'zephyr', 'acorn', 'bramble', 'cinder'
]; // prettier-ignore
const PREFIXES = ['', '', '', 'mastodon-', 'social-', 'the-', 'my-', 'fedi-', 'toot-', ''];

/** Unicode labels for the few IDN peers (the list carries them in both forms). */
const IDN_WORDS = ['bücher', 'café', 'müsli', 'ñandú', 'пингвин', 'ⵣ', 'kœur', 'gâteau'];

function label(r: Rng, i: number): string {
  const a = pick(r, WORDS);
  const b = pick(r, WORDS);
  const shape = r();
  if (shape < 0.4) return `${pick(r, PREFIXES)}${a}${b}`;
  if (shape < 0.7) return `${a}-${b}`;
  if (shape < 0.9) return `${a}${Math.floor(r() * 1000)}`;
  return `${a}${i.toString(36)}`;
}

export interface PeerName {
  /** ASCII (punycode) form: what a client sends in SNI and Host. */
  domain: string;
  /** Unicode form when the label is an IDN. */
  unicode?: string;
}

/** All peer names for (seed, count), unique; cheap enough for 100,000. */
export function peerNames(seed: number, count: number): PeerName[] {
  const r = rng(seed ^ 0x6e616d65);
  const seen = new Set<string>([SHARED_NODEINFO_HOST]);
  const out: PeerName[] = [];
  for (let i = 0; i < count; i++) {
    const zone = pick(r, PEER_ZONES);
    // About 1 in 300 peers has a Unicode label; every list of 8+ peers gets one.
    const idn = i === 7 || r() < 0.003;
    let base = idn ? `${pick(r, IDN_WORDS)}${i % 10 === 0 ? '' : i.toString(36)}` : label(r, i);
    let domain = idn ? domainToASCII(`${base}.${zone}`) : `${base}.${zone}`;
    for (let n = 2; !domain || seen.has(domain); n++) {
      base = `${base.replace(/\d+$/, '')}${n}`;
      domain = idn ? domainToASCII(`${base}.${zone}`) : `${base}.${zone}`;
    }
    seen.add(domain);
    out.push(idn ? { domain, unicode: `${base}.${zone}` } : { domain });
  }
  return out;
}

export type JunkKind =
  | 'duplicate'
  | 'uppercase'
  | 'trailing_dot'
  | 'unicode_idn'
  | 'space'
  | 'wildcard'
  | 'ip_port'
  | 'ip'
  | 'obfuscated'
  | 'flood';

export interface JunkEntry {
  entry: string;
  kind: JunkKind;
  /** The peer domain this entry means after normalisation, when it means one. */
  normalizesTo?: string;
}

/** The junk real peers lists carry, derived from the real names. */
export function junkEntries(seed: number, names: PeerName[], floodCount: number): JunkEntry[] {
  const r = rngFor(seed, 'peers-list-junk');
  const out: JunkEntry[] = [];
  const all = names.map((p) => p.domain);
  const some = (n: number) => Array.from({ length: Math.min(n, all.length) }, () => pick(r, all));
  const n = Math.max(2, Math.round(all.length * 0.002));
  for (const d of some(n)) out.push({ entry: d, kind: 'duplicate', normalizesTo: d });
  for (const d of some(n)) out.push({ entry: d.toUpperCase(), kind: 'uppercase', normalizesTo: d });
  for (const d of some(n)) out.push({ entry: `${d}.`, kind: 'trailing_dot', normalizesTo: d });
  for (const p of names)
    if (p.unicode) out.push({ entry: p.unicode, kind: 'unicode_idn', normalizesTo: p.domain });
  if (all.length > 0) out.push({ entry: ` ${all[0]}`, kind: 'space', normalizesTo: all[0] });
  out.push({ entry: 'not a domain.example', kind: 'space' });
  out.push({ entry: '*.bad.example', kind: 'wildcard' });
  out.push({ entry: '*.spam.invalid', kind: 'wildcard' });
  out.push({ entry: '203.0.113.5:8080', kind: 'ip_port' });
  out.push({ entry: '198.51.100.23', kind: 'ip' });
  out.push({ entry: '[2001:db8::1]:443', kind: 'ip_port' });
  out.push({ entry: 'mas***on.soc**l.invalid', kind: 'obfuscated' });
  for (let i = 0; i < floodCount; i++) {
    out.push({ entry: `spam${Math.floor(r() * 1e6)}.${FLOOD_ZONE}`, kind: 'flood' });
  }
  return out;
}
