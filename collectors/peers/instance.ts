import { cleanText, isObject } from '../json.ts';
import { readCount } from './nodeinfo.ts';

/** What a peer's Mastodon-style instance endpoint adds to its NodeInfo (pure). */
export interface PeerInstanceInfo {
  api: 'v2' | 'v1';
  title: string | null;
  version: string | null;
  /** v1 stats.user_count: kept apart, compat layers are known to invent it (Sharkey#113). */
  userCount: number | null;
  /** v2 usage.users.active_month. */
  activeMonth: number | null;
}

export function parseInstance(doc: unknown, api: 'v2' | 'v1'): PeerInstanceInfo | null {
  if (!isObject(doc)) return null;
  const d = doc;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? cleanText(v.trim(), 200) : null);
  const stats = (d.stats ?? {}) as Record<string, unknown>;
  const usage = (d.usage ?? {}) as { users?: Record<string, unknown> };
  const title = str(d.title);
  const version = str(d.version);
  if (!title && !version) return null;
  return {
    api,
    title,
    version,
    userCount: api === 'v1' ? readCount(stats.user_count, 'user_count').value : null,
    activeMonth: api === 'v2' ? readCount(usage.users?.active_month, 'active_month').value : null
  };
}
