/**
 * The admin dashboard endpoints: measures, dimensions and retention, computed from the world as of the
 * clock with Mastodon's semantics (Redis-backed days expire after ~6 months and exclude the end day,
 * SQL-backed days include it, per-instance totals are all-time and have no previous_total).
 */
import { parseParams } from '../http.ts';
import { send, type Ctx } from './context.ts';
import { DAY, cohortDate, dayOf, dayStart, humanSize, parseDay, redisDate, sqlDate } from './dates.ts';
import { peerCumulative, stable } from './federation.ts';
import { activeOnDay, currentSignInAt, localStatusesAt, seen, uniqueLogins } from './history.ts';
import { atLeast, retentionCapped, stackAt } from './versions.ts';
import { countIn, onDay, type World } from './world.ts';

/** Rails' `6.months` in ms: how long ActivityTracker keeps a day in Redis. */
const REDIS_EXPIRY = 15_778_476_000;
/** Trending-tag history keys live 7 days. */
const TAG_EXPIRY = 7 * DAY;
const TAG_IDS = 60;

type Params = Record<string, string | string[]>;
type Row = { date: string; value: string };
type Measure = {
  key: string;
  unit: string | null;
  total: string;
  human_value?: string;
  previous_total?: string;
  data: Row[];
};

class MissingParam extends Error {}
class NotFound extends Error {}

const range = (from: number, toExclusive: number) =>
  Array.from({ length: Math.max(0, toExclusive - from) }, (_, i) => from + i);

function required(p: Params, key: string, sub: string): string {
  const v = p[`${key}[${sub}]`];
  if (typeof v !== 'string' || v === '') throw new MissingParam(key);
  return v;
}

/** A count per day from sorted event times: the SQL measures. */
function sqlMeasure(key: string, times: Float64Array, a: number, b: number, now: number): Measure {
  const total = (from: number, to: number) => countIn(times, dayStart(from), Math.min(dayStart(to), now + 1));
  const len = b - a + 1;
  return {
    key,
    unit: null,
    total: String(total(a, b + 1)),
    previous_total: String(total(a - len, a)),
    data: range(a, b + 1).map((d) => ({ date: sqlDate(d), value: String(onDay(times, d, now)) }))
  };
}

/** Redis ActivityTracker measures: the end day is excluded and expired days read 0. */
function redisMeasure(
  key: string,
  a: number,
  b: number,
  now: number,
  perDay: (d: number) => number,
  total: (from: number, to: number) => number
): Measure {
  const firstLive = dayOf(now - REDIS_EXPIRY);
  const live = (from: number, to: number) =>
    Math.max(from, firstLive) < to ? total(Math.max(from, firstLive), to) : 0;
  const len = b - a;
  return {
    key,
    unit: null,
    total: String(live(a, b)),
    previous_total: String(live(a - len, a)),
    data: range(a, b).map((d) => ({ date: redisDate(d), value: String(d >= firstLive ? perDay(d) : 0) }))
  };
}

const sumDays = (f: (d: number) => number, from: number, to: number) =>
  range(from, to).reduce((s, d) => s + f(d), 0);

/** Per-tag usage: a stable share of local statuses, visible only while the tag's history lives. */
function tagMeasure(c: Ctx, key: string, p: Params, a: number, b: number): Measure {
  const id = Number(required(p, key, 'id'));
  if (!Number.isInteger(id) || id < 1 || id > TAG_IDS) throw new NotFound();
  const { h, seed } = c.w;
  const now = c.v.now;
  const share = (1 + stable(seed, `tag:${id}`, 40)) / 2000;
  const uses = (d: number) =>
    dayStart(d + 1) + TAG_EXPIRY < now ? 0 : Math.floor(seen(h.statuses, d, now) * share);
  const perDay =
    key === 'tag_uses'
      ? uses
      : key === 'tag_accounts'
        ? (d: number) => Math.ceil(uses(d) * 0.6)
        : (d: number) => Math.floor(uses(d) * 1.3);
  const len = b - a + 1;
  const date = key === 'tag_servers' ? sqlDate : redisDate;
  return {
    key,
    unit: null,
    total: String(sumDays(perDay, a, b + 1)),
    previous_total: String(sumDays(perDay, a - len, a)),
    data: range(a, b + 1).map((d) => ({ date: date(d), value: String(perDay(d)) }))
  };
}

const reportsByDomain = new WeakMap<World, Map<string, Float64Array>>();

