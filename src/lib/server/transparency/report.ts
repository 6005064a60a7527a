import type { Db } from '../../../../collectors/store/database.ts';
import { financeSection, type FinanceSection } from '../finances/index.ts';
import { CATEGORIES, cellKey, periodCells, type Flow } from './cells.ts';
import { decide } from './disclosure.ts';
import { previousPeriod, type Period } from './period.ts';
import { count, isSmall, NONE, statistic, type Num } from './privacy.ts';

export { CATEGORIES } from './cells.ts';

export const SCHEMA_VERSION = '1.2';

/** Numbers straight from the stable views, before any suppression (never leaves the server). */
export interface RawReport {
  instance: string | null;
  membersEnd: number | null;
  /** The day each stock was observed (the last day of the period with a value): its cell's key. */
  membersEndDay: string | null;
  membersPrevEnd: number | null;
  membersPrevEndDay: string | null;
  activeEnd: number | null;
  activeEndDay: string | null;
  activePrevEnd: number | null;
  activePrevEndDay: string | null;
  signups: number | null;
  reportsReceived: number;
  reportsAboutLocal: number;
  reportsAboutRemote: number;
  reportsHandled: number;
  reportsOpenAtEnd: number;
  /** Open at 00:00 UTC of the first day: the previous period's open_at_end. */
  reportsOpenAtStart: number;
  resolvedWithin24h: number;
  resolvedWithin7d: number;
  medianSecondsToResolve: number | null;
  byCategory: Record<string, number>;
  defederations: {
    event: 'added' | 'removed';
    domain: string;
    severity: string | null;
    publicComment: string | null;
    date: string;
  }[];
  /** What the server's own "Show domain blocks" settings let anonymous visitors see (collectors/instance/public.ts). */
  domainBlocksShown: DomainBlocksShown;
  rules: { id: string; text: string }[];
  peersLimitingUs: number;
  daysWithData: number;
  dataAsOf: string | null;
  finances: FinanceSection | null;
}

/**
 * Mastodon's `show_domain_blocks` as seen from outside: `all` (anyone), `users` (signed-in members only),
 * `none` (disabled, or limited federation mode), `unknown` (not collected yet). `reasons` is whether the
 * public list carries the public comments (`show_domain_blocks_rationale` = all).
 */
export interface DomainBlocksShown {
  list: 'all' | 'users' | 'none' | 'unknown';
  reasons: boolean;
}

/** The settings the collector records (collectors/instance/public.ts publicDomainBlocks). */
export const DOMAIN_BLOCKS_SETTING = 'public_domain_blocks';
export const DOMAIN_BLOCKS_RATIONALE_SETTING = 'public_domain_blocks_rationale';

export interface PublishedDefederation {
  domain: string;
  severity: string | null;
  public_comment: string | null;
  date: string;
}

/** Schema 1.1 of /transparency/<period>.json (docs/transparency.md). */
export interface PublishedReport {
  schema_version: string;
  generator: 'fedipulse';
  instance: string | null;
  period: { id: string; kind: string; label: string; start: string; end: string; previous: string };
  data_as_of: string | null;
  privacy: { min_count: number; rule: string };
  coverage: { days_in_period: number; days_with_data: number; share: Num };
  members: {
    total: Num;
    total_previous: Num;
    total_change: Num;
    total_change_share: Num;
    active: Num;
    active_previous: Num;
    active_change: Num;
    active_change_share: Num;
    signups: Num;
  };
  reports: {
    received: Num;
    about_local_accounts: Num;
    about_remote_accounts: Num;
    handled: Num;
    open_at_end: Num;
    resolved_within_24h_share: Num;
    resolved_within_7d_share: Num;
    median_hours_to_resolve: Num;
    by_category: { category: string; count: Num }[];
  };
  /**
   * Since 1.2: `listed` names the servers (with reasons only when the server publishes them to everyone),
   * `counts` gives only how many, `none` nothing; `note` says why.
   */
  defederation: {
    shown: 'listed' | 'counts' | 'none';
    reasons_shown: boolean;
    note: string | null;
    added_count: number | null;
    removed_count: number | null;
    added: PublishedDefederation[];
    removed: PublishedDefederation[];
  };
  rules: { id: string; text: string }[];
  federation: { peers_limiting_us: Num };
  not_collected: { dsa_article_15: string; why: string }[];
  preface_markdown: string | null;
  /** Since 1.1: the co-op's books for the period, or null (none kept here, or published elsewhere). */
  finances: PublishedFinances | null;
}

