import { createHash } from 'node:crypto';
import { cleanText } from '../json.ts';
import { normalizeDomain } from './domains.ts';

/**
 * Does a peer's public block list limit us? Only the answer is kept, never the rest of the list
 * (PRODUCT.md principle 2). Pure functions.
 */
export interface LimitFinding {
  severity: string;
  matchedBy: 'domain' | 'digest';
  comment: string | null;
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Our domain and its parents (a block on a parent domain covers us too), never a bare TLD. */
export function ownNames(ownDomain: string): string[] {
  const labels = ownDomain.split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}

const SEVERITY_RANK: Record<string, number> = { suspend: 3, silence: 2, noop: 1 };

function better(a: LimitFinding | null, b: LimitFinding): LimitFinding {
  if (!a) return b;
  return (SEVERITY_RANK[b.severity] ?? 0) > (SEVERITY_RANK[a.severity] ?? 0) ? b : a;
}

/**
 * Mastodon's public /api/v1/instance/domain_blocks: [{domain, digest, severity, comment?}]. A name may be
 * obfuscated with `*`; the digest is SHA-256 of the real name, so it still finds us.
 */
export function findOwnDomainBlock(list: unknown, ownDomain: string): LimitFinding | null {
  if (!Array.isArray(list)) return null;
  const names = ownNames(ownDomain);
  const digests = new Set(names.map(sha256));
  let found: LimitFinding | null = null;
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const b = e as Record<string, unknown>;
    const severity =
      typeof b.severity === 'string' ? b.severity.trim().toLowerCase().slice(0, 32) : 'unknown';
    const comment =
      typeof b.comment === 'string' && b.comment.trim() ? cleanText(b.comment.trim(), 1000) : null;
    const name = normalizeDomain(b.domain);
    if (name.ok && names.includes(name.domain))
      found = better(found, { severity, matchedBy: 'domain', comment });
    else if (typeof b.digest === 'string' && digests.has(b.digest.trim().toLowerCase()))
      found = better(found, { severity, matchedBy: 'digest', comment });
  }
  return found;
}

/** A Pleroma/Akkoma MRF pattern (`*.example.com` or a name) that covers our domain. */
function mrfMatches(pattern: string, ownDomain: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p.startsWith('*.')) {
    const base = normalizeDomain(p.slice(2));
    return base.ok && (ownDomain === base.domain || ownDomain.endsWith(`.${base.domain}`));
  }
  const n = normalizeDomain(p);
  return n.ok && ownNames(ownDomain).includes(n.domain);
}

/**
 * Pleroma/Akkoma publish their MRF simple policy in NodeInfo metadata.federation (mrf_transparency):
 * `reject` is a suspension, `silence`/`federated_timeline_removal` limit us. Entries are names or
 * [name, reason] pairs (newer), or {instance, reason} objects; reasons live in quarantined/…_info maps.
 */
export function findOwnMrfBlock(nodeinfo: unknown, ownDomain: string): LimitFinding | null {
  const meta = (nodeinfo as { metadata?: { federation?: Record<string, unknown> } } | null)?.metadata;
  const fed = meta?.federation;
  if (!fed || typeof fed !== 'object') return null;
  const simple = fed.mrf_simple as Record<string, unknown> | undefined;
  if (!simple || typeof simple !== 'object') return null;
  const info = (fed.mrf_simple_info ?? {}) as Record<string, Record<string, { reason?: unknown }>>;
  const kinds: [string, string][] = [
    ['reject', 'suspend'],
    ['silence', 'silence'],
    ['federated_timeline_removal', 'silence'],
    ['followers_only', 'silence']
  ];
  let found: LimitFinding | null = null;
  for (const [key, severity] of kinds) {
    const entries = simple[key];
    if (!Array.isArray(entries)) continue;
    for (const e of entries) {
      let name: unknown = e;
      let reason: unknown = null;
      if (Array.isArray(e)) [name, reason] = e;
      else if (e && typeof e === 'object') {
        name = (e as { instance?: unknown }).instance;
        reason = (e as { reason?: unknown }).reason;
      }
      if (typeof name !== 'string' || !mrfMatches(name, ownDomain)) continue;
      const r = reason ?? info?.[key]?.[name]?.reason;
      const comment = typeof r === 'string' && r.trim() ? cleanText(r.trim(), 1000) : null;
      found = better(found, { severity, matchedBy: 'domain', comment });
    }
  }
  return found;
}
