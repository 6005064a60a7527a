import { createHash } from 'node:crypto';
import { isObject, str } from '../json.ts';
import { normalizeDomain } from '../peers/domains.ts';

/**
 * Pure parsers for what the own server's APIs return, in Mastodon's wire format (snake_case keys, counts as
 * strings, measure dates in two formats). Never I/O: every quirk here is a unit test on a fixture file.
 */

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

/** Mastodon sends most counters as strings ("12"); "" (instance_media_attachments) and junk are gaps. */
export function parseCount(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) n = Number(v);
  else return null;
  // A count past 2^53 cannot be exact (or is Infinity from a 400-digit string): unreadable, not huge.
  return Number.isFinite(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : null;
}

/** "2022-09-14T00:00:00Z", "2022-09-14T00:00:00.000+00:00" or "2022-09-14": the calendar day the server meant. */
export function parseDay(v: unknown): string | null {
  const m = typeof v === 'string' ? /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(v) : null;
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) return null;
  return m[1];
}

/** An ISO timestamp, or null when absent or unreadable (never a guessed time). */
export function parseTime(v: unknown): string | null {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : null;
}

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// Admin measures and dimensions

export interface Measure {
  key: string;
  unit: string | null;
  total: number | null;
  previousTotal: number | null;
  days: { day: string; value: number }[];
}

export function parseMeasures(body: unknown): Measure[] {
  return arr(body)
    .filter(isObject)
    .filter((m) => typeof m.key === 'string')
    .map((m) => ({
      key: m.key as string,
      unit: str(m.unit),
      total: parseCount(m.total),
      previousTotal: parseCount(m.previous_total),
      days: arr(m.data)
        .filter(isObject)
        .flatMap((d) => {
          const day = parseDay(d.date);
          const value = parseCount(d.value);
          return day !== null && value !== null ? [{ day, value }] : [];
        })
    }));
}

export interface DimensionItem {
  key: string;
  humanKey: string | null;
  /** Numeric value (counts, bytes); null for versions, which live in humanValue. */
  value: number | null;
  unit: string | null;
  humanValue: string | null;
}

