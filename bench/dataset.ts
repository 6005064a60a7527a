/**
 * A realistic fedipulse database for developing, testing and benchmarking the dashboard: years of collections
 * of a simulated co-op server and N daily crawls of M peers, published as a snapshot.
 *
 * Written the way the collector writes it, and only that way: a model of the server (every member with their
 * sign-in days, every report with its times, every block) answers what Mastodon's APIs would answer at each
 * nightly collection, in Mastodon's wire format; the collector's own parsers read those answers and the
 * store's writers (collectors/store/) write the result, run by run. So the data holds only states the collector
 * can produce, and the one write path is tested by every page test (tests/unit/write-path.test.ts keeps SQL
 * that writes inside collectors/store/).
 *
 *   npx node bench/dataset.ts --out /tmp/fp.duckdb [--small] [--crawls 365 --peers 30000 --days 1095]
 */
import { rmSync } from 'node:fs';
import { measureValues, peerMeasureRows, startedKey, STORAGE } from '../collectors/instance/admin.ts';
import {
  parseActivity,
  parseAdminDomainBlocks,
  parseCohorts,
  parseDimensions,
  parseInstance,
  parseMeasures,
  parsePublicDomainBlocks,
  parseReports,
  parseRules,
  sha256
} from '../collectors/instance/parse.ts';
import { nextState } from '../collectors/peers/crawl.ts';
import { parseNodeinfo } from '../collectors/peers/nodeinfo.ts';
import { storedNodeinfoText } from '../collectors/peers/redact.ts';
import { closeWriter, openWriter, type Db } from '../collectors/store/database.ts';
import { upsertDailyValues, type DailyValue } from '../collectors/store/metrics.ts';
import {
  recordRetention,
  recordServerVersion,
  replaceDimensionDay,
  syncAdminDomainBlocks,
  syncKnownPeers,
  syncPublicDomainBlocks,
  syncRules,
  upsertActivityWeeks,
  upsertPeerMeasures,
  upsertReports,
  writeInstanceInfo
} from '../collectors/store/own-server.ts';
import {
  rawHash,
  rollupFederationDay,
  writeObservations,
  type Outcome,
  type PeerObservation
} from '../collectors/store/peers.ts';
import {
  finishRun,
  overallStatus,
  recordSources,
  setSetting,
  startRun,
  type SourceResult
} from '../collectors/store/runs.ts';
import { publishSnapshot, snapshotDir } from '../collectors/store/snapshots.ts';
import { peerNames } from '../sim/peers/names.ts';
import { logNormal, normal, pick, rng, weighted, type Rng } from '../sim/random.ts';

export interface DatasetOptions {
  file: string;
  /** Days of own-server history; the server's first sign-up is on the first day. */
  days: number;
  /** Daily peer crawls, the most recent `crawls` days. */
  crawls: number;
  peers: number;
  seed: number;
  /** Last day of data, YYYY-MM-DD; default yesterday (UTC), so freshness looks like a live install. */
  end?: string;
  /** Mark the data as simulated (settings.simulated = 'true'). */
  simulated?: boolean;
  /** Leave out admin-scope data (reports, measures, dimensions, retention), as without a token. */
  noAdmin?: boolean;
}

export const SMALL: Omit<DatasetOptions, 'file'> = { days: 400, crawls: 30, peers: 500, seed: 7 };
export const BENCH: Omit<DatasetOptions, 'file'> = { days: 1095, crawls: 365, peers: 30_000, seed: 7 };
export const INSTANCE = 'coop.social.example';

const DAY_MS = 86_400_000;
const HOUR = 3_600_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();
/** Mastodon's timestamps in measures and retention: midnight with an offset. */
const wireDay = (ms: number) => `${isoDay(ms)}T00:00:00.000+00:00`;
/** Collections run nightly at 23:00 UTC; everything the model does on a day happens before that. */
const RUN_HOUR = 23;
/** Observations per writeObservations call, as the crawler batches them. */
const CRAWL_BATCH = 5000;

function yesterday(): string {
  return isoDay(Date.now() - DAY_MS);
}

// ---------------------------------------------------------------------------------------------------------------
// The server's members: who signed up when, and on which days each signed in.

interface Members {
  /** Per member: day index of sign-up; whether they ever confirmed (an unconfirmed one never signs in). */
  created: Int32Array;
  confirmed: Uint8Array;
  /** signedIn[d * n + u]: member u signed in on day d. */
  signedIn: Uint8Array;
  n: number;
  newUsers: number[];
  closedFrom: number;
  closedTo: number;
}

/**
 * Sign-ups: a founding wave, steady growth, a migration wave and a month with registrations closed. Each member
 * signs in on sign-up day (if they confirm) and then on some days until they drift away.
 */