/**
 * The books as published: active members are the same cell as `members.active` and share its suppression
 * (since 1.2); the cost per active member is withheld when any month's active members are, since with the
 * costs it would give their sum back.
 */
export type PublishedFinances = FinanceSection & {
  activeMembersSuppressed: boolean;
  costPerActiveMemberSuppressed: boolean;
};

/** Mastodon shows an obfuscated block as e.g. `ex**ple.com`; the report does the same (DomainBlock#public_domain). */
export function publicDomain(domain: string, obfuscate: boolean | null): string {
  if (!obfuscate) return domain;
  const n = domain.length;
  const visible = Math.floor(n / 4);
  return [...domain].map((c, i) => (i > visible && i < n - visible && c !== '.' ? '*' : c)).join('');
}

const ts = (day: string) => `${day}T00:00:00Z`;

/**
 * Everything the report needs, each number from one parameterised query on the stable views. With
 * `countsOnly`, only the numbers the suppression table needs (cells.ts); lists, rules and books are left empty.
 */
export async function computeRaw(db: Db, p: Period, countsOnly = false): Promise<RawReport> {
  const full = !countsOnly;
  const prev = previousPeriod(p);
  const lastValue = async (metric: string, q: Period) => {
    const r = await db.one<{ value: number; day: string }>(
      `SELECT value, strftime(day, '%Y-%m-%d') AS day FROM daily_metrics
       WHERE metric = $1 AND day >= CAST($2 AS DATE) AND day < CAST($3 AS DATE)
       ORDER BY day DESC LIMIT 1`,
      [metric, q.start, q.end]
    );
    return r ? { value: Number(r.value), day: r.day } : { value: null, day: null };
  };
  const signups = await db.one<{ n: number | null; days: number }>(
    `SELECT sum(value) AS n, count(*) AS days FROM daily_metrics
     WHERE metric = 'new_users' AND day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)`,
    [p.start, p.end]
  );
  const rep =
    (await db.one<Record<string, number | null>>(
      `SELECT count(*) AS received,
            count(*) FILTER (WHERE target_origin = 'local') AS about_local,
            count(*) FILTER (WHERE target_origin = 'remote') AS about_remote,
            count(*) FILTER (WHERE resolved_at IS NOT NULL AND epoch(resolved_at) - epoch(created_at) <= 86400) AS within_24h,
            count(*) FILTER (WHERE resolved_at IS NOT NULL AND epoch(resolved_at) - epoch(created_at) <= 7 * 86400) AS within_7d
     FROM reports WHERE created_at >= CAST($1 AS TIMESTAMPTZ) AND created_at < CAST($2 AS TIMESTAMPTZ)`,
      [ts(p.start), ts(p.end)]
    )) ?? {};
  const handled = (await db.one<{ n: number; median_s: number | null }>(
    `SELECT count(*) AS n, median(epoch(resolved_at) - epoch(created_at)) AS median_s
     FROM reports WHERE resolved_at >= CAST($1 AS TIMESTAMPTZ) AND resolved_at < CAST($2 AS TIMESTAMPTZ)`,
    [ts(p.start), ts(p.end)]
  )) ?? { n: 0, median_s: null };
  const openAt = async (day: string) =>
    Number(
      (
        await db.one<{ n: number }>(
          `SELECT count(*) AS n FROM reports
           WHERE created_at < CAST($1 AS TIMESTAMPTZ) AND (resolved_at IS NULL OR resolved_at >= CAST($1 AS TIMESTAMPTZ))`,
          [ts(day)]
        )
      )?.n ?? 0
    );
  const cats = await db.all<{ category: string; n: number }>(
    `SELECT CASE WHEN category IN ('spam', 'legal', 'violation') THEN category ELSE 'other' END AS category, count(*) AS n
     FROM reports WHERE created_at >= CAST($1 AS TIMESTAMPTZ) AND created_at < CAST($2 AS TIMESTAMPTZ)
     GROUP BY 1`,
    [ts(p.start), ts(p.end)]
  );
  const defeds = !full
    ? []
    : await db.all<{
        event: 'added' | 'removed';
        domain: string;
        obfuscate: boolean | null;
        severity: string | null;
        public_comment: string | null;
        date: string;
      }>(
        `SELECT e.event, e.domain, b.obfuscate, coalesce(e.severity, b.severity) AS severity,
            coalesce(e.public_comment, b.public_comment) AS public_comment,
            strftime(timezone('UTC', e.event_at), '%Y-%m-%d') AS date
     FROM domain_block_events e LEFT JOIN own_domain_blocks b ON b.domain = e.domain AND b.instance = e.instance
     WHERE e.event IN ('added', 'removed') AND coalesce(e.severity, b.severity, '') <> 'noop'
       AND e.event_at >= CAST($1 AS TIMESTAMPTZ) AND e.event_at < CAST($2 AS TIMESTAMPTZ)
     ORDER BY e.event_at, e.domain`,
        [ts(p.start), ts(p.end)]
      );
  const rules = !full
    ? []
    : await db.all<{ id: string; text: string }>(
        `SELECT rule_id AS id, text FROM instance_rules
     WHERE first_seen_at < CAST($1 AS TIMESTAMPTZ) AND (removed_at IS NULL OR removed_at >= CAST($1 AS TIMESTAMPTZ))
     ORDER BY TRY_CAST(rule_id AS BIGINT) NULLS LAST, rule_id`,
        [ts(p.end)]
      );
  const limiting = !full
    ? null
    : await db.one<{ n: number }>(
        `SELECT count(DISTINCT peer_domain) AS n FROM peers_limiting_us
     WHERE first_seen_at < CAST($2 AS TIMESTAMPTZ) AND last_seen_at >= CAST($1 AS TIMESTAMPTZ)`,
        [ts(p.start), ts(p.end)]
      );
  const covered = await db.one<{ n: number }>(
    `SELECT count(DISTINCT day) AS n FROM daily_metrics WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)`,
    [p.start, p.end]
  );
  const shown = await db.all<{ key: string; value: string | null }>(
    `SELECT key, value FROM settings WHERE key IN ($1, $2)`,
    [DOMAIN_BLOCKS_SETTING, DOMAIN_BLOCKS_RATIONALE_SETTING]
  );
  const setting = (key: string) => shown.find((r) => r.key === key)?.value ?? null;
  const list = setting(DOMAIN_BLOCKS_SETTING);
  const asOf = !full
    ? null
    : await db.one<{ at: string | null }>(
        `SELECT strftime(timezone('UTC', max(finished_at)), '%Y-%m-%dT%H:%M:%SZ') AS at FROM collection_runs WHERE status IN ('ok', 'partial')`
      );
  const instance = await db.one<{ instance: string }>(
    `SELECT instance FROM daily_metrics GROUP BY instance ORDER BY count(*) DESC LIMIT 1`
  );
  const byCategory: Record<string, number> = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
  for (const c of cats) byCategory[c.category] = Number(c.n);
  const members = await lastValue('user_count', p);
  const membersPrev = await lastValue('user_count', prev);
  const active = await lastValue('active_month', p);
  const activePrev = await lastValue('active_month', prev);
  return {
    instance: instance?.instance ?? null,
    membersEnd: members.value,
    membersEndDay: members.day,
    membersPrevEnd: membersPrev.value,
    membersPrevEndDay: membersPrev.day,
    activeEnd: active.value,
    activeEndDay: active.day,
    activePrevEnd: activePrev.value,
    activePrevEndDay: activePrev.day,
    signups: signups && Number(signups.days) > 0 ? Number(signups.n) : null,
    reportsReceived: Number(rep.received ?? 0),
    reportsAboutLocal: Number(rep.about_local ?? 0),
    reportsAboutRemote: Number(rep.about_remote ?? 0),
    reportsHandled: Number(handled.n),
    reportsOpenAtEnd: await openAt(p.end),
    reportsOpenAtStart: await openAt(p.start),
    resolvedWithin24h: Number(rep.within_24h ?? 0),
    resolvedWithin7d: Number(rep.within_7d ?? 0),
    medianSecondsToResolve: handled.median_s === null ? null : Number(handled.median_s),
    byCategory,
    defederations: defeds.map((d) => ({
      event: d.event,
      domain: publicDomain(d.domain, d.obfuscate),
      severity: d.severity,
      publicComment: d.public_comment,
      date: d.date
    })),
    domainBlocksShown: {
      list: list === 'all' || list === 'users' || list === 'none' ? list : 'unknown',
      reasons: list === 'all' && setting(DOMAIN_BLOCKS_RATIONALE_SETTING) === 'all'
    },
    rules,
    peersLimitingUs: Number(limiting?.n ?? 0),
    daysWithData: Number(covered?.n ?? 0),
    dataAsOf: asOf?.at ?? null,
    // Money, not people: no small-count rule applies (FEDIPULSE_PUBLISH_FINANCES=false leaves it out).
    finances: full ? await financeSection(db, p.start, p.end) : null
  };
}

