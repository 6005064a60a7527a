import type { Db } from '../../../../collectors/store/database.ts';
import { financeSection, type FinanceSection } from '../finances/index.ts';
import { previousPeriod, type Period } from './period.ts';
import { change, count, partition, share, statistic, type Num } from './privacy.ts';

export const SCHEMA_VERSION = '1.1';

/** Mastodon's report categories (4.2+), in the order the report lists them. */
export const CATEGORIES = ['spam', 'legal', 'violation', 'other'] as const;

/** Numbers straight from the stable views, before any suppression (never leaves the server). */
export interface RawReport {
  instance: string | null;
  membersEnd: number | null;
  membersPrevEnd: number | null;
  activeEnd: number | null;
  activePrevEnd: number | null;
  signups: number | null;
  reportsReceived: number;
  reportsAboutLocal: number;
  reportsAboutRemote: number;
  reportsHandled: number;
  reportsOpenAtEnd: number;
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
  rules: { id: string; text: string }[];
  peersLimitingUs: number;
  daysWithData: number;
  dataAsOf: string | null;
  finances: FinanceSection | null;
}

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
  defederation: { added: PublishedDefederation[]; removed: PublishedDefederation[] };
  rules: { id: string; text: string }[];
  federation: { peers_limiting_us: Num };
  not_collected: { dsa_article_15: string; why: string }[];
  preface_markdown: string | null;
  /** Since 1.1: the co-op's books for the period, or null (none kept here, or published elsewhere). */
  finances: FinanceSection | null;
}

/** Mastodon shows an obfuscated block as e.g. `ex**ple.com`; the report does the same (DomainBlock#public_domain). */
export function publicDomain(domain: string, obfuscate: boolean | null): string {
  if (!obfuscate) return domain;
  const n = domain.length;
  const visible = Math.floor(n / 4);
  return [...domain].map((c, i) => (i > visible && i < n - visible && c !== '.' ? '*' : c)).join('');
}

const ts = (day: string) => `${day}T00:00:00Z`;