function memberModel(r: Rng, days: number): Members {
  const newUsers: number[] = [];
  const wave = Math.floor(days * 0.35);
  const closedFrom = Math.floor(days * 0.7);
  const closedTo = closedFrom + 30;
  for (let d = 0; d < days; d++) {
    let rate = 1.2 + d * 0.002;
    if (d < 14) rate += 85 * Math.exp(-d / 5); // the founding members
    if (d >= wave && d < wave + 14) rate += 60 * Math.exp(-(d - wave) / 4);
    if (d >= closedFrom && d < closedTo) rate = 0.1;
    newUsers.push(Math.max(0, Math.round(rate + normal(r) * Math.sqrt(rate))));
  }
  const n = newUsers.reduce((a, b) => a + b, 0);
  const created = new Int32Array(n);
  const confirmed = new Uint8Array(n);
  const signedIn = new Uint8Array(n * days);
  let u = 0;
  for (let d = 0; d < days; d++) {
    for (let k = 0; k < newUsers[d]; k++, u++) {
      created[u] = d;
      confirmed[u] = r() < 0.94 ? 1 : 0;
      if (!confirmed[u]) continue;
      // A third leave within two weeks; the rest stay for months or years.
      const stay = r() < 0.33 ? Math.floor(r() * 14) : Math.floor(logNormal(r, 240, 1));
      const often = 0.15 + r() * 0.7;
      signedIn[d * n + u] = 1;
      for (let t = d + 1; t <= Math.min(days - 1, d + stay); t++) if (r() < often) signedIn[t * n + u] = 1;
    }
  }
  return { created, confirmed, signedIn, n, newUsers, closedFrom, closedTo };
}

// ---------------------------------------------------------------------------------------------------------------
// Reports, domain blocks, peers: each a list of facts with times, from which any day's API answer follows.

interface ReportFact {
  id: string;
  created: number;
  category: string;
  /** null: a local account; else its server. */
  targetDomain: string | null;
  /** null: filed by one of our members; else the server it came from. */
  reporterDomain: string | null;
  forwarded: boolean;
  assignee: string | null;
  assigned: number | null;
  resolved: number | null;
  ruleIds: string[];
}

interface BlockFact {
  domain: string;
  severity: 'silence' | 'suspend';
  rejectMedia: boolean;
  comment: string;
  at: number;
  removed: number | null;
}

interface PeerFact {
  i: number;
  domain: string;
  /** Day index from which our peers list names it, and from which it names it no longer. */
  listedFrom: number;
  listedUntil: number;
  /** Day index from which the server is down (1e9: never). */
  death: number;
  software: string;
  version: string;
  users: number;
  activeShare: number;
  openRegistrations: boolean;
  /** Serves an active-month count above its user count (the crawler marks it suspect). */
  inflated: boolean;
  limit: {
    from: number;
    until: number;
    severity: string;
    matchedBy: 'domain' | 'digest';
    comment: string | null;
  } | null;
}

const RULES = [
  'No racism, sexism, homophobia, transphobia, ableism or casteism.',
  'No harassment, dogpiling or doxxing.',
  'Content warnings for graphic or sensitive media.',
  'No advertising or spam.',
  'Bots must be marked as bots and post unlisted.',
  'Respect the co-op’s democratic decisions.'
];
const MODERATORS = ['101', '102', '103'];

const SOFTWARE: [string, number][] = [
  ['mastodon', 62],
  ['misskey', 9],
  ['pleroma', 6],
  ['akkoma', 4],
  ['gotosocial', 6],
  ['lemmy', 4],
  ['friendica', 3],
  ['pixelfed', 3],
  ['peertube', 3]
];
const VERSIONS: Record<string, string[]> = {
  mastodon: ['4.3.2', '4.2.12', '4.1.9', '3.5.19'],
  misskey: ['2024.11.0', '2023.12.2'],
  pleroma: ['2.7.0', '2.6.3'],
  akkoma: ['3.13.2'],
  gotosocial: ['0.17.3', '0.16.0'],
  lemmy: ['0.19.5'],
  friendica: ['2024.08'],
  pixelfed: ['0.12.3'],
  peertube: ['6.3.2']
};