/** What DSA Art. 15(1) asks for that fedipulse cannot see through Mastodon's APIs. */
export const NOT_COLLECTED = [
  {
    dsa_article_15: '15(1)(a) orders from Member States’ authorities',
    why: 'Not recorded by Mastodon; the board states them in the preface.'
  },
  {
    dsa_article_15: '15(1)(c) own-initiative moderation by detection method',
    why: 'Mastodon’s API exposes reports, not moderator actions taken without one.'
  },
  {
    dsa_article_15: '15(1)(d) complaints through the internal complaint-handling system (appeals)',
    why: 'Appeals are not in Mastodon’s admin API.'
  },
  {
    dsa_article_15: '15(1)(e) use of automated means for moderation',
    why: 'None is used by fedipulse; the board states the server’s practice in the preface.'
  }
];

const DEFEDERATION_NOTE = {
  users:
    'This server shows its list of blocked servers to signed-in members only, so this public report gives only how many were added and lifted.',
  none: 'This server does not publish its list of blocked servers, so this report does not either.',
  unknown:
    'Whether this server publishes its list of blocked servers has not been collected yet, so this report leaves the list out.',
  reasons:
    'This server shows the reasons for its blocks to signed-in members only (or not at all), so no reasons are given here.'
} as const;

/**
 * The published report. `hidden` is the suppression decided across every period and format
 * (disclosure.ts, index.ts decision()); without it, the decision over this period's own numbers.
 */