function remoteReportTimes(w: World, domain: string): Float64Array {
  let m = reportsByDomain.get(w);
  if (!m) {
    const acc = new Map<string, number[]>();
    for (const r of w.mod.reports) {
      if (!('remote' in r.target)) continue;
      const list = acc.get(r.target.remote.domain) ?? [];
      list.push(r.createdMs);
      acc.set(r.target.remote.domain, list);
    }
    m = new Map([...acc].map(([d, t]) => [d, Float64Array.from(t)]));
    reportsByDomain.set(w, m);
  }
  return m.get(domain) ?? new Float64Array(0);
}

/** instance_*: all-time totals as of now, daily increments in range, no previous_total. */
function instanceMeasure(c: Ctx, key: string, p: Params, a: number, b: number): Measure {
  const domain = required(p, key, 'domain').toLowerCase();
  const now = c.v.now;
  const data = (perDay: (d: number) => string) =>
    range(a, b + 1).map((d) => ({ date: sqlDate(d), value: perDay(d) }));
  if (key === 'instance_reports') {
    const times = remoteReportTimes(c.w, domain);
    return {
      key,
      unit: null,
      total: String(countIn(times, -Infinity, now + 1)),
      data: data((d) => String(onDay(times, d, now)))
    };
  }
  const base = c.w.ix.base(domain);
  const field = (
    {
      instance_accounts: 'accounts',
      instance_statuses: 'statuses',
      instance_follows: 'follows',
      instance_followers: 'followers',
      instance_media_attachments: 'mediaBytes'
    } as const
  )[key as 'instance_accounts'];
  const amount = base ? base[field] : 0;
  const cum = (day: number) => peerCumulative(c.w.curve, amount, day, now);
  const total = cum(dayOf(now) + 1);
  if (key === 'instance_media_attachments') {
    // SUM() over no rows is NULL, which Mastodon prints as "".
    return {
      key,
      unit: 'bytes',
      total: String(total),
      human_value: humanSize(total),
      data: data((d) => (cum(d + 1) - cum(d) > 0 ? String(cum(d + 1) - cum(d)) : ''))
    };
  }
  return { key, unit: null, total: String(total), data: data((d) => String(cum(d + 1) - cum(d))) };
}

function measureFor(c: Ctx, key: string, p: Params, a: number, b: number): Measure | null {
  const { w } = c;
  const now = c.v.now;
  switch (key) {
    case 'active_users':
      return redisMeasure(
        key,
        a,
        b,
        now,
        (d) => activeOnDay(w.h, d, now),
        (from, to) => uniqueLogins(w.h, from, to, now)
      );
    case 'interactions': {
      const perDay = (d: number) => seen(w.h.interactions, d, now);
      return redisMeasure(key, a, b, now, perDay, (from, to) => sumDays(perDay, from, to));
    }
    case 'new_users':
      return sqlMeasure(key, w.signupTimes, a, b, now);
    case 'opened_reports':
      return sqlMeasure(key, w.openedTimes, a, b, now);
    case 'resolved_reports':
      return sqlMeasure(key, w.resolvedTimes, a, b, now);
    case 'tag_accounts':
    case 'tag_uses':
    case 'tag_servers':
      return tagMeasure(c, key, p, a, b);
    case 'instance_accounts':
    case 'instance_media_attachments':
    case 'instance_reports':
    case 'instance_statuses':
    case 'instance_follows':
    case 'instance_followers':
      return instanceMeasure(c, key, p, a, b);
    default:
      return null; // unknown keys are dropped silently
  }
}

function dateRange(c: Ctx, p: Params): [number, number] | null {
  for (const k of ['start_at', 'end_at']) {
    if (parseDay(p[k]) === null) {
      send(c, 400, { error: `param is missing or the value is empty: ${k}` });
      return null;
    }
  }
  return [parseDay(p.start_at)!, parseDay(p.end_at)!];
}

const keysOf = (p: Params): string[] =>
  Array.isArray(p.keys) ? p.keys : typeof p.keys === 'string' ? [p.keys] : [];

export function measures(c: Ctx): void {
  const p = parseParams(c.req);
  const r = dateRange(c, p);
  if (!r) return;
  try {
    const out = keysOf(p)
      .map((k) => measureFor(c, k, p, r[0], r[1]))
      .filter((m) => m !== null);
    send(c, 200, out);
  } catch (e) {
    if (e instanceof MissingParam)
      return send(c, 400, { error: `param is missing or the value is empty: ${e.message}` });
    if (e instanceof NotFound) return send(c, 404, { error: 'Record not found' });
    throw e;
  }
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'German',
  nl: 'Dutch',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  sv: 'Swedish',
  und: 'und'
};

type DimRow = { key: string; human_key: string; value: string; unit?: string; human_value?: string };

