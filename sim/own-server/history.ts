/**
 * The co-op's members: one record per sign-up, generated day by day from the seed, so that every number
 * the server reports (counts, daily measures, activity, retention) is derived from the same people.
 * Each day's sign-ups and each member's logins come from their own random stream, so a longer horizon
 * never changes what an earlier day looks like.
 */
import { hash, rngFor, weighted, type Rng } from '../random.ts';
import { DAY, FOUNDED, dayOf, dayStart, isWeekend } from './dates.ts';

export type Kind = 'core' | 'regular' | 'casual' | 'tourist' | 'spam';

export interface Member {
  idx: number;
  id: string;
  username: string;
  createdMs: number;
  signupDay: number;
  kind: Kind;
  confirmed: boolean;
  locale: string;
  /** Language and client of most of the member's posts. */
  lang: string;
  source: string;
  /** Days with at least one login, ascending. */
  loginDays: Int32Array;
  /** postsBefore[i] = posts written on loginDays[0..i-1]; length loginDays.length + 1. */
  postsBefore: Int32Array;
  ip: string;
  role: 'Owner' | 'Admin' | 'Moderator' | null;
  /** Set by moderation: when staff suspended or silenced the account (Infinity = never). */
  suspendedMs: number;
  silencedMs: number;
  disabled: boolean;
}

/** Posting languages of a mostly English-speaking co-op with European members. */
export const LANGUAGES: readonly (readonly [string, number])[] = [
  ['en', 58],
  ['de', 14],
  ['nl', 7],
  ['fr', 7],
  ['es', 5],
  ['it', 3],
  ['pt', 2],
  ['sv', 2],
  ['und', 2]
];

/** Clients posting; `web` is Mastodon's own web UI. */
export const SOURCES: readonly (readonly [string, number])[] = [
  ['web', 34],
  ['Mastodon for iOS', 14],
  ['Mastodon for Android', 13],
  ['Ivory for iOS', 9],
  ['Tusky', 8],
  ['Phanpy', 5],
  ['Elk', 4],
  ['Ice Cubes', 4],
  ['Moshidon', 3],
  ['Fedilab', 3],
  ['Tuba', 2],
  ['toot', 1]
];

const FIRST = [
  'alex',
  'sam',
  'robin',
  'kim',
  'jo',
  'noor',
  'maria',
  'jan',
  'lea',
  'tom',
  'ines',
  'yusuf',
  'anna',
  'felix',
  'mila',
  'omar',
  'emma',
  'luca',
  'zoe',
  'ravi',
  'sara',
  'finn',
  'ida',
  'mateo',
  'lina',
  'ben',
  'aiko',
  'nina',
  'karl',
  'elif',
  'hugo',
  'vera',
  'theo',
  'maya',
  'jonas',
  'lotte',
  'pablo',
  'rosa'
];
const LAST = [
  'garden',
  'bikes',
  'reads',
  'codes',
  'makes',
  'field',
  'notes',
  'river',
  'moss',
  'birch',
  'owl',
  'fern',
  'stone',
  'coop',
  'craft',
  'weaver',
  'baker',
  'sails',
  'tides',
  'hills',
  'loom',
  'kettle'
];

/** Launch of the co-op, an exodus wave after a big platform's policy change, a smaller press wave. */
const WAVES = [
  { day: 0, peak: 26, tau: 9 },
  { day: dayOf(Date.UTC(2024, 10, 6)), peak: 58, tau: 7 },
  { day: dayOf(Date.UTC(2026, 2, 12)), peak: 22, tau: 5 }
];

export function signupRate(day: number): number {
  let rate = 1.55 + 0.0009 * day;
  for (const w of WAVES) if (day >= w.day) rate += w.peak * Math.exp(-(day - w.day) / w.tau);
  return rate * (isWeekend(day) ? 0.75 : 1.05);
}

/** Summer and end-of-year holidays thin out logins. */
function season(day: number): number {
  const m = new Date(dayStart(day)).getUTCMonth();
  return m === 6 || m === 7 ? 0.86 : m === 11 ? 0.92 : 1;
}