function peerModel(o: DatasetOptions, names: string[], crawlFrom: number): PeerFact[] {
  const peers: PeerFact[] = [];
  for (let i = 0; i < o.peers; i++) {
    const pr = rng(o.seed * 7919 + i);
    const big = i < 5;
    const software = big ? 'mastodon' : weighted(pr, SOFTWARE);
    const users = big
      ? [2_400_000, 55_000, 60_000, 70_000, 150_000][i]
      : Math.min(Math.max(1, Math.round(logNormal(pr, 12, 2.3))), 3_000_000); // an admin at least
    // Named by our peers list before the crawl window (most) or during it.
    const listedFrom =
      pr() < 0.75 ? crawlFrom - 1 - Math.floor(pr() * 400) : crawlFrom + Math.floor(pr() * o.crawls);
    // A few servers shut down; Mastodon drops a domain from the peers list after a week of failed deliveries.
    const death = !big && pr() < 0.1 ? crawlFrom + Math.floor(pr() * o.crawls * 1.5) : 1e9;
    let limit: PeerFact['limit'] = null;
    const limitFrom = i === 3 ? o.crawls - 2 : pr() < 0.015 ? Math.floor(pr() * o.crawls) : -1;
    if (limitFrom >= 0) {
      const until = i !== 3 && pr() < 0.2 ? limitFrom + Math.floor(pr() * (o.crawls - limitFrom)) : o.crawls;
      limit = {
        from: crawlFrom + limitFrom,
        until: crawlFrom + until,
        severity: i === 3 ? 'silence' : pr() < 0.6 ? 'suspend' : pr() < 0.5 ? 'silence' : 'noop',
        matchedBy: pr() < 0.7 ? 'domain' : 'digest',
        comment: pick(pr, ['Moderation concerns', 'Too large to moderate', null])
      };
    }
    peers.push({
      i,
      domain: names[i],
      listedFrom,
      listedUntil: death < 1e9 ? death + 7 : 1e9,
      death,
      software,
      version: pick(pr, VERSIONS[software]),
      users,
      activeShare: 0.1 + pr() * 0.35,
      openRegistrations: pr() < 0.4,
      inflated: i % 997 === 5,
      limit
    });
  }
  return peers;
}

// ---------------------------------------------------------------------------------------------------------------
// What Mastodon answers on a day (wire format), from the model.

/**
 * app/lib/admin/metrics/retention.rb: for each sign-up cohort from `fromDay` to day t, the share of its members
 * whose last sign-in (`last`, as of day t: Mastodon keeps only users.current_sign_in_at) falls in period p or
 * later. A member who never signed in counts in the cohort's size, never as retained.
 */
function retentionWire(
  m: Members,
  last: Int32Array,
  t: number,
  dayMs: (d: number) => number,
  frequency: 'day' | 'month',
  fromDay: number
) {
  const monthOf = (d: number) => {
    const x = new Date(dayMs(d));
    return x.getUTCFullYear() * 12 + x.getUTCMonth();
  };
  const key = frequency === 'day' ? (d: number) => d : monthOf;
  const firstKey = key(fromDay);
  const lastKey = key(t);
  const span = lastKey - firstKey + 1;
  // totals[c]: sign-ups of cohort c; retained[c][p]: members of cohort c whose last sign-in is in period >= p.
  const totals = new Array<number>(span).fill(0);
  const lastIn = Array.from({ length: span }, () => new Array<number>(span).fill(0));
  for (let u = 0; u < m.n; u++) {
    if (m.created[u] > t || m.created[u] < fromDay) continue;
    const c = key(m.created[u]) - firstKey;
    totals[c]++;
    if (last[u] >= 0) lastIn[c][key(last[u]) - firstKey]++;
  }
  const keyStart = (k: number) => (frequency === 'day' ? dayMs(k) : Date.UTC(Math.floor(k / 12), k % 12, 1));
  const out = [];
  for (let c = 0; c < span; c++) {
    const data = [];
    let retained = 0;
    for (let p = span - 1; p >= c; p--) {
      retained += lastIn[c][p];
      data.unshift({
        date: wireDay(keyStart(firstKey + p)),
        rate: totals[c] > 0 ? retained / totals[c] : 0,
        value: String(retained)
      });
    }
    out.push({ period: wireDay(keyStart(firstKey + c)), frequency, data });
  }
  return out;
}

function reportWire(f: ReportFact, at: number) {
  const assigned = f.assigned !== null && f.assigned < at;
  const resolved = f.resolved !== null && f.resolved < at;
  const updated = Math.max(f.created, assigned ? f.assigned! : 0, resolved ? f.resolved! : 0);
  return {
    id: f.id,
    // Mastodon sets action_taken for every resolved report (Report#action_taken? is action_taken_at.present?)
    action_taken: resolved,
    action_taken_at: resolved ? iso(f.resolved!) : null,
    category: f.category,
    comment: '',
    forwarded: f.forwarded,
    created_at: iso(f.created),
    updated_at: iso(updated),
    account: { id: `r${f.id}`, username: 'reporter', domain: f.reporterDomain },
    target_account: { id: `t${f.id}`, username: 'reported', domain: f.targetDomain },
    assigned_account: assigned ? { id: f.assignee, username: `mod${f.assignee}`, domain: null } : null,
    action_taken_by_account: resolved ? { id: f.assignee ?? MODERATORS[0], domain: null } : null,
    statuses: [],
    rules: f.ruleIds.map((id) => ({ id, text: RULES[Number(id) - 1] }))
  };
}

