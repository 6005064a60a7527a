/** Admin API lists (reports, domain blocks, accounts) with Mastodon's filters and Link-header paging. */
import { send, type Ctx } from './context.ts';
import { adminAccount, adminDomainBlock, adminReport } from './entities.ts';
import { RULES, blockAt } from './moderation.ts';
import { atLeast, resolvedParamIsBoolean } from './versions.ts';

/** Admin endpoints answer 403 for a missing or unknown token (Pundit), 401 only for a revoked one (Doorkeeper). */
export function authorizeAdmin(c: Ctx): boolean {
  if (c.viewer === 'admin') return true;
  if (c.viewer === 'revoked') send(c, 401, { error: 'The access token is invalid' });
  else if (c.viewer === 'user') send(c, 403, { error: 'This action is outside the authorized scopes' });
  else send(c, 403, { error: 'This action is not allowed' });
  return false;
}

const big = (s: string | null) => (s !== null && /^\d+$/.test(s) ? BigInt(s) : null);

/**
 * `to_a_paginated_by_id` over records sorted newest first: max_id/since_id page down from the top,
 * min_id pages up from a cursor. `next` only when the page is full, `prev` whenever it is not empty.
 */
function paginate<T>(c: Ctx, desc: T[], idOf: (t: T) => string, keep: string[]): T[] {
  const q = c.req.url.searchParams;
  const limit = q.has('limit') ? Math.min(Math.abs(parseInt(q.get('limit')!, 10) || 0), 200) : 100;
  const maxId = big(q.get('max_id'));
  const sinceId = big(q.get('since_id'));
  const minId = big(q.get('min_id'));
  const below = (t: T) => maxId === null || BigInt(idOf(t)) < maxId;
  let page: T[];
  if (minId !== null) {
    const newer = desc.filter((t) => BigInt(idOf(t)) > minId && below(t));
    page = newer.slice(Math.max(0, newer.length - limit));
  } else {
    page = desc.filter((t) => below(t) && (sinceId === null || BigInt(idOf(t)) > sinceId)).slice(0, limit);
  }
  const link = (cursor: Record<string, string>) => {
    const params: Record<string, string> = { ...cursor };
    for (const k of ['limit', ...keep]) if (q.has(k)) params[k] = q.get(k)!;
    // Rails' url helpers sort query keys.
    const query = Object.keys(params)
      .sort()
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k])}`)
      .join('&');
    return `${c.req.url.origin}${c.req.url.pathname}?${query}`;
  };
  const links: string[] = [];
  if (page.length > 0 && page.length === limit)
    links.push(`<${link({ max_id: idOf(page[page.length - 1]) })}>; rel="next"`);
  if (page.length > 0) links.push(`<${link({ min_id: idOf(page[0]) })}>; rel="prev"`);
  if (links.length > 0) c.headers.Link = links.join(', ');
  return page;
}

/** ActiveModel::Type::Boolean::FALSE_VALUES (compared case-insensitively here). */
const FALSE_VALUES = new Set(['0', 'f', 'false', 'off']);

export function reports(c: Ctx): void {
  const q = c.req.url.searchParams;
  const now = c.v.now;
  // Before 4.6 ReportFilter merged Report.resolved for any non-empty `resolved`, so even `resolved=false` listed
  // resolved ones; from 4.6 the value is cast to a boolean (false, 0, off, f: open reports).
  const raw = q.get('resolved') ?? '';
  const resolved = resolvedParamIsBoolean(c.v.version)
    ? raw !== '' && !FALSE_VALUES.has(raw.toLowerCase())
    : raw !== '';
  const accountId = q.get('account_id');
  const targetId = q.get('target_account_id');
  const idOfRef = (r: (typeof c.w.mod.reports)[number]['reporter']) =>
    'local' in r ? r.local.id : r.remote.id;
  const list = [];
  for (let i = c.w.mod.reports.length - 1; i >= 0; i--) {
    const r = c.w.mod.reports[i];
    if (r.createdMs > now || r.resolvedMs <= now !== resolved) continue;
    if (accountId && idOfRef(r.reporter) !== accountId) continue;
    if (targetId && idOfRef(r.target) !== targetId) continue;
    list.push(r);
  }
  const page = paginate(c, list, (r) => String(r.id), ['resolved', 'account_id', 'target_account_id']);
  send(
    c,
    200,
    page.map((r) => adminReport(c.v, r, RULES))
  );
}

export function report(c: Ctx, id: string): void {
  const r = c.w.mod.reports[Number(id) - 1];
  if (!r || String(r.id) !== id || r.createdMs > c.v.now) return send(c, 404, { error: 'Record not found' });
  send(c, 200, adminReport(c.v, r, RULES));
}

function visibleBlocks(c: Ctx) {
  const out = [];
  for (let i = c.w.mod.blocks.length - 1; i >= 0; i--) {
    const block = c.w.mod.blocks[i];
    const state = blockAt(block, c.v.now);
    if (state) out.push({ block, state });
  }
  return out;
}

export function domainBlocks(c: Ctx, id?: string): void {
  if (!atLeast(c.v.version, '4.0')) return send(c, 404, { error: 'Record not found' });
  const list = visibleBlocks(c);
  if (id !== undefined) {
    const hit = list.find((b) => String(b.block.id) === id);
    if (!hit) return send(c, 404, { error: 'Record not found' });
    return send(c, 200, adminDomainBlock(c.v, hit.block, hit.state));
  }
  const page = paginate(c, list, (b) => String(b.block.id), []);
  send(
    c,
    200,
    page.map((b) => adminDomainBlock(c.v, b.block, b.state))
  );
}

const STATUSES = ['active', 'pending', 'disabled', 'silenced', 'suspended', 'sensitized'];

/** GET /api/v2/admin/accounts: no default filters, so remote accounts are listed too. */
export function accountsV2(c: Ctx): void {
  const q = c.req.url.searchParams;
  const now = c.v.now;
  const origin = q.get('origin');
  const status = q.get('status');
  if (origin && origin !== 'local' && origin !== 'remote')
    return send(c, 400, { error: `Unknown origin: ${origin}` });
  if (status && !STATUSES.includes(status)) return send(c, 400, { error: `Unknown status: ${status}` });
  const byDomain = q.get('by_domain')?.toLowerCase();
  const username = q.get('username')?.toLowerCase();
  const staff = q.get('permissions') === 'staff';
  const list = c.w.accountsDesc.filter((a) => {
    const local = 'local' in a ? a.local : null;
    const created = local ? local.createdMs : 'remote' in a ? a.remote.createdMs : 0;
    if (created > now) return false;
    if (origin === 'local' && !local) return false;
    if (origin === 'remote' && local) return false;
    const suspended = local ? local.suspendedMs <= now : false;
    if (status === 'active' && suspended) return false;
    if (status === 'suspended' && !suspended) return false;
    if (status === 'silenced' && !(local && local.silencedMs <= now)) return false;
    if (status === 'disabled' && !(local && local.disabled && !suspended)) return false;
    if (status === 'pending' || status === 'sensitized') return false;
    if (byDomain && ('remote' in a ? a.remote.domain !== byDomain : true)) return false;
    if (username && !('local' in a ? a.local.username : a.remote.username).toLowerCase().startsWith(username))
      return false;
    if (staff && !local?.role) return false;
    return true;
  });
  const idOf = (a: (typeof list)[number]) => ('local' in a ? a.local.id : a.remote.id);
  const keep = ['origin', 'status', 'by_domain', 'username', 'permissions'];
  const page = paginate(c, list, idOf, keep);
  send(
    c,
    200,
    page.map((a) => adminAccount(c.v, a))
  );
}

export function account(c: Ctx, id: string): void {
  const a = c.w.accountsDesc.find((x) => ('local' in x ? x.local.id : x.remote.id) === id);
  const created = a ? ('local' in a ? a.local.createdMs : a.remote.createdMs) : Infinity;
  if (!a || created > c.v.now) return send(c, 404, { error: 'Record not found' });
  send(c, 200, adminAccount(c.v, a));
}
