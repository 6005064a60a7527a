/**
 * The one place that decides what of a peer's NodeInfo document is stored (docs/crawler.md, "What is kept").
 *
 * An allowlist, not a denylist: NodeInfo `metadata` is free-form, and every software invents keys for its
 * moderation (Pleroma/Akkoma `federation.mrf_simple`, `mrf_simple_info`, `quarantined_instances`; Mastodon
 * forks `federation.suspend`/`silence`; relays `blocks`/`peers`; Misskey `maintainer` and `nodeAdmins` with
 * names and e-mail addresses). A denylist leaks the next fork's key the day it ships; an allowlist only ever
 * loses a harmless field. Whether the peer limits *us* is read from the unredacted document before this runs
 * (blocks.ts); the rest of its lists is never kept (PRODUCT.md principle 2).
 *
 * The walk follows the allowlist, never the document, so its depth is that of the allowlist (4 levels)
 * whatever the peer sends. Kept strings are cut to MAX_STRING and made well-formed UTF-16 (DuckDB's JSON type
 * refuses a lone surrogate escape, which would fail a whole batch); lists keep at most MAX_LIST scalars.
 */
import { cleanText, isObject, jsonDepth, MAX_JSON_DEPTH } from '../json.ts';

/** A scalar (string, number, boolean, null); a list of scalars; a small object of scalars; or named keys. */
type Kind = 'scalar' | 'list' | 'flat' | { [key: string]: Spec };
/** Alternatives are tried in order; the first whose shape matches the value keeps it. */
type Spec = Kind | Kind[];

const MAX_STRING = 2000;
const MAX_LIST = 64;
const MAX_FLAT_KEYS = 32;

const users: Spec = { total: 'scalar', activeMonth: 'scalar', activeHalfyear: 'scalar' };
const usage: Spec = {
  users,
  // Some Pleroma forks send localPosts as {all, direct}: only the total is read.
  localPosts: ['scalar', { all: 'scalar' }],
  localComments: 'scalar'
};
const inOut: Spec = { inbound: 'list', outbound: 'list' };

/** What of `metadata` is kept: descriptive settings, never lists of other servers or of people. */
const metadata: Spec = {
  nodeName: 'scalar',
  nodeDescription: 'scalar',
  name: 'scalar',
  description: 'scalar',
  features: 'list',
  postFormats: 'list',
  langs: 'list',
  accountActivationRequired: 'scalar',
  invitesEnabled: 'scalar',
  mailerEnabled: 'scalar',
  private: 'scalar',
  disableRegistration: 'scalar',
  disableLocalTimeline: 'scalar',
  disableGlobalTimeline: 'scalar',
  disableRecommendedTimeline: 'scalar',
  emailRequiredForSignup: 'scalar',
  maxNoteTextLength: 'scalar',
  themeColor: 'scalar',
  tosUrl: 'scalar',
  repositoryUrl: 'scalar',
  feedbackUrl: 'scalar',
  uploadLimits: 'flat',
  pollLimits: 'flat',
  fieldsLimits: 'flat',
  taxonomy: 'flat',
  // Which MRF policies run (module names), and whether federation is on: never the domains they name.
  federation: { enabled: 'scalar', exclusions: 'scalar', mrf_policies: 'list' },
  software: { homepage: 'scalar', repo: 'scalar' }
};

/** NodeInfo 1.0–2.2, and NodeInfo2 (x-nodeinfo2: server{…}, organization dropped: names and contacts). */
const NODEINFO: Spec = {
  version: 'scalar',
  software: [{ name: 'scalar', version: 'scalar', repository: 'scalar', homepage: 'scalar' }, 'scalar'],
  server: { baseUrl: 'scalar', name: 'scalar', software: 'scalar', version: 'scalar' },
  protocols: ['list', inOut],
  services: inOut,
  openRegistrations: 'scalar',
  usage,
  metadata
};

const isScalar = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const scalar = (v: string | number | boolean | null) =>
  typeof v === 'string' ? cleanText(v, MAX_STRING) : v;

const NO = Symbol('dropped');

function keep(v: unknown, spec: Spec): unknown {
  for (const kind of Array.isArray(spec) ? spec : [spec]) {
    if (kind === 'scalar') {
      if (isScalar(v)) return scalar(v);
    } else if (kind === 'list') {
      if (Array.isArray(v)) return v.slice(0, MAX_LIST).filter(isScalar).map(scalar);
    } else if (kind === 'flat') {
      if (isObject(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v).slice(0, MAX_FLAT_KEYS))
          if (/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k) && isScalar(x)) out[k] = scalar(x);
        return out;
      }
    } else if (isObject(v)) {
      const out: Record<string, unknown> = {};
      // The document's own key order: a compact document with nothing to drop comes out as served.
      for (const [k, x] of Object.entries(v)) {
        if (!Object.hasOwn(kind, k)) continue;
        const y = keep(x, kind[k]);
        if (y !== NO) out[k] = y;
      }
      return out;
    }
  }
  return NO;
}

/** The part of a NodeInfo document that is stored (a new object; the argument is not changed). */
export function redactNodeinfo(doc: unknown): Record<string, unknown> {
  const out = keep(doc, NODEINFO);
  return isObject(out) ? out : {};
}

/**
 * A NodeInfo document's text as stored: redacted and serialised, or null when it is not a JSON object
 * nested within MAX_JSON_DEPTH (the crawler never stores such a document). Idempotent, so the store writer
 * and the migration of old databases apply it to text that is already redacted without changing it.
 */
export function storedNodeinfoText(text: string): string | null {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  return isObject(doc) ? JSON.stringify(redactNodeinfo(doc)) : null;
}