function nodeinfoDoc(p: PeerFact, usersTotal: number): unknown {
  const active = Math.round(usersTotal * p.activeShare);
  return {
    version: '2.0',
    software: { name: p.software, version: p.version },
    protocols: ['activitypub'],
    services: { outbound: [], inbound: [] },
    usage: {
      users: {
        total: usersTotal,
        activeMonth: p.inflated ? usersTotal * 3 + 10 : active,
        activeHalfyear: Math.round(active * 1.6)
      },
      localPosts: usersTotal * 85
    },
    openRegistrations: p.openRegistrations,
    metadata: { nodeName: p.domain.split('.')[0] }
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function generateDataset(o: DatasetOptions): Promise<{ file: string; snapshot: string }> {
  rmSync(o.file, { force: true });
  rmSync(`${o.file}.wal`, { force: true });
  rmSync(snapshotDir(o.file), { recursive: true, force: true });
  const db = await openWriter(o.file, 'dataset');
  try {
    await writeHistory(db, o);
    const snapshot = await publishSnapshot(db, `dataset${o.seed}`);
    return { file: o.file, snapshot };
  } finally {
    closeWriter(db);
  }
}

async function writeHistory(db: Db, o: DatasetOptions): Promise<void> {
  const r = rng(o.seed);
  const endMs = Date.parse(`${o.end ?? yesterday()}T00:00:00Z`);
  const startMs = endMs - (o.days - 1) * DAY_MS;
  const dayMs = (d: number) => startMs + d * DAY_MS;
  const crawlFrom = o.days - o.crawls;
  const admin = !o.noAdmin;
  const I = INSTANCE;

  const mm = memberModel(r, o.days);
  const names = peerNames(o.seed, Math.max(o.peers, 60)).map((n) => n.domain);
  const big = [
    'mastodon.social.example',
    'hachyderm.town.test',
    'fosstodon.fedi.test',
    'infosec.club.example',
    'mstdn.masto.example'
  ];
  for (let i = 0; i < big.length; i++) names[i] = big[i];
  const peers = peerModel(o, names, crawlFrom);
  const listedOn = (p: PeerFact, d: number) => p.listedFrom <= d && d < p.listedUntil;

  // Reports: a few a day, more as membership grows; time to resolve is heavy-tailed.
  const reports: ReportFact[] = [];
  if (admin) {
    const categories: [string, number][] = [
      ['spam', 45],
      ['violation', 28],
      ['other', 22],
      ['legal', 5]
    ];
    let members = 0;
    let id = 1000;
    for (let d = 0; d < o.days; d++) {
      members += mm.newUsers[d];
      const n = Math.max(0, Math.round(2 + members / 900 + normal(r) * 1.5));
      for (let k = 0; k < n; k++) {
        const created = dayMs(d) + Math.floor(r() * RUN_HOUR * HOUR);
        const category = weighted(r, categories);
        const remoteReporter = r() < 0.25;
        const targetRemote = !remoteReporter && r() < 0.62;
        const domainAt = () => names[Math.floor(Math.pow(r(), 2.5) * Math.min(names.length, 400))];
        const hours = logNormal(r, category === 'spam' ? 4 : 14, 1.2);
        const resolved = r() < 0.004 ? null : created + hours * HOUR; // a few old ones linger
        const assignee = r() < 0.8 ? pick(r, MODERATORS) : null;
        reports.push({
          id: String(id++),
          created,
          category,
          targetDomain: targetRemote ? domainAt() : null,
          reporterDomain: remoteReporter ? domainAt() : null,
          // Only a member's report about a remote account can be forwarded to that account's server.
          forwarded: targetRemote && r() < 0.45,
          assignee,
          assigned: assignee === null ? null : created + hours * HOUR * (0.2 + r() * 0.5),
          resolved,
          ruleIds: category === 'violation' ? [String(1 + Math.floor(r() * 3))] : []
        });
      }
    }
  }

  // Own domain blocks; some lifted later.
  const blocks: BlockFact[] = [];
  if (admin) {
    const count = Math.min(60, Math.floor(names.length / 8));
    for (let b = 0; b < count; b++) {
      const at = dayMs(Math.floor(r() * (o.days - 1))) + 14 * HOUR;
      blocks.push({
        domain: names[names.length - 1 - b],
        severity: r() < 0.55 ? 'suspend' : 'silence',
        rejectMedia: r() < 0.5,
        comment: pick(r, ['Spam', 'Harassment', 'Hate speech', 'Unmoderated', 'Illegal content']),
        at,
        removed: null
      });
      if (r() < 0.15) blocks[b].removed = at + Math.floor(r() * (endMs + RUN_HOUR * HOUR - at));
    }
  }

  // Host state the crawler keeps, per peer.
  const host = peers.map(() => ({
    failures: 0,
    next: 0,
    gone: false,
    doc: null as string | null,
    parsed: null as unknown,
    docUsers: -1,
    hash: null as string | null,
    lastUsers: null as number | null
  }));

  // Two nights the collector did not run; one night the measures endpoint failed.
  const missing = new Set([Math.floor(o.days * 0.5), Math.floor(o.days * 0.5) + 1]);
  const measuresDown = o.days - 20;
  const wave = (d: number) => {
    const weekday = new Date(dayMs(d)).getUTCDay();
    return weekday === 0 || weekday === 6 ? 0.9 : 1.03;
  };
  let lastMeasured = -1;
  let lastReportsAt = -Infinity;
  let statuses = 0;
  const dailyStatuses: number[] = [];
  const active: number[] = [];
  let pg = 2e9;
  let media = 8e9;
  let blocksPrev = '';
  const rulesWire = RULES.map((text, i) => ({ id: String(i + 1), text, hint: '' }));

  // Distinct members who signed in during the seven days from each day (Mastodon's weekly logins).
  const weekLogins = Array.from({ length: o.days }, (_, s) => {
    const who = new Uint8Array(mm.n);
    for (let t = s; t <= Math.min(o.days - 1, s + 6); t++)
      for (let u = 0, row = t * mm.n; u < mm.n; u++) who[u] |= mm.signedIn[row + u];
    return who.reduce((a, b) => a + b, 0);
  });
  const last = new Int32Array(mm.n).fill(-1);
  const peerOf = new Map(peers.map((p) => [p.domain, p]));
  const runDays = Array.from({ length: o.days }, (_, d) => d).filter((d) => !missing.has(d));
  let listSig = '';

  for (let d = 0; d < o.days; d++) {
    // The day as it happened (whether or not anyone collected it).
    let act = 0;
    for (let u = 0, row = d * mm.n; u < mm.n; u++)
      if (mm.signedIn[row + u]) {
        act++;
        last[u] = d;
      }
    active.push(act);
    const posted = Math.round(act * 1.7 * wave(d));
    dailyStatuses.push(posted);
    statuses += posted;
    const membersNow = (() => {
      let n = 0;
      for (let u = 0; u < mm.n && mm.created[u] <= d; u++) n += mm.confirmed[u];
      return n;
    })();
    pg += 35e6 + membersNow * 12_000 * (1 + normal(r) * 0.2);
    media += 0.55e9 + membersNow * 120_000 * (1 + normal(r) * 0.3);
    if (d % 90 === 89) media *= 0.93; // periodic remote-media cleanup
    const redis = 1.2e9 + 0.4e9 * Math.sin(d / 9) + r() * 0.1e9;
    if (missing.has(d)) continue;

    // The nightly collection, committed as one transaction (one commit a night, not one per writer).
    await db.transaction(async () => {
      const runAt = dayMs(d) + RUN_HOUR * HOUR;
      let clock = runAt;
      const at = (seconds = 2) => new Date((clock += seconds * 1000));
      const crawl = d >= crawlFrom;
      const runId = await startRun(db, crawl ? 'all' : 'instance', new Date(runAt));
      const sources: SourceResult[] = [];
      // The night's daily values, written in one call (the collector writes them source by source).
      const daily: DailyValue[] = [];
      const ok = (source: string, items: number, message?: string) =>
        sources.push({ source, status: 'ok', items, errors: 0, message });
      const today = isoDay(dayMs(d));

      // instance: /api/v2/instance and /api/v1/instance
      let activeMonth = 0;
      for (let u = 0; u < mm.n; u++) if (last[u] >= d - 29) activeMonth++;
      const version = d < o.days * 0.4 ? '4.1.9' : d < o.days * 0.8 ? '4.2.12' : '4.3.2';
      const open = !(d >= mm.closedFrom && d < mm.closedTo);
      const listed = peers.filter((p) => listedOn(p, d)).map((p) => p.domain);
      const v2 = {
        domain: I,
        title: 'Co-op Social',
        version,
        usage: { users: { active_month: activeMonth } },
        configuration: { limited_federation: false },
        registrations: { enabled: open, approval_required: true }
      };
      const v1 = {
        uri: I,
        title: 'Co-op Social',
        version,
        stats: { user_count: membersNow, status_count: statuses, domain_count: listed.length },
        registrations: open,
        approval_required: true
      };
      const facts = parseInstance(v2, v1);
      let now = at();
      await writeInstanceInfo(db, { instance: I, runId, at: now, facts, rawV1: v1, rawV2: v2 });
      await recordServerVersion(db, { instance: I, runId, at: now, version, source: 'instance' });
      if (d === 0 || d === o.days - 1) await setSetting(db, 'own_domain', I);
      const values: DailyValue[] = (
        [
          ['user_count', facts.userCount],
          ['status_count', facts.statusCount],
          ['domain_count', facts.domainCount],
          ['active_month', facts.activeMonth]
        ] as const
      ).map(([metric, value]) => ({ instance: I, day: today, metric, value: value!, source: 'instance' }));
      daily.push(...values);
      ok('instance', values.length);

      // activity: twelve rolling weeks anchored at the request time
      const weeks = Array.from({ length: 12 }, (_, i) => {
        const from = d - 7 * i;
        let s = 0;
        let reg = 0;
        for (let t = Math.max(0, from); t <= Math.min(d, from + 6); t++) {
          s += dailyStatuses[t];
          reg += mm.newUsers[t];
        }
        return {
          week: String(Math.floor((runAt - 7 * i * DAY_MS) / 1000)),
          statuses: String(s),
          // The current week has only tonight so far.
          logins: String(i === 0 ? active[d] : weekLogins[from]),
          registrations: String(reg)
        };
      }).filter((_, i) => d - 7 * i >= 0);
      const activity = parseActivity(weeks);
      await upsertActivityWeeks(db, I, activity, at());
      ok('activity', activity.length);

      // rules: unchanged all along, so only the first and last reading leave a trace
      if (d === 0 || d === o.days - 1) {
        const rules = parseRules(rulesWire);
        await syncRules(db, I, rules, at());
        ok('rules', rules.length);
      }

      // peers list: written when it changed since the last collection, and on the last one (last_seen_at)
      // (a name that leaves before the next collection is written tonight, so its last_seen_at is tonight's)
      const nextRun = runDays.find((x) => x > d);
      let sig = 0;
      for (const p of peers) if (listedOn(p, d)) sig = (sig + Math.imul(p.i + 1, 2654435761)) >>> 0;
      const sigText = `${listed.length}:${sig}`;
      const leaving = nextRun === undefined || peers.some((p) => listedOn(p, d) && !listedOn(p, nextRun));
      now = at();
      if (sigText !== listSig || leaving) await syncKnownPeers(db, listed, now);
      listSig = sigText;
      daily.push({ instance: I, day: today, metric: 'peers_count', value: listed.length, source: 'peers' });
      ok('peers', listed.length);

      if (admin) {
        // admin.retention: monthly cohorts since the server began, daily ones for the last 30 days
        const cells = [
          ...parseCohorts(retentionWire(mm, last, d, dayMs, 'month', 0)),
          ...parseCohorts(retentionWire(mm, last, d, dayMs, 'day', Math.max(0, d - 30)))
        ];
        now = at(5);
        await recordRetention(db, I, cells, now);
        if (d === 0) await setSetting(db, startedKey(I), `${today.slice(0, 7)}-01`);
        ok('admin.retention', cells.length);

        // admin.measures: every day since the last one stored (a missed night is filled in the next)
        if (d === measuresDown) {
          sources.push({
            source: 'admin.measures',
            status: 'failed',
            items: 0,
            errors: 1,
            message: 'HTTP 503 from /api/v1/admin/measures'
          });
        } else {
          // Yesterday is read again: what happened after last night's collection (a late resolution) revises it.
          const from = Math.max(0, Math.min(lastMeasured + 1, d - 1));
          const series = (key: string, f: (t: number) => number) => {
            const data = [];
            let total = 0;
            for (let t = from; t <= d; t++) {
              total += f(t);
              data.push({ date: wireDay(dayMs(t)), value: String(f(t)) });
            }
            return { key, unit: null, total: String(total), previous_total: '0', data };
          };
          const dayOf = (ms: number) => Math.floor((ms - startMs) / DAY_MS);
          const opened = new Array<number>(o.days).fill(0);
          const resolvedOn = new Array<number>(o.days).fill(0);
          for (const f of reports) {
            opened[dayOf(f.created)]++;
            if (f.resolved !== null && f.resolved < runAt) resolvedOn[dayOf(f.resolved)]++;
          }
          const wire = [
            series('new_users', (t) => mm.newUsers[t]),
            series('active_users', (t) => active[t]),
            series('interactions', (t) => Math.round(active[t] * (5.5 + Math.sin(t * 1.3) * 0.4))),
            series('opened_reports', (t) => opened[t]),
            series('resolved_reports', (t) => resolvedOn[t])
          ];
          const range = { from: isoDay(dayMs(from)), to: today };
          const measured = measureValues(parseMeasures(wire), range, today, I);
          daily.push(...measured);
          lastMeasured = d;
          ok('admin.measures', measured.length);
        }

        // admin.dimensions: space usage, versions, languages and the servers we exchange posts with
        const versions: [string, string, string][] = [
          ['mastodon', 'Mastodon', version],
          ['ruby', 'Ruby', version === '4.1.9' ? '3.0.6' : version === '4.2.12' ? '3.2.3' : '3.3.5'],
          ['postgresql', 'PostgreSQL', d < o.days * 0.6 ? '14.11' : '16.4'],
          ['redis', 'Redis', d < o.days * 0.5 ? '6.2.14' : '7.2.5'],
          ['elasticsearch', 'Elasticsearch', '7.17.21']
        ];
        const gb = (v: number) => `${(v / 1e9).toFixed(1)} GB`;
        const space: [string, string, number][] = [
          ['postgresql', 'PostgreSQL', Math.round(pg)],
          ['redis', 'Redis', Math.round(redis)],
          ['media', 'Media files', Math.round(media)]
        ];
        // The peers about to be blocked were busy the day before: what each block cut.
        const soonBlocked = blocks.filter((b) => isoDay(b.at - DAY_MS) === today).map((b) => b.domain);
        const servers = [
          ...peers
            .filter((p) => listedOn(p, d) && d < p.death)
            .slice(0, 20)
            .map((p) => p.domain),
          ...soonBlocked
        ];
        const dimWire = [
          {
            key: 'space_usage',
            data: space.map(([key, human, v]) => ({
              key,
              human_key: human,
              value: String(v),
              unit: 'bytes',
              human_value: gb(v)
            }))
          },
          {
            key: 'software_versions',
            data: versions.map(([key, human, v]) => ({ key, human_key: human, value: v, human_value: v }))
          },
          {
            key: 'languages',
            data: (
              [
                ['en', 'English', 0.55],
                ['de', 'German', 0.2],
                ['nl', 'Dutch', 0.1],
                ['fr', 'French', 0.08],
                ['es', 'Spanish', 0.07]
              ] as const
            ).map(([key, human, share]) => ({
              key,
              human_key: human,
              value: String(Math.round(act * 0.9 * share))
            }))
          },
          {
            key: 'servers',
            data: servers.map((s, k) => ({ key: s, human_key: s, value: String(Math.max(1, 400 - k * 17)) }))
          }
        ];
        const dims = parseDimensions(dimWire);
        now = at(3);
        const items = await replaceDimensionDay(db, I, today, dims, now);
        const storage: DailyValue[] = (dims.get('space_usage') ?? []).map((i) => ({
          instance: I,
          day: today,
          metric: STORAGE[i.key],
          value: i.value!,
          source: 'admin.dimensions'
        }));
        daily.push(...storage);
        ok('admin.dimensions', items + storage.length);

        // admin.peer_measures: the day's follows, followers and posts for each server of the list above
        const rows = servers.flatMap((domain) => {
          const p = peerOf.get(domain);
          if (!p) return [];
          const h = (s: string) => (rng(p.i * 131 + d * 7 + s.length)() * 0.6 + 0.7) * Math.sqrt(p.users);
          const wire = [
            {
              key: 'instance_follows',
              total: String(Math.round(Math.sqrt(p.users) * 6)),
              data: [{ date: wireDay(dayMs(d)), value: String(Math.round(h('f') / 8)) }]
            },
            {
              key: 'instance_followers',
              total: String(Math.round(Math.sqrt(p.users) * 5)),
              data: [{ date: wireDay(dayMs(d)), value: String(Math.round(h('fo') / 10)) }]
            },
            {
              key: 'instance_statuses',
              total: String(Math.round(Math.sqrt(p.users) * 300)),
              data: [{ date: wireDay(dayMs(d)), value: String(Math.round(h('sts') * 4)) }]
            }
          ];
          return peerMeasureRows(parseMeasures(wire), domain, { from: today, to: today }, today);
        });
        await upsertPeerMeasures(db, I, rows, at(10));
        ok('admin.peer_measures', rows.length);

        // admin.reports: every report filed so far, as it stands tonight
        // (only those that changed since the last collection are passed: what the others would write is what they
        // hold already, except last_seen_at, which the last night writes for all)
        now = at(5);
        const t = now.getTime();
        const since = d === o.days - 1 ? -Infinity : lastReportsAt;
        const moved = (x: number | null) => x !== null && x >= since && x < t;
        const visible = parseReports(
          reports
            .filter((f) => f.created < t && (moved(f.created) || moved(f.assigned) || moved(f.resolved)))
            .map((f) => reportWire(f, t))
        );
        await upsertReports(
          db,
          I,
          visible,
          now,
          Number.isFinite(lastReportsAt) ? new Date(lastReportsAt) : null
        );
        lastReportsAt = t;
        ok('admin.reports', visible.length);

        // admin.domain_blocks and the public list: written when they changed, and on the last night
        const standing = blocks.filter((b) => b.at < runAt && (b.removed === null || b.removed >= runAt));
        const key = standing.map((b) => b.domain).join(',');
        if (key !== blocksPrev || d === o.days - 1) {
          now = at();
          const adminList = parseAdminDomainBlocks(
            standing.map((b, k) => ({
              id: String(k + 1),
              domain: b.domain,
              digest: sha256(b.domain),
              created_at: iso(b.at),
              severity: b.severity,
              reject_media: b.rejectMedia,
              reject_reports: false,
              private_comment: null,
              public_comment: b.comment,
              obfuscate: false
            }))
          );
          await syncAdminDomainBlocks(db, I, adminList, now);
          const publicList = parsePublicDomainBlocks(
            standing.map((b) => ({
              domain: b.domain,
              digest: sha256(b.domain),
              severity: b.severity,
              comment: b.comment
            }))
          );
          await syncPublicDomainBlocks(db, I, publicList, now);
          blocksPrev = key;
        }
        ok('admin.domain_blocks', standing.length);
      }

      await upsertDailyValues(db, daily, at());

      // The peer crawl: every listed host that is due, in batches, then the day's roll-up.
      if (crawl) {
        const crawlDay = today;
        const c = d - crawlFrom;
        let batch: PeerObservation[] = [];
        let crawled = 0;
        let failed = 0;
        const crawlStart = clock + 60_000;
        for (const p of peers) {
          const s = host[p.i];
          const observedAt = crawlStart + (p.i % 2400) * 1000;
          if (!listedOn(p, d) || s.gone || s.next > observedAt) continue;
          const u = rng(p.i * 104_729 + c * 31 + o.seed)();
          const outcome: Outcome =
            d >= p.death
              ? u < 0.6
                ? 'unreachable'
                : u < 0.8
                  ? 'timeout'
                  : 'gone'
              : u < 0.93
                ? 'ok'
                : u < 0.96
                  ? 'timeout'
                  : u < 0.98
                    ? 'tls_error'
                    : 'http_error';
          const obs: PeerObservation = {
            domain: p.domain,
            observedAt: new Date(observedAt),
            crawlDay,
            outcome,
            httpStatus:
              outcome === 'ok' ? 200 : outcome === 'http_error' ? 502 : outcome === 'gone' ? 410 : null,
            software: null,
            softwareVersion: null,
            usersTotal: null,
            usersActiveMonth: null,
            usersActiveHalfyear: null,
            localPosts: null,
            openRegistrations: null,
            suspectReasons: [],
            nodeinfoVersion: null,
            nodeinfoUrl: null,
            nodeName: null,
            quirks: [],
            error: outcome === 'ok' ? null : outcome === 'http_error' ? 'HTTP 502' : outcome,
            raw: null,
            prevRawHash: s.hash,
            instanceApi: null,
            instanceTitle: null,
            instanceVersion: null,
            instanceUserCount: null,
            instanceActiveMonth: null,
            limit: null,
            ...nextState(outcome, s.failures, crawlDay, null)
          };
          if (outcome === 'ok') {
            const users = Math.round(p.users * (1 + c * 0.0004));
            let docHash = s.hash;
            if (users !== s.docUsers) {
              // A server's document changes when its numbers do; the same text is served in between.
              s.doc = JSON.stringify(nodeinfoDoc(p, users));
              s.parsed = JSON.parse(s.doc) as unknown;
              s.docUsers = users;
              const stored = storedNodeinfoText(s.doc);
              docHash = stored === null ? null : rawHash(stored);
            }
            const v = parseNodeinfo(s.parsed, { usersTotal: s.lastUsers });
            if (v.ok) Object.assign(obs, v.value);
            obs.nodeinfoUrl = `https://${p.domain}/nodeinfo/2.0`;
            obs.raw = s.doc;
            s.hash = docHash;
            s.lastUsers = obs.usersTotal;
            // A block list is read only from a server that answered.
            if (p.limit && d >= p.limit.from && d < p.limit.until)
              obs.limit = {
                severity: p.limit.severity,
                matchedBy: p.limit.matchedBy,
                comment: p.limit.comment
              };
          } else failed++;
          s.failures = obs.consecutiveFailures;
          s.next = obs.nextAttemptAt?.getTime() ?? 0;
          s.gone = obs.hostState === 'gone';
          batch.push(obs);
          crawled++;
          if (batch.length >= CRAWL_BATCH) {
            await writeObservations(db, runId, batch);
            batch = [];
          }
        }
        await writeObservations(db, runId, batch);
        await rollupFederationDay(db, crawlDay, runId);
        clock = crawlStart + 2400 * 1000;
        sources.push({
          source: 'peers',
          status: failed ? 'partial' : 'ok',
          items: crawled,
          errors: failed,
          message: `${crawled} hosts`
        });
      }

      const finished = new Date(clock + 30_000);
      await recordSources(db, runId, sources, finished);
      const status = overallStatus(sources);
      const failedSource = sources.find((s) => s.status === 'failed');
      await finishRun(
        db,
        runId,
        status,
        sources,
        failedSource ? `${failedSource.source}: ${failedSource.message}` : null,
        finished
      );
    });
  }
  await setSetting(db, 'simulated', o.simulated === false ? 'false' : 'true');
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(args: string[]): Promise<number> {
  const base = args.includes('--small') ? SMALL : BENCH;
  const o: DatasetOptions = {
    ...base,
    file: arg(args, 'out') ?? 'data/dataset.duckdb',
    days: Number(arg(args, 'days') ?? base.days),
    crawls: Number(arg(args, 'crawls') ?? base.crawls),
    peers: Number(arg(args, 'peers') ?? base.peers),
    seed: Number(arg(args, 'seed') ?? base.seed),
    end: arg(args, 'end'),
    noAdmin: args.includes('--no-admin')
  };
  const t = performance.now();
  const out = await generateDataset(o);
  process.stdout.write(
    `${out.snapshot} (${o.days} days, ${o.crawls} crawls x ${o.peers} peers) in ${((performance.now() - t) / 1000).toFixed(1)} s\n`
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
