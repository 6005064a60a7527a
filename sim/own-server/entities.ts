/** Mastodon's JSON entities (Account, Admin::Account, Admin::Report, DomainBlock, Rule) for the sim's records. */
import { FOUNDED, iso, midnight } from './dates.ts';
import { currentSignInAt, statusesCount, type Member } from './history.ts';
import { sha256, stable } from './federation.ts';
import type { AccountRef, BlockState, DomainBlock, RemoteAccount, Report, Rule } from './moderation.ts';
import { atLeast } from './versions.ts';

export interface View {
  domain: string;
  version: string;
  now: number;
  seed: number;
}

const ROLE_IDS = { Owner: 3, Admin: 2, Moderator: 1 } as const;
const ROLE_PERMS = { Owner: 1, Admin: 983036, Moderator: 1308 } as const;

function role(m: Member) {
  if (!m.role) {
    // Members without a role carry the built-in "everyone" role.
    return {
      id: -99,
      name: '',
      color: '',
      position: -1,
      permissions: 65536,
      highlighted: false,
      created_at: iso(FOUNDED),
      updated_at: iso(FOUNDED)
    };
  }
  return {
    id: ROLE_IDS[m.role],
    name: m.role,
    color: m.role === 'Owner' ? '#3584e4' : '',
    position: ROLE_IDS[m.role] * 100 + (m.role === 'Owner' ? 700 : 0),
    permissions: ROLE_PERMS[m.role],
    highlighted: true,
    created_at: iso(FOUNDED),
    updated_at: iso(FOUNDED)
  };
}

export function localAccount(v: View, m: Member) {
  const url = `https://${v.domain}/@${m.username}`;
  const last = currentSignInAt(m, v.now);
  const followers = stable(
    v.seed,
    `followers:${m.idx}`,
    m.kind === 'core' ? 900 : m.kind === 'regular' ? 250 : 40
  );
  return {
    id: m.id,
    username: m.username,
    acct: m.username,
    display_name: m.username.replace(/_.*/, '').replace(/^./, (c) => c.toUpperCase()),
    locked: m.idx % 17 === 0,
    bot: false,
    discoverable: m.idx % 3 !== 0,
    indexable: m.idx % 4 === 0,
    group: false,
    created_at: midnight(m.createdMs),
    note: '',
    url,
    uri: `https://${v.domain}/users/${m.username}`,
    avatar: `https://${v.domain}/avatars/original/missing.png`,
    avatar_static: `https://${v.domain}/avatars/original/missing.png`,
    header: `https://${v.domain}/headers/original/missing.png`,
    header_static: `https://${v.domain}/headers/original/missing.png`,
    followers_count: followers,
    following_count: stable(v.seed, `following:${m.idx}`, 400),
    statuses_count: statusesCount(m, v.now),
    last_status_at: last === null ? null : midnight(last).slice(0, 10),
    hide_collections: false,
    noindex: false,
    emojis: [],
    roles: [],
    fields: []
  };
}

export function remoteAccountEntity(a: RemoteAccount) {
  return {
    id: a.id,
    username: a.username,
    acct: `${a.username}@${a.domain}`,
    display_name: a.username,
    locked: false,
    bot: false,
    discoverable: null,
    indexable: false,
    group: false,
    created_at: midnight(a.createdMs),
    note: '',
    url: `https://${a.domain}/@${a.username}`,
    uri: `https://${a.domain}/users/${a.username}`,
    avatar: `https://${a.domain}/avatars/original/missing.png`,
    avatar_static: `https://${a.domain}/avatars/original/missing.png`,
    header: `https://${a.domain}/headers/original/missing.png`,
    header_static: `https://${a.domain}/headers/original/missing.png`,
    followers_count: 0,
    following_count: 0,
    statuses_count: 0,
    last_status_at: null,
    hide_collections: false,
    noindex: false,
    emojis: [],
    roles: [],
    fields: []
  };
}