function top(rows: [string, string, number][], limit: number): DimRow[] {
  return rows
    .filter(([, , n]) => n > 0)
    .sort((x, y) => y[2] - x[2] || x[0].localeCompare(y[0]))
    .slice(0, limit)
    .map(([key, human_key, n]) => ({ key, human_key, value: String(n) }));
}

/** Storage as of now: the database grows with local posts and federated content, media with uploads and the remote cache. */
export function spaceUsage(
  w: World,
  now: number
): { postgresql: number; redis: number; media: number; search: number } {
  const day = Math.max(0, Math.min(dayOf(now), w.h.horizon - 1));
  const local = localStatusesAt(w.h, now);
  const federated = day * 9e6 + w.activeBefore[day] * 26_000;
  const postgresql = Math.round(4.2e8 + local * 2400 + federated);
  const members = countIn(w.signupTimes, -Infinity, now + 1);
  // Remote media is cached, then pruned weekly (Sunday night): the cache saws up and down.
  const sinceSunday = new Date(now).getUTCDay();
  let cache = 0;
  for (let d = day - 7 - sinceSunday; d <= day; d++) if (d >= 0) cache += 6e8 + w.h.dailyActive[d] * 2.5e6;
  const media = Math.round(local * 0.22 * 1.1e6 + members * 1.8e6 + cache);
  const redis = Math.round(3.4e7 + w.h.dailyActive[day] * 1.4e5 + stable(w.seed, `redis:${day}`, 9e6));
  // Elasticsearch indexes local statuses and the public federated ones (primary shards only, as Mastodon sums them).
  const search = Math.round(1.6e8 + local * 1500 + day * 3.1e6);
  return { postgresql, redis, media, search };
}

function dimensionFor(
  c: Ctx,
  key: string,
  p: Params,
  a: number,
  b: number,
  limit: number
): { key: string; data: DimRow[] } | null {
  const { w } = c;
  const now = c.v.now;
  const inRange = (series: ArrayLike<number>) => sumDays((d) => seen(series, d, now), a, b + 1);
  const peerStatuses = (domain: string) => {
    const n = w.ix.base(domain)?.statuses ?? 0;
    return peerCumulative(w.curve, n, b + 1, now) - peerCumulative(w.curve, n, a, now);
  };
  const tagShare = (id: string) => (1 + stable(w.seed, `tag:${id}`, 40)) / 2000;
  switch (key) {
    case 'instance_languages': {
      // A peer posts mostly in one language, with a tail in the others.
      const domain = required(p, key, 'domain').toLowerCase();
      const total = peerStatuses(domain);
      const main = stable(w.seed, `lang:${domain}`, 4);
      const rows = [...w.h.statusesByLang.keys()].map((l, i): [string, string, number] => [
        l,
        LANGUAGE_NAMES[l] ?? l,
        Math.floor(total * (i === main ? 0.7 : 0.3 / 8))
      ]);
      return { key, data: top(rows, limit) };
    }
    case 'instance_accounts': {
      // The most-followed accounts of that peer: follows are Zipf-distributed over its accounts.
      const domain = required(p, key, 'domain').toLowerCase();
      const follows = peerCumulative(w.curve, w.ix.base(domain)?.follows ?? 0, dayOf(now) + 1, now);
      const harmonic = Array.from({ length: 20 }, (_, i) => 1 / (i + 1)).reduce((x, y) => x + y);
      const rows = Array.from({ length: 20 }, (_, i): [string, string, number] => {
        const name = `${['alex', 'kim', 'sam', 'news', 'jo', 'robin', 'noor', 'lee'][stable(w.seed, `${domain}:${i}`, 8)]}${i}`;
        return [name, name, Math.floor(follows / (i + 1) / harmonic)];
      });
      return { key, data: top(rows, limit) };
    }
    case 'tag_servers': {
      const share = tagShare(required(p, key, 'id'));
      const rows = w.ix.list.map((x): [string, string, number] => [
        x.domain,
        x.domain,
        Math.floor(peerStatuses(x.domain) * share)
      ]);
      return { key, data: top(rows, limit) };
    }
    case 'tag_languages': {
      const share = tagShare(required(p, key, 'id'));
      const rows = [...w.h.statusesByLang].map(([l, s]): [string, string, number] => [
        l,
        LANGUAGE_NAMES[l] ?? l,
        Math.floor(inRange(s) * share)
      ]);
      return { key, data: top(rows, limit) };
    }
    case 'languages':
      return {
        key,
        data: top(
          [...w.h.statusesByLang].map(([l, s]) => [l, LANGUAGE_NAMES[l] ?? l, inRange(s)]),
          limit
        )
      };
    case 'sources':
      return {
        key,
        data: top(
          [...w.h.statusesBySource].map(([s, arr]) => [s, s === 'web' ? 'Website' : s, inRange(arr)]),
          limit
        )
      };
    case 'servers':
      // servers_dimension.rb groups statuses by accounts.domain and names local ones (NULL) by our own domain
      return {
        key,
        data: top(
          [
            [c.v.domain, c.v.domain, inRange(w.h.statuses)] as [string, string, number],
            ...w.ix.list.map((x): [string, string, number] => [x.domain, x.domain, peerStatuses(x.domain)])
          ],
          limit
        )
      };
    case 'space_usage': {
      const s = spaceUsage(w, now);
      const row = (k: string, human: string, n: number) => ({
        key: k,
        human_key: human,
        value: String(n),
        unit: 'bytes',
        human_value: humanSize(n)
      });
      return {
        key,
        data: [
          row('postgresql', 'PostgreSQL', s.postgresql),
          row('redis', 'Redis', s.redis),
          row('media', 'Media storage', s.media),
          // space_usage_dimension.rb adds the search index from 4.3.0 (the co-op runs Elasticsearch).
          ...(atLeast(c.v.version, '4.3') ? [row('search', 'Elasticsearch', s.search)] : [])
        ]
      };
    }
    case 'software_versions': {
      const st = stackAt(now, c.s.version);
      const row = (k: string, human: string, v: string) => ({
        key: k,
        human_key: human,
        value: v,
        human_value: v
      });
      return {
        key,
        data: [
          row('mastodon', 'Mastodon', st.mastodon),
          row('ruby', 'Ruby', st.ruby),
          row('postgresql', 'PostgreSQL', st.postgresql),
          row('redis', 'Redis', st.redis),
          row('libvips', 'libvips', '8.15.1'),
          row('ffmpeg', 'FFmpeg', '6.1.1')
        ]
      };
    }
    default:
      return null;
  }
}