export function parseDimensions(body: unknown): Map<string, DimensionItem[]> {
  const out = new Map<string, DimensionItem[]>();
  for (const d of arr(body).filter(isObject)) {
    if (typeof d.key !== 'string') continue;
    const items = arr(d.data)
      .filter(isObject)
      .filter((i) => typeof i.key === 'string')
      .map((i) => ({
        key: i.key as string,
        humanKey: str(i.human_key),
        value: parseCount(i.value),
        unit: str(i.unit),
        // software_versions carry the version in value ("3.5.1+chitter"); keep it readable either way
        humanValue: str(i.human_value) ?? (parseCount(i.value) === null ? str(i.value) : null)
      }));
    out.set(d.key, items);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Retention cohorts

export interface CohortCell {
  frequency: 'day' | 'month';
  cohort: string;
  periodIndex: number;
  periodStart: string;
  users: number;
  rate: number;
}

const monthsBetween = (from: string, to: string): number =>
  (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 +
  Number(to.slice(5, 7)) -
  Number(from.slice(5, 7));

export function parseCohorts(body: unknown): CohortCell[] {
  const cells: CohortCell[] = [];
  for (const c of arr(body).filter(isObject)) {
    const cohort = parseDay(c.period);
    const frequency = c.frequency === 'month' ? 'month' : c.frequency === 'day' ? 'day' : null;
    if (!cohort || !frequency) continue;
    for (const d of arr(c.data).filter(isObject)) {
      const periodStart = parseDay(d.date);
      const users = parseCount(d.value);
      const rate = parseCount(d.rate);
      if (!periodStart || users === null || rate === null) continue;
      const periodIndex =
        frequency === 'day' ? daysBetween(cohort, periodStart) : monthsBetween(cohort, periodStart);
      if (periodIndex < 0) continue;
      cells.push({ frequency, cohort, periodIndex, periodStart, users, rate });
    }
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

/** Numeric comparison of a Mastodon version with `min`, ignoring suffixes (`4.6.0-beta.1+glitch` >= `4.6`). */
export function versionAtLeast(version: string | null, min: string): boolean {
  if (!version) return false;
  const a = (/^\d+(\.\d+)*/.exec(version.trim())?.[0] ?? '').split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    if (x !== b[i]) return x > b[i];
  }
  return true;
}

export interface ReportRecord {
  reportId: string;
  category: string | null;
  createdAt: string;
  updatedAt: string | null;
  actionTaken: boolean;
  actionTakenAt: string | null;
  forwarded: boolean | null;
  targetOrigin: 'local' | 'remote' | null;
  targetDomain: string | null;
  /** The reporter's server: null for our members; for a report received from another server, its instance actor's. */
  reporterDomain: string | null;
  assignedAccountId: string | null;
  ruleIds: string[];
}

export function parseReport(r: unknown): ReportRecord | null {
  if (!isObject(r) || (typeof r.id !== 'string' && typeof r.id !== 'number')) return null;
  const createdAt = parseTime(r.created_at);
  if (!createdAt) return null;
  const target = isObject(r.target_account) ? r.target_account : null;
  const rawDomain = target ? str(target.domain) : null;
  const domain = rawDomain ? normalizeDomain(rawDomain) : null;
  const assigned = isObject(r.assigned_account) ? r.assigned_account : null;
  const reporter = isObject(r.account) ? str(r.account.domain) : null;
  const reporterDomain = reporter ? normalizeDomain(reporter) : null;
  return {
    reportId: String(r.id),
    category: str(r.category),
    createdAt,
    updatedAt: parseTime(r.updated_at),
    actionTaken: r.action_taken === true || parseTime(r.action_taken_at) !== null,
    actionTakenAt: parseTime(r.action_taken_at),
    forwarded: bool(r.forwarded),
    targetOrigin: target ? (rawDomain ? 'remote' : 'local') : null,
    targetDomain: domain ? (domain.ok ? domain.domain : rawDomain!.toLowerCase()) : null,
    reporterDomain: reporterDomain
      ? reporterDomain.ok
        ? reporterDomain.domain
        : reporter!.toLowerCase()
      : null,
    assignedAccountId: assigned && assigned.id != null ? String(assigned.id) : null,
    ruleIds: arr(r.rules)
      .filter(isObject)
      .map((x) => x.id)
      .filter((id) => id != null)
      .map(String)
  };
}

export const parseReports = (body: unknown): ReportRecord[] =>
  arr(body).flatMap((r) => {
    const p = parseReport(r);
    return p ? [p] : [];
  });

// ---------------------------------------------------------------------------------------------------------------
// Domain blocks

export interface AdminDomainBlock {
  domain: string;
  digest: string;
  severity: string;
  rejectMedia: boolean;
  rejectReports: boolean;
  publicComment: string | null;
  obfuscate: boolean;
  createdAt: string | null;
}

export function parseAdminDomainBlocks(body: unknown): AdminDomainBlock[] {
  return arr(body)
    .filter(isObject)
    .filter((b) => typeof b.domain === 'string' && typeof b.severity === 'string')
    .map((b) => {
      const domain = (b.domain as string).trim().toLowerCase();
      return {
        domain,
        // digest arrived in 4.3; before that, compute it the way Mastodon does (SHA-256 of the domain)
        digest: str(b.digest) ?? sha256(domain),
        severity: b.severity as string,
        rejectMedia: b.reject_media === true,
        rejectReports: b.reject_reports === true,
        publicComment: str(b.public_comment),
        obfuscate: b.obfuscate === true,
        createdAt: parseTime(b.created_at)
      };
    });
}

export interface PublicDomainBlock {
  domain: string;
  digest: string;
  severity: string;
  comment: string | null;
}

export function parsePublicDomainBlocks(body: unknown): PublicDomainBlock[] {
  return arr(body)
    .filter(isObject)
    .filter((b) => typeof b.domain === 'string' && typeof b.severity === 'string')
    .map((b) => ({
      domain: (b.domain as string).trim().toLowerCase(),
      digest: str(b.digest) ?? sha256((b.domain as string).trim().toLowerCase()),
      severity: b.severity as string,
      comment: str(b.comment)
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Public instance endpoints

export interface InstanceFacts {
  domain: string | null;
  title: string | null;
  version: string | null;
  registrationsOpen: boolean | null;
  approvalRequired: boolean | null;
  limitedFederation: boolean | null;
  activeMonth: number | null;
  userCount: number | null;
  statusCount: number | null;
  domainCount: number | null;
}

/** v2 (4.0+) for the description, v1 for the three counts v2 dropped; either may be missing. */
export function parseInstance(v2: unknown, v1: unknown): InstanceFacts {
  const a = isObject(v2) ? v2 : {};
  const b = isObject(v1) ? v1 : {};
  const reg = isObject(a.registrations) ? a.registrations : {};
  const conf = isObject(a.configuration) ? a.configuration : {};
  const usage = isObject(a.usage) && isObject(a.usage.users) ? a.usage.users : {};
  const stats = isObject(b.stats) ? b.stats : {};
  return {
    domain: str(a.domain) ?? str(b.uri),
    title: str(a.title) ?? str(b.title),
    version: str(a.version) ?? str(b.version),
    registrationsOpen: bool(reg.enabled) ?? bool(b.registrations),
    approvalRequired: bool(reg.approval_required) ?? bool(b.approval_required),
    limitedFederation: bool(conf.limited_federation),
    activeMonth: parseCount(usage.active_month),
    userCount: parseCount(stats.user_count),
    statusCount: parseCount(stats.status_count),
    domainCount: parseCount(stats.domain_count)
  };
}

export interface ActivityWeek {
  weekStart: string;
  statuses: number;
  logins: number;
  registrations: number;
}

/** week is UNIX seconds; current Mastodon anchors rolling weeks at request time, so keep the UTC day only. */
export function parseActivity(body: unknown): ActivityWeek[] {
  return arr(body)
    .filter(isObject)
    .flatMap((w) => {
      const secs = parseCount(w.week);
      const statuses = parseCount(w.statuses);
      const logins = parseCount(w.logins);
      const registrations = parseCount(w.registrations);
      if (secs === null || statuses === null || logins === null || registrations === null) return [];
      const ms = Math.floor(secs / 86_400) * 86_400_000;
      if (Math.abs(ms) > 8.64e15) return []; // outside what a Date can hold: not a week
      const weekStart = new Date(ms).toISOString();
      return [{ weekStart, statuses, logins, registrations }];
    });
}

export interface Rule {
  id: string;
  text: string;
  hint: string | null;
}

export const parseRules = (body: unknown): Rule[] =>
  arr(body)
    .filter(isObject)
    .filter((r) => r.id != null && typeof r.text === 'string')
    .map((r) => ({ id: String(r.id), text: r.text as string, hint: str(r.hint) || null }));

/** The NodeInfo document path to read: the highest 2.x schema the server advertises, selected by rel. */
export function nodeinfoHref(discovery: unknown): string | null {
  const links = isObject(discovery) ? discovery.links : null;
  const list = Array.isArray(links) ? links : isObject(links) ? [links] : [];
  const found = list
    .filter(isObject)
    .map((l) => ({ rel: str(l.rel) ?? '', href: str(l.href) }))
    .map((l) => ({ ...l, v: /nodeinfo\.diaspora\.software\/ns\/schema\/2\.(\d)$/.exec(l.rel)?.[1] }))
    .filter((l) => l.v !== undefined && l.href)
    .sort((x, y) => Number(y.v) - Number(x.v));
  return found[0]?.href ?? null;
}

export interface NodeInfoFacts {
  software: string | null;
  version: string | null;
  usersTotal: number | null;
  activeMonth: number | null;
  activeHalfyear: number | null;
  localPosts: number | null;
  openRegistrations: boolean | null;
}

export function parseNodeInfo(body: unknown): NodeInfoFacts {
  const n = isObject(body) ? body : {};
  const sw = isObject(n.software) ? n.software : {};
  const usage = isObject(n.usage) ? n.usage : {};
  const users = isObject(usage.users) ? usage.users : {};
  const reg = n.openRegistrations;
  return {
    software: str(sw.name)?.toLowerCase() ?? null,
    version: str(sw.version),
    usersTotal: parseCount(users.total),
    activeMonth: parseCount(users.activeMonth),
    activeHalfyear: parseCount(users.activeHalfyear),
    localPosts: parseCount(usage.localPosts),
    openRegistrations: typeof reg === 'string' ? reg.toLowerCase() === 'true' : bool(reg)
  };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP headers

export interface LinkValue {
  uri: string;
  rel: string[];
  params: Record<string, string>;
}

/** RFC 8288 Link header: `<uri>; rel="next prev"; x=y, <uri2>; rel=prev`. Quoted strings may hold , and ;. */
export function parseLinkHeader(header: string | null | undefined): LinkValue[] {
  const out: LinkValue[] = [];
  if (!header) return out;
  let i = 0;
  const s = header;
  const ws = () => {
    while (i < s.length && /[\s,]/.test(s[i])) i++;
  };
  while (i < s.length) {
    ws();
    if (s[i] !== '<') {
      const next = s.indexOf(',', i); // not a link-value: skip to the next one
      if (next < 0) break;
      i = next + 1;
      continue;
    }
    const end = s.indexOf('>', i);
    if (end < 0) break;
    const uri = s.slice(i + 1, end).trim();
    i = end + 1;
    const params: Record<string, string> = {};
    for (;;) {
      while (i < s.length && /[ \t]/.test(s[i])) i++;
      if (s[i] !== ';') break;
      i++;
      while (i < s.length && /[ \t]/.test(s[i])) i++;
      const nameMatch = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\*?/.exec(s.slice(i));
      if (!nameMatch) break;
      const name = nameMatch[0].toLowerCase();
      i += nameMatch[0].length;
      while (i < s.length && /[ \t]/.test(s[i])) i++;
      let value = '';
      if (s[i] === '=') {
        i++;
        while (i < s.length && /[ \t]/.test(s[i])) i++;
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            value += s[i++];
          }
          i++;
        } else {
          const tok = /^[^;,\s]*/.exec(s.slice(i))![0];
          value = tok;
          i += tok.length;
        }
      }
      if (!(name in params)) params[name] = value; // RFC 8288 §3: only the first rel counts
    }
    const rel = (params.rel ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((r) => r.toLowerCase());
    out.push({ uri, rel, params });
  }
  return out;
}

/** The target of rel=`rel`, resolved against the request URL. */
export function linkTarget(header: string | null | undefined, rel: string, base: string): URL | null {
  const link = parseLinkHeader(header).find((l) => l.rel.includes(rel));
  if (!link) return null;
  try {
    return new URL(link.uri, base);
  } catch {
    return null;
  }
}

export interface RateLimitInfo {
  limit: number | null;
  remaining: number | null;
  /** When the window resets (Mastodon sends an ISO timestamp with microseconds). */
  resetAt: Date | null;
}

type HeaderBag = Record<string, string | string[] | undefined>;
const header = (h: HeaderBag, name: string): string | null => {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
};

export function parseRateLimit(h: HeaderBag): RateLimitInfo {
  const reset = header(h, 'x-ratelimit-reset');
  let resetAt: Date | null = null;
  if (reset) {
    // ISO per Mastodon; some compatible servers send epoch seconds
    resetAt = /^\d+(\.\d+)?$/.test(reset) ? new Date(Number(reset) * 1000) : new Date(reset);
    if (Number.isNaN(resetAt.getTime())) resetAt = null;
  }
  return {
    limit: parseCount(header(h, 'x-ratelimit-limit')),
    remaining: parseCount(header(h, 'x-ratelimit-remaining')),
    resetAt
  };
}

/** Retry-After (delta seconds or an HTTP date) in milliseconds from now; Mastodon itself never sends it. */
export function parseRetryAfter(v: string | null | undefined, now: Date): number | null {
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now.getTime());
}

// ---------------------------------------------------------------------------------------------------------------
// Error bodies

/** Mastodon's `{"error": "..."}`; 404s may have no body at all. */
export function errorText(body: unknown): string | null {
  return isObject(body) ? (str(body.error) ?? str(body.error_description)) : null;
}