export function publish(
  raw: RawReport,
  p: Period,
  k: number,
  preface: string | null,
  hidden: ReadonlySet<string> = ownDecision(raw, p, k)
): PublishedReport {
  const hide = (value: number): Num => ({
    value: null,
    suppressed: true,
    reason: isSmall(Math.abs(value), k) ? 'small' : 'complementary'
  });
  const cell = (key: string, value: number | null): Num =>
    value === null ? NONE : hidden.has(key) ? hide(value) : { value, suppressed: false };
  const flow = (f: Flow, value: number | null = null) => cell(cellKey.flow(f, p), value);
  const stock = (metric: 'members.total' | 'members.active', value: number | null, day: string | null) =>
    day === null ? NONE : cell(cellKey.stock(metric, day), value);
  const changeOf = (
    metric: 'members.total' | 'members.active',
    cur: Num,
    prev: Num,
    curValue: number | null,
    prevValue: number | null
  ): { change: Num; share: Num } => {
    if (curValue === null || prevValue === null || (cur.value === null && !cur.suppressed)) {
      return { change: NONE, share: NONE };
    }
    if (prev.value === null && !prev.suppressed) return { change: NONE, share: NONE };
    const d = curValue - prevValue;
    const change = cell(cellKey.change(metric, p), d);
    // The decision hides the change with either total; hide it here too, whatever the decision says.
    if (change.suppressed || cur.suppressed || prev.suppressed) {
      const hidden: Num = { value: null, suppressed: true, reason: 'complementary' };
      return { change: hidden, share: hidden };
    }
    return { change, share: prevValue ? { value: d / prevValue, suppressed: false } : NONE };
  };
  const members = stock('members.total', raw.membersEnd, raw.membersEndDay);
  const membersPrev = stock('members.total', raw.membersPrevEnd, raw.membersPrevEndDay);
  const active = stock('members.active', raw.activeEnd, raw.activeEndDay);
  const activePrev = stock('members.active', raw.activePrevEnd, raw.activePrevEndDay);
  const mChange = changeOf('members.total', members, membersPrev, raw.membersEnd, raw.membersPrevEnd);
  const aChange = changeOf('members.active', active, activePrev, raw.activeEnd, raw.activePrevEnd);
  const received = flow('reports.received', raw.reportsReceived);
  /** A share of the reports received: shown only when both counts are. */
  const shareOf = (f: Flow, num: number): Num => {
    if (raw.reportsReceived === 0) return NONE;
    const n = flow(f, num);
    if (received.suppressed || n.suppressed) {
      const small = isSmall(num, k) || isSmall(raw.reportsReceived, k);
      return { value: null, suppressed: true, reason: small ? 'small' : 'complementary' };
    }
    return { value: num / raw.reportsReceived, suppressed: false };
  };
  const median = statistic(
    raw.medianSecondsToResolve === null ? null : Math.round((raw.medianSecondsToResolve / 3600) * 10) / 10,
    raw.reportsHandled,
    k
  );
  const peers = count(raw.peersLimitingUs, k);
  const small = (n: Num): Num => (n.suppressed ? { ...n, reason: 'small' } : n);

  const shown = raw.domainBlocksShown;
  const listed = shown.list === 'all';
  const toPublic = (e: 'added' | 'removed') =>
    listed
      ? raw.defederations
          .filter((d) => d.event === e)
          .map((d) => ({
            domain: d.domain,
            severity: d.severity,
            public_comment: shown.reasons ? d.publicComment : null,
            date: d.date
          }))
      : [];
  const howMany = (e: 'added' | 'removed') =>
    shown.list === 'all' || shown.list === 'users'
      ? raw.defederations.filter((d) => d.event === e).length
      : null;

  let finances: PublishedFinances | null = null;
  if (raw.finances) {
    // Any month-end active count hidden in the period: cost ÷ Σ active would give the sum back.
    const anyActiveHidden = [...hidden].some((key) => {
      const m = /^members\.active@(\d{4}-\d{2}-\d{2})$/.exec(key);
      return m !== null && m[1] >= p.start && m[1] < p.end;
    });
    finances = {
      ...raw.finances,
      activeMembers: active.value,
      activeMembersSuppressed: active.suppressed,
      costPerActiveMember: anyActiveHidden ? null : raw.finances.costPerActiveMember,
      costPerActiveMemberSuppressed: anyActiveHidden
    };
  }

  return {
    schema_version: SCHEMA_VERSION,
    generator: 'fedipulse',
    instance: raw.instance,
    period: {
      id: p.id,
      kind: p.kind,
      label: p.label,
      start: p.start,
      end: p.last,
      previous: previousPeriod(p).id
    },
    data_as_of: raw.dataAsOf,
    privacy: {
      min_count: k,
      rule: `Counts from 1 to ${k - 1} are published as "fewer than ${k}" (value null, suppressed true, reason "small"), and so are shares, medians and changes computed from such small groups. Where a hidden count could be worked out from other published numbers (a quarter minus its other months, open at the end minus the flows, a total minus its parts), another number is hidden too (reason "complementary"), decided once across every period and format.`
    },
    coverage: {
      days_in_period: p.days,
      days_with_data: raw.daysWithData,
      share: { value: p.days ? raw.daysWithData / p.days : null, suppressed: false }
    },
    members: {
      total: members,
      total_previous: membersPrev,
      total_change: mChange.change,
      total_change_share: mChange.share,
      active,
      active_previous: activePrev,
      active_change: aChange.change,
      active_change_share: aChange.share,
      signups: flow('members.signups', raw.signups)
    },
    reports: {
      received,
      about_local_accounts: flow('reports.about_local_accounts', raw.reportsAboutLocal),
      about_remote_accounts: flow('reports.about_remote_accounts', raw.reportsAboutRemote),
      handled: flow('reports.handled', raw.reportsHandled),
      open_at_end: cell(cellKey.open(p.end), raw.reportsOpenAtEnd),
      resolved_within_24h_share: shareOf('reports.resolved_within_24h', raw.resolvedWithin24h),
      resolved_within_7d_share: shareOf('reports.resolved_within_7d', raw.resolvedWithin7d),
      median_hours_to_resolve: small(median),
      by_category: CATEGORIES.map((c) => ({
        category: c,
        count: flow(`reports.by_category.${c}` as Flow, raw.byCategory[c] ?? 0)
      }))
    },
    defederation: {
      shown: listed ? 'listed' : shown.list === 'users' ? 'counts' : 'none',
      reasons_shown: listed && shown.reasons,
      note:
        shown.list === 'all'
          ? shown.reasons
            ? null
            : DEFEDERATION_NOTE.reasons
          : DEFEDERATION_NOTE[shown.list],
      added_count: howMany('added'),
      removed_count: howMany('removed'),
      added: toPublic('added'),
      removed: toPublic('removed')
    },
    rules: raw.rules,
    federation: { peers_limiting_us: small(peers) },
    not_collected: NOT_COLLECTED,
    preface_markdown: preface,
    finances
  };
}

/** Suppression over one period's own numbers (a period outside the table: before any data). */
export function ownDecision(raw: RawReport, p: Period, k: number): Set<string> {
  const { cells, identities } = periodCells(p, raw, k);
  return decide(new Map(cells.map((c) => [c.key, c])), identities);
}

export type { Num };