/** Admin::Account; `role` became a Role entity and `sensitized` appeared in 4.0. */
export function adminAccount(v: View, ref: AccountRef) {
  const modern = atLeast(v.version, '4.0');
  if ('remote' in ref) {
    const a = ref.remote;
    return {
      id: a.id,
      username: a.username,
      domain: a.domain,
      created_at: iso(a.createdMs),
      email: null,
      ip: null,
      role: null,
      confirmed: false,
      suspended: false,
      silenced: false,
      ...(modern ? { sensitized: false } : {}),
      disabled: false,
      approved: false,
      locale: null,
      invite_request: null,
      ips: [],
      account: remoteAccountEntity(a)
    };
  }
  const m = ref.local;
  const last = currentSignInAt(m, v.now);
  const ip = last === null ? null : m.ip;
  return {
    id: m.id,
    username: m.username,
    domain: null,
    created_at: iso(m.createdMs),
    email: `${m.username}@${['posteo.de', 'fastmail.com', 'gmail.com', 'proton.me', 'mailbox.org'][m.idx % 5]}`,
    ip,
    role: modern ? role(m) : (m.role?.toLowerCase() ?? 'user'),
    confirmed: m.confirmed,
    suspended: m.suspendedMs <= v.now,
    silenced: m.silencedMs <= v.now,
    ...(modern ? { sensitized: false } : {}),
    disabled: m.disabled,
    approved: true,
    locale: m.locale,
    invite_request: null,
    ips: ip === null || last === null ? [] : [{ ip, used_at: iso(last) }],
    account: localAccount(v, m)
  };
}

export function ruleEntity(v: View, r: Rule) {
  return {
    id: r.id,
    text: r.text,
    ...(atLeast(v.version, '4.3') ? { hint: r.hint } : {}),
    ...(atLeast(v.version, '4.4') ? { translations: { de: r.de } } : {})
  };
}

export function adminReport(v: View, r: Report, rules: Rule[]) {
  const resolved = r.resolvedMs <= v.now;
  const assigned = r.assignedMs <= v.now;
  const updated = Math.max(r.createdMs, assigned ? r.assignedMs : 0, resolved ? r.resolvedMs : 0);
  // `legal` arrived in 4.2; older servers filed those reports as `other`.
  const category = r.category === 'legal' && !atLeast(v.version, '4.2') ? 'other' : r.category;
  return {
    id: String(r.id),
    action_taken: resolved,
    action_taken_at: resolved ? iso(r.resolvedMs) : null,
    category,
    comment: r.comment,
    ...(atLeast(v.version, '4.0') ? { forwarded: r.forwarded } : {}),
    created_at: iso(r.createdMs),
    updated_at: iso(updated),
    account: adminAccount(v, r.reporter),
    target_account: adminAccount(v, r.target),
    assigned_account: assigned ? adminAccount(v, { local: r.moderator }) : null,
    action_taken_by_account: resolved ? adminAccount(v, { local: r.moderator }) : null,
    statuses: [],
    rules: r.ruleIds.flatMap((id) => rules.filter((x) => x.id === id).map((x) => ruleEntity(v, x)))
  };
}

export function adminDomainBlock(v: View, b: DomainBlock, s: BlockState) {
  return {
    id: String(b.id),
    domain: b.domain,
    ...(atLeast(v.version, '4.3') ? { digest: sha256(b.domain) } : {}),
    created_at: iso(b.createdMs),
    severity: s.severity,
    reject_media: s.rejectMedia,
    reject_reports: s.rejectReports,
    private_comment: s.privateComment,
    public_comment: s.publicComment,
    obfuscate: s.obfuscate
  };
}

/** DomainBlock#public_domain: the middle of each label run starred, keeping a quarter visible at each end. */
export function obfuscated(domain: string): string {
  const visible = Math.floor(domain.length / 4);
  return [...domain]
    .map((c, i) => (i > visible && i < domain.length - visible && c !== '.' ? '*' : c))
    .join('');
}