export function poisson(r: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(r)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const PROFILE: Record<Kind, { login: number; posts: number; life: (r: Rng) => number }> = {
  core: { login: 0.78, posts: 2.6, life: (r) => 1500 * Math.exp(0.6 * gauss(r)) },
  regular: { login: 0.3, posts: 1.1, life: (r) => 420 * Math.exp(0.8 * gauss(r)) },
  casual: { login: 0.07, posts: 0.5, life: (r) => 100 * Math.exp(0.9 * gauss(r)) },
  tourist: { login: 0.45, posts: 0.9, life: (r) => 1 + Math.floor(r() * 12) },
  spam: { login: 0, posts: 0, life: () => 0 }
};

function kindFor(r: Rng, day: number): Kind {
  const wave = WAVES.some((w) => w.day > 0 && day >= w.day && day < w.day + 21);
  if (day < 30)
    return weighted(r, [
      ['core', 35],
      ['regular', 35],
      ['casual', 20],
      ['tourist', 10]
    ] as const);
  if (wave)
    return weighted(r, [
      ['core', 7],
      ['regular', 16],
      ['casual', 29],
      ['tourist', 45],
      ['spam', 3]
    ] as const);
  return weighted(r, [
    ['core', 13],
    ['regular', 25],
    ['casual', 31],
    ['tourist', 28],
    ['spam', 3]
  ] as const);
}

/** Sign-ups cluster in the daytime (UTC, for a mostly European membership). */
const HOURS = Array.from({ length: 24 }, (_, h) => [h, h < 6 ? 1 : h < 9 ? 4 : h < 23 ? 7 : 3] as const);
function timeOfDay(r: Rng): number {
  const hour = weighted(r, HOURS);
  return (hour * 3600 + Math.floor(r() * 3600)) * 1000 + Math.floor(r() * 1000);
}

export interface History {
  seed: number;
  /** Days generated: [0, horizon). */
  horizon: number;
  members: Member[];
  /** Per-day aggregates over the whole horizon (what Mastodon's SQL and Redis would hold). */
  signups: Int32Array;
  dailyActive: Int32Array;
  statuses: Int32Array;
  interactions: Int32Array;
  statusesByLang: Map<string, Int32Array>;
  statusesBySource: Map<string, Int32Array>;
  /** statusesBefore[d] = local statuses on days < d. */
  statusesBefore: Float64Array;
}

export function buildHistory(seed: number, horizon: number): History {
  const pending: Omit<Member, 'idx' | 'id'>[] = [];
  const taken = new Set<string>();
  for (let d = 0; d < horizon; d++) {
    const r = rngFor(seed, `signups:${d}`);
    const n = poisson(r, signupRate(d));
    const today: Omit<Member, 'idx' | 'id'>[] = [];
    for (let j = 0; j < n; j++) today.push(makeMember(seed, d, j, horizon, taken));
    today.sort((a, b) => a.createdMs - b.createdMs);
    pending.push(...today);
  }
  const members: Member[] = pending.map((m, idx) => ({
    ...m,
    idx,
    // Mastodon ids are snowflakes: milliseconds shifted left 16 bits plus a sequence.
    id: ((BigInt(m.createdMs) << 16n) + BigInt(idx % 65536)).toString(),
    role: idx === 0 ? 'Owner' : idx < 3 ? 'Admin' : idx < 7 ? 'Moderator' : null
  }));

  const signups = new Int32Array(horizon);
  const dailyActive = new Int32Array(horizon);
  const statuses = new Int32Array(horizon);
  const statusesByLang = new Map(LANGUAGES.map(([l]) => [l, new Int32Array(horizon)]));
  const statusesBySource = new Map(SOURCES.map(([s]) => [s, new Int32Array(horizon)]));
  for (const m of members) {
    signups[m.signupDay]++;
    const byLang = statusesByLang.get(m.lang)!;
    const bySource = statusesBySource.get(m.source)!;
    for (let i = 0; i < m.loginDays.length; i++) {
      const d = m.loginDays[i];
      const posts = m.postsBefore[i + 1] - m.postsBefore[i];
      dailyActive[d]++;
      statuses[d] += posts;
      byLang[d] += posts;
      bySource[d] += posts;
    }
  }
  const interactions = new Int32Array(horizon);
  const statusesBefore = new Float64Array(horizon + 1);
  for (let d = 0; d < horizon; d++) {
    const r = rngFor(seed, `interactions:${d}`);
    // Mastodon's `interactions` measure: favourites, boosts, replies, follows and poll votes *made by* our
    // members on any post (favourite_service.rb, reblog_service.rb, ...), not what our posts receive. Members
    // who post more also act more, and more as the people they follow grow in number.
    const perPost = 2.2 + Math.min(d, 900) / 600 + 0.18 * gauss(r);
    interactions[d] = Math.max(0, Math.round(statuses[d] * perPost));
    statusesBefore[d + 1] = statusesBefore[d] + statuses[d];
  }
  return {
    seed,
    horizon,
    members,
    signups,
    dailyActive,
    statuses,
    interactions,
    statusesByLang,
    statusesBySource,
    statusesBefore
  };
}

function makeMember(
  seed: number,
  day: number,
  j: number,
  horizon: number,
  taken: Set<string>
): Omit<Member, 'idx' | 'id' | 'role'> & { role: null } {
  const r = rngFor(seed, `member:${day}:${j}`);
  const kind = kindFor(r, day);
  const createdMs = dayStart(day) + timeOfDay(r);
  let username =
    kind === 'spam'
      ? `${['deals', 'crypto', 'promo', 'cheap', 'win'][Math.floor(r() * 5)]}${Math.floor(r() * 90000 + 10000)}`
      : `${FIRST[Math.floor(r() * FIRST.length)]}${r() < 0.6 ? '_' + LAST[Math.floor(r() * LAST.length)] : ''}`;
  while (taken.has(username)) username += String(Math.floor(r() * 10));
  taken.add(username);
  const confirmed = kind === 'spam' || r() < 0.94;
  const lang = weighted(r, LANGUAGES);
  const source = weighted(r, SOURCES);
  const locale = lang === 'und' ? 'en' : lang;
  const ip = `${[81, 84, 92, 145, 178, 212][Math.floor(r() * 6)]}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;

  const days: number[] = [];
  const posts: number[] = [];
  if (confirmed && kind === 'spam') {
    days.push(day);
    posts.push(5 + Math.floor(r() * 16));
  } else if (confirmed) {
    const p = PROFILE[kind];
    const last = Math.min(horizon - 1, day + Math.round(p.life(r)));
    const lr = rngFor(seed, `logins:${day}:${j}`);
    for (let d = day; d <= last; d++) {
      const chance = d === day ? 1 : p.login * season(d) * (isWeekend(d) ? 0.85 : 1);
      if (lr() < chance) {
        days.push(d);
        posts.push(poisson(lr, p.posts * (d === day ? 1.5 : 1)));
      }
    }
  }
  const postsBefore = new Int32Array(posts.length + 1);
  for (let i = 0; i < posts.length; i++) postsBefore[i + 1] = postsBefore[i] + posts[i];
  return {
    username,
    createdMs,
    signupDay: day,
    kind,
    confirmed,
    locale,
    lang,
    source,
    loginDays: Int32Array.from(days),
    postsBefore,
    ip,
    role: null,
    suspendedMs: Infinity,
    silencedMs: Infinity,
    disabled: kind !== 'spam' && hash(username, seed) % 400 === 0
  };
}

/** When the member signed in on `day` (the sign-up day: right after creating the account). */
export function loginAt(m: Member, day: number): number {
  if (day === m.signupDay) return m.createdMs + 60_000;
  return dayStart(day) + (hash(`${m.idx}:${day}`) % DAY);
}

/** Index of the last login day <= day, or -1. */
function lastIndexAtOrBefore(days: Int32Array, day: number): number {
  let lo = 0;
  let hi = days.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (days[mid] <= day) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Index of the last login that happened at or before `ms`, or -1. */
function lastLoginIndex(m: Member, ms: number): number {
  const day = dayOf(ms);
  let i = lastIndexAtOrBefore(m.loginDays, day);
  if (i >= 0 && m.loginDays[i] === day && loginAt(m, day) > ms) i--;
  return i;
}

/** Mastodon's `current_sign_in_at` as of `ms` (null: never signed in). */
export function currentSignInAt(m: Member, ms: number): number | null {
  const i = lastLoginIndex(m, ms);
  return i < 0 ? null : loginAt(m, m.loginDays[i]);
}

export function statusesCount(m: Member, ms: number): number {
  return m.postsBefore[lastLoginIndex(m, ms) + 1];
}

/** Unique members who signed in on days [from, to), counting only logins up to `nowMs`. */
export function uniqueLogins(h: History, from: number, to: number, nowMs: number): number {
  const nowDay = dayOf(nowMs);
  let n = 0;
  for (const m of h.members) {
    if (m.signupDay >= to) break;
    const i = lastIndexAtOrBefore(m.loginDays, to - 1);
    if (i < 0) continue;
    const d = m.loginDays[i];
    if (d < from) continue;
    if (d < nowDay || loginAt(m, d) <= nowMs) n++;
    else if (i > 0 && m.loginDays[i - 1] >= from) n++;
  }
  return n;
}

/** Logins on one day as Redis counted them by `nowMs`. */
export function activeOnDay(h: History, day: number, nowMs: number): number {
  const nowDay = dayOf(nowMs);
  if (day < 0 || day > nowDay || day >= h.horizon) return 0;
  return day < nowDay ? h.dailyActive[day] : uniqueLogins(h, day, day + 1, nowMs);
}

/** Share of the current day already elapsed: per-day sums for today grow through the day. */
export const elapsed = (nowMs: number): number => ((nowMs - FOUNDED) % DAY) / DAY;

/** A daily series as seen at `nowMs`: complete days as stored, today pro rata, the future empty. */
export function seen(series: ArrayLike<number>, day: number, nowMs: number): number {
  const nowDay = dayOf(nowMs);
  if (day < 0 || day > nowDay || day >= series.length) return 0;
  return day < nowDay ? series[day] : Math.floor(series[day] * elapsed(nowMs));
}

export function localStatusesAt(h: History, nowMs: number): number {
  const day = Math.min(dayOf(nowMs), h.horizon - 1);
  if (day < 0) return 0;
  return h.statusesBefore[day] + seen(h.statuses, day, nowMs);
}

/** Members as `user_count` counts them: confirmed, created by then, not suspended. */
export function userCount(h: History, nowMs: number): number {
  let n = 0;
  for (const m of h.members) {
    if (m.createdMs > nowMs) break;
    if (m.confirmed && m.suspendedMs > nowMs) n++;
  }
  return n;
}