/** Everything the report needs, each number from one parameterised query on the stable views. */
export async function computeRaw(db: Db, p: Period): Promise<RawReport> {
  const prev = previousPeriod(p);
  const lastValue = async (metric: string, q: Period) => {
    const r = await db.one<{ value: number }>(
      `SELECT value FROM daily_metrics WHERE metric = $1 AND day >= CAST($2 AS DATE) AND day < CAST($3 AS DATE)
       ORDER BY day DESC LIMIT 1`,
      [metric, q.start, q.end]
    );
    return r ? Number(r.value) : null;
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
  const open = await db.one<{ n: number }>(
    `SELECT count(*) AS n FROM reports
     WHERE created_at < CAST($1 AS TIMESTAMPTZ) AND (resolved_at IS NULL OR resolved_at >= CAST($1 AS TIMESTAMPTZ))`,
    [ts(p.end)]
  );
  const cats = await db.all<{ category: string; n: number }>(
    `SELECT CASE WHEN category IN ('spam', 'legal', 'violation') THEN category ELSE 'other' END AS category, count(*) AS n
     FROM reports WHERE created_at >= CAST($1 AS TIMESTAMPTZ) AND created_at < CAST($2 AS TIMESTAMPTZ)
     GROUP BY 1`,
    [ts(p.start), ts(p.end)]
  );
  const defeds = await db.all<{
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
  const rules = await db.all<{ id: string; text: string }>(
    `SELECT rule_id AS id, text FROM instance_rules
     WHERE first_seen_at < CAST($1 AS TIMESTAMPTZ) AND (removed_at IS NULL OR removed_at >= CAST($1 AS TIMESTAMPTZ))
     ORDER BY TRY_CAST(rule_id AS BIGINT) NULLS LAST, rule_id`,
    [ts(p.end)]
  );
  const limiting = await db.one<{ n: number }>(
    `SELECT count(DISTINCT peer_domain) AS n FROM peers_limiting_us
     WHERE first_seen_at < CAST($2 AS TIMESTAMPTZ) AND last_seen_at >= CAST($1 AS TIMESTAMPTZ)`,
    [ts(p.start), ts(p.end)]
  );
  const covered = await db.one<{ n: number }>(
    `SELECT count(DISTINCT day) AS n FROM daily_metrics WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)`,
    [p.start, p.end]
  );
  const asOf = await db.one<{ at: string | null }>(
    `SELECT strftime(timezone('UTC', max(finished_at)), '%Y-%m-%dT%H:%M:%SZ') AS at FROM collection_runs WHERE status IN ('ok', 'partial')`
  );
  const instance = await db.one<{ instance: string }>(
    `SELECT instance FROM daily_metrics GROUP BY instance ORDER BY count(*) DESC LIMIT 1`
  );
  const byCategory: Record<string, number> = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
  for (const c of cats) byCategory[c.category] = Number(c.n);
  return {
    instance: instance?.instance ?? null,
    membersEnd: await lastValue('user_count', p),
    membersPrevEnd: await lastValue('user_count', prev),
    activeEnd: await lastValue('active_month', p),
    activePrevEnd: await lastValue('active_month', prev),
    signups: signups && Number(signups.days) > 0 ? Number(signups.n) : null,
    reportsReceived: Number(rep.received ?? 0),
    reportsAboutLocal: Number(rep.about_local ?? 0),
    reportsAboutRemote: Number(rep.about_remote ?? 0),
    reportsHandled: Number(handled.n),
    reportsOpenAtEnd: Number(open?.n ?? 0),
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
    rules,
    peersLimitingUs: Number(limiting?.n ?? 0),
    daysWithData: Number(covered?.n ?? 0),
    dataAsOf: asOf?.at ?? null,
    // Money, not people: no small-count rule applies (FEDIPULSE_PUBLISH_FINANCES=false leaves it out).
    finances: await financeSection(db, p.start, p.end)
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

/** The published report: every count of people or reports from 1 to k−1 suppressed. */
export function publish(raw: RawReport, p: Period, k: number, preface: string | null): PublishedReport {
  const members = count(raw.membersEnd, k);
  const membersPrev = count(raw.membersPrevEnd, k);
  const active = count(raw.activeEnd, k);
  const activePrev = count(raw.activePrevEnd, k);
  const mChange = change(members, membersPrev, k);
  const aChange = change(active, activePrev, k);
  const received = count(raw.reportsReceived, k);
  // local + remote add up to (nearly) the total: suppress in pairs so one cannot be derived.
  const origin = partition(
    { local: raw.reportsAboutLocal, remote: raw.reportsAboutRemote } as Record<'local' | 'remote', number>,
    k
  );
  const cats = partition(raw.byCategory, k);
  const toPublic = (e: 'added' | 'removed') =>
    raw.defederations
      .filter((d) => d.event === e)
      .map((d) => ({
        domain: d.domain,
        severity: d.severity,
        public_comment: d.publicComment,
        date: d.date
      }));
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
      rule: `Counts from 1 to ${k - 1} are published as "fewer than ${k}" (value null, suppressed true), and so are shares, medians and changes computed from such small groups.`
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
      total_change_share: mChange.changeShare,
      active,
      active_previous: activePrev,
      active_change: aChange.change,
      active_change_share: aChange.changeShare,
      signups: count(raw.signups, k)
    },
    reports: {
      received,
      about_local_accounts: received.suppressed ? { value: null, suppressed: true } : origin.local,
      about_remote_accounts: received.suppressed ? { value: null, suppressed: true } : origin.remote,
      handled: count(raw.reportsHandled, k),
      open_at_end: count(raw.reportsOpenAtEnd, k),
      resolved_within_24h_share: share(raw.resolvedWithin24h, raw.reportsReceived, k),
      resolved_within_7d_share: share(raw.resolvedWithin7d, raw.reportsReceived, k),
      median_hours_to_resolve: statistic(
        raw.medianSecondsToResolve === null
          ? null
          : Math.round((raw.medianSecondsToResolve / 3600) * 10) / 10,
        raw.reportsHandled,
        k
      ),
      by_category: CATEGORIES.map((c) => ({
        category: c,
        count: received.suppressed && raw.byCategory[c] > 0 ? { value: null, suppressed: true } : cats[c]
      }))
    },
    defederation: { added: toPublic('added'), removed: toPublic('removed') },
    rules: raw.rules,
    federation: { peers_limiting_us: count(raw.peersLimitingUs, k) },
    not_collected: NOT_COLLECTED,
    preface_markdown: preface,
    finances: raw.finances
  };
}

export type { Num };