export function dimensions(c: Ctx): void {
  const p = parseParams(c.req);
  const r = dateRange(c, p);
  if (!r) return;
  const limit = typeof p.limit === 'string' ? Math.abs(parseInt(p.limit, 10) || 0) : 10;
  try {
    send(
      c,
      200,
      keysOf(p)
        .map((k) => dimensionFor(c, k, p, r[0], r[1], limit))
        .filter((d) => d !== null)
    );
  } catch (e) {
    if (e instanceof MissingParam)
      return send(c, 400, { error: `param is missing or the value is empty: ${e.message}` });
    throw e;
  }
}

const truncMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** Rails' `date - n.months` on a day index: the same day of month, clamped to the month's last day. */
function monthsBefore(day: number, n: number): number {
  const d = new Date(dayStart(day));
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n + 1, 0)).getUTCDate();
  return dayOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, Math.min(d.getUTCDate(), last)));
}

/** Cohorts of sign-ups; a member counts as retained in a period when their *last* sign-in is at or after it. */
export function retention(c: Ctx): void {
  const p = parseParams(c.req);
  let from = parseDay(p.start_at);
  const to = parseDay(p.end_at);
  if (from === null || to === null) return send(c, 200, []);
  const monthly = p.frequency === 'month';
  // Patched releases answer at most the 12 months (31 days) before end_at, whatever start_at says.
  if (retentionCapped(c.v.version)) from = Math.max(from, monthly ? monthsBefore(to, 12) : to - 31);
  const now = c.v.now;
  const trunc = (ms: number) => (monthly ? truncMonth(ms) : ms - (ms % DAY));
  const step = (ms: number) => (monthly ? nextMonth(ms) : ms + DAY);
  const end = trunc(dayStart(to));
  const members = c.w.h.members;
  const out = [];
  for (let period = trunc(dayStart(from)); period <= end && out.length < 1000; period = step(period)) {
    const lo = countIn(c.w.signupTimes, -Infinity, period);
    const hi = countIn(c.w.signupTimes, -Infinity, Math.min(step(period), now + 1));
    const lastSeen: number[] = [];
    for (let i = lo; i < hi; i++) lastSeen.push(currentSignInAt(members[i], now) ?? -Infinity);
    const size = hi - lo;
    const data = [];
    for (let at = period; at <= end; at = step(at)) {
      const value = lastSeen.filter((t) => trunc(t) >= at).length;
      data.push({ date: cohortDate(at), rate: size === 0 ? 0 : value / size, value: String(value) });
    }
    out.push({ period: cohortDate(period), frequency: monthly ? 'month' : 'day', data });
  }
  send(c, 200, out);
}
