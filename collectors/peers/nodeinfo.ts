/**
 * NodeInfo discovery and documents, parsed leniently (../shared/reference/NODEINFO-QUIRKS.md).
 * Pure functions: no I/O, so every quirk is a unit test on a fixture.
 */
import { cleanText, isObject, preview } from '../json.ts';

const REL = /^https?:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/(\d+\.\d+)\/?$/i;

/** Versions we read, best first; 2.2 only when nothing else is offered (a superset of 2.1 nobody serves). */
export const UNDERSTOOD_VERSIONS = ['2.1', '2.0', '1.1', '1.0', '2.2'] as const;

export interface NodeinfoLink {
  version: string;
  href: URL;
}

/** Arrays inside arrays that are still searched for links; real documents use one level. */
const LINK_NESTING = 3;
/** Links looked at, at most: real discovery documents offer fewer than ten. */
const MAX_LINKS = 100;

/**
 * Every {rel, href} object the discovery document offers, in whatever shape it offers them. Bounded in depth
 * and count, so a `links` nested 200,000 levels deep is just a document without links.
 */
function candidateLinks(doc: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const take = (v: unknown, depth = 0) => {
    if (out.length >= MAX_LINKS) return;
    if (Array.isArray(v)) {
      if (depth < LINK_NESTING) for (const x of v.slice(0, MAX_LINKS)) take(x, depth + 1);
    } else if (isObject(v)) {
      if ('rel' in v || 'href' in v) out.push(v);
      else
        for (const x of Object.values(v).slice(0, MAX_LINKS))
          if (isObject(x) && ('rel' in x || 'href' in x)) out.push(x);
    }
  };
  if (Array.isArray(doc)) take(doc);
  else if (isObject(doc)) {
    take(doc.links);
    // Old Hubzilla: a sibling key "0" (or "1"...) beside an object-valued `links`.
    for (const [k, v] of Object.entries(doc)) if (/^\d+$/.test(k)) take(v);
  }
  return out;
}

/**
 * Picks the NodeInfo link by rel (never by position), highest understood version first. http hrefs are
 * upgraded to https (peers are only fetched over TLS); relative hrefs resolve against the discovery URL.
 */
export function chooseNodeinfoLink(doc: unknown, base: URL): NodeinfoLink | null {
  const byVersion = new Map<string, URL>();
  for (const link of candidateLinks(doc)) {
    const rel = typeof link.rel === 'string' ? link.rel.trim() : '';
    const m = REL.exec(rel);
    if (!m || typeof link.href !== 'string' || link.href.trim() === '') continue;
    let href: URL;
    try {
      href = new URL(link.href.trim(), base);
    } catch {
      continue;
    }
    if (href.protocol === 'http:') href.protocol = 'https:';
    if (href.protocol !== 'https:') continue;
    if (!byVersion.has(m[1])) byVersion.set(m[1], href);
  }
  for (const v of UNDERSTOOD_VERSIONS) {
    const href = byVersion.get(v);
    if (href) return { version: v, href };
  }
  return null;
}

export interface ParsedNodeinfo {
  software: string;
  softwareVersion: string | null;
  nodeinfoVersion: string | null;
  usersTotal: number | null;
  usersActiveMonth: number | null;
  usersActiveHalfyear: number | null;
  localPosts: number | null;
  openRegistrations: boolean | null;
  nodeName: string | null;
  /** Why the numbers should not be trusted (empty: plausible). */
  suspectReasons: string[];
  /** Non-fatal deviations from the schema, for the curious. */
  quirks: string[];
}

export type NodeinfoVerdict = { ok: true; value: ParsedNodeinfo } | { ok: false; error: string };

const INT31 = 2 ** 31;

interface Num {
  value: number | null;
  reason?: string;
  quirk?: string;
}

/** A count as the peer meant it: numbers, numeric strings ("1,234" too); anything else is no value. */
export function readCount(v: unknown, field: string): Num {
  if (v === undefined || v === null) return { value: null };
  let n: number;
  let quirk: string | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*-?[\d,_ ]*\d(\.\d+)?\s*$/.test(v)) {
    n = Number(v.replace(/[,_ ]/g, ''));
    quirk = `${field} is a string`;
  } else if (isObject(v) && typeof v.all === 'number') {
    // Some Pleroma forks: localPosts {all, direct}.
    return { ...readCount(v.all, field), quirk: `${field} is an object; used .all` };
  } else return { value: null, quirk: `${field} is not a number (${typeof v})` };
  if (!Number.isFinite(n)) return { value: null, reason: `${field} is not finite`, quirk };
  if (n < 0) return { value: Math.trunc(n), reason: `${field} is negative (${n})`, quirk };
  if (!Number.isInteger(n))
    return { value: Math.trunc(n), reason: `${field} is not an integer (${n})`, quirk };
  if (n >= INT31) {
    return {
      value: Number.isSafeInteger(n) ? n : null,
      reason: `${field} is implausibly large (${n})`,
      quirk
    };
  }
  return { value: n, quirk };
}

/** true/false, also as "FALSE", "true", "yes", "0", 1... */
export function readBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 0 ? false : v === 1 ? true : null;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 'yes', '1', 'open', 'on'].includes(s)) return true;
    if (['false', 'no', '0', 'closed', 'off', ''].includes(s)) return false;
  }
  return null;
}

function readString(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number') return String(v);
  return null;
}

/** A software name as a key: lowercase, trimmed, inner spaces to dashes (Mobilizon, Fedired). */
export function normalizeSoftware(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, '-').slice(0, 64);
}

/** Previous trusted numbers for the host, to spot impossible jumps. */
export interface PreviousNumbers {
  usersTotal: number | null;
  usersActiveMonth?: number | null;
}

/** A jump is impossible when a count grows or shrinks ×100 since the previous observation (and is not tiny). */
export function jumpReasons(cur: { usersTotal: number | null }, prev: PreviousNumbers | null): string[] {
  if (!prev || prev.usersTotal === null || cur.usersTotal === null) return [];
  const a = prev.usersTotal;
  const b = cur.usersTotal;
  if (a <= 0 || b <= 0 || Math.max(a, b) < 100) return [];
  if (b >= Math.max(a, 1) * 100 || a >= Math.max(b, 1) * 100)
    return [`users_total jumped from ${a} to ${b} since the previous observation`];
  return [];
}

/**
 * Reads a NodeInfo document (1.0–2.2) or a NodeInfo2 (x-nodeinfo2) document. Fails only when it names no
 * software at all: everything else is tolerated, with problems noted and implausible numbers flagged.
 */
export function parseNodeinfo(doc: unknown, prev: PreviousNumbers | null = null): NodeinfoVerdict {
  if (!isObject(doc))
    return { ok: false, error: `NodeInfo is ${Array.isArray(doc) ? 'an array' : typeof doc}` };
  const quirks: string[] = [];
  const reasons: string[] = [];
  let name: string | null = null;
  let version: string | null = null;
  if (isObject(doc.software)) {
    name = readString(doc.software.name);
    version = readString(doc.software.version);
  } else if (typeof doc.software === 'string') {
    name = readString(doc.software);
    quirks.push('software is a string');
  } else if (isObject(doc.server)) {
    // NodeInfo2 (/.well-known/x-nodeinfo2): server{software, version}.
    name = readString(doc.server.software);
    version = readString(doc.server.version);
    quirks.push('NodeInfo2 document');
  }
  if (!name) return { ok: false, error: 'NodeInfo names no software' };
  const software = normalizeSoftware(name);
  if (software !== name) quirks.push(`software.name ${preview(name)} is not lowercase ascii`);

  const usage = isObject(doc.usage) ? doc.usage : null;
  if (!usage) quirks.push(doc.usage === undefined ? 'no usage' : `usage is ${preview(doc.usage)}`);
  const users = usage && isObject(usage.users) ? usage.users : null;
  if (usage && !users) quirks.push('no usage.users');
  const num = (v: unknown, field: string): number | null => {
    const r = readCount(v, field);
    if (r.reason) reasons.push(r.reason);
    if (r.quirk) quirks.push(r.quirk);
    return r.value;
  };
  const usersTotal = num(users?.total, 'users_total');
  const usersActiveMonth = num(users?.activeMonth, 'users_active_month');
  const usersActiveHalfyear = num(users?.activeHalfyear, 'users_active_halfyear');
  const localPosts = num(usage?.localPosts, 'local_posts');
  if (usersTotal !== null && usersActiveMonth !== null && usersActiveMonth > usersTotal)
    reasons.push(`active_month ${usersActiveMonth} > total ${usersTotal}`);
  if (usersTotal !== null && usersActiveHalfyear !== null && usersActiveHalfyear > usersTotal)
    reasons.push(`active_halfyear ${usersActiveHalfyear} > total ${usersTotal}`);
  // A running server has at least its admin: zero is hidden or fake statistics (GoToSocial zero, Funkwhale).
  if (usersTotal === 0) reasons.push('users_total is 0 (statistics hidden or fake)');
  reasons.push(...jumpReasons({ usersTotal }, prev));

  const openRegistrations = readBool(doc.openRegistrations);
  if (doc.openRegistrations !== undefined && typeof doc.openRegistrations !== 'boolean')
    quirks.push(`openRegistrations is ${preview(doc.openRegistrations)}`);
  if (Array.isArray(doc.metadata)) quirks.push('metadata is an array');
  const meta = isObject(doc.metadata) ? doc.metadata : null;
  const nodeName =
    readString(meta?.nodeName) ?? (isObject(doc.server) ? readString(doc.server.name) : null) ?? null;

  return {
    ok: true,
    value: {
      software,
      softwareVersion: version ? cleanText(version, 200) : null,
      nodeinfoVersion: readString(doc.version),
      usersTotal,
      usersActiveMonth,
      usersActiveHalfyear,
      localPosts,
      openRegistrations,
      nodeName: nodeName ? cleanText(nodeName, 200) : null,
      suspectReasons: reasons,
      quirks
    }
  };
}

/** Software known to serve Mastodon's /api/v{1,2}/instance (and possibly instance/domain_blocks). */
export const MASTODON_API_SOFTWARE = new Set([
  'mastodon',
  'hometown',
  'glitch',
  'glitch-soc',
  'glitchsoc',
  'corgidon',
  'fedibird',
  'kmyblue',
  'chuckya',
  'pleroma',
  'akkoma',
  'gotosocial',
  'friendica',
  'bookwyrm',
  'sharkey',
  'firefish',
  'iceshrimp',
  'catodon',
  'takahe'
]);

/** Mastodon and its forks: the software whose /api/v1/instance/domain_blocks may be public. */
export const DOMAIN_BLOCKS_SOFTWARE = new Set([
  'mastodon',
  'hometown',
  'glitch',
  'glitch-soc',
  'glitchsoc',
  'corgidon',
  'fedibird',
  'kmyblue',
  'chuckya',
  'gotosocial'
]);
