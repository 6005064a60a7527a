import type { Db } from '../../../../collectors/store/database.ts';
import {
  DISK_COMPONENTS,
  storageMetric,
  volumeStatus,
  volumesFromEnv,
  type Volume
} from '../queries/forecast.ts';
import { addDays } from '../../components/range.ts';
import type { ScheduleFile } from '../schedule/status.ts';

/**
 * The alert conditions, in one place: the overview shows them, /metrics counts them, and the scheduler
 * sends new ones to the webhook. Computed from the stable views of a snapshot, so every process that can
 * read a snapshot agrees on them.
 */
export type AlertKind =
  | 'report_backlog'
  | 'disk_full'
  | 'peer_limiting'
  | 'collections_failing'
  | 'collection_stale'
  | 'collection_latest';

export interface Alert {
  /** Stable identity: the same ongoing condition keeps the same key (the webhook sends each key once). */
  key: string;
  kind: AlertKind;
  severity: 'warning' | 'critical';
  /** One line. */
  title: string;
  /** The numbers and what to do, in a sentence or two. */
  text: string;
  /** When the condition began, when known (ISO 8601). */
  since: string | null;
  /** The dashboard page (and anchor) with the details. */
  href: string;
  /** Sent to the webhook when new; false = shown on the overview only (too noisy to push). */
  notify: boolean;
  fields: Record<string, string | number | boolean | null>;
}

export interface AlertConfig {
  /** Open reports older than this are past target (FEDIPULSE_BACKLOG_TARGET_HOURS, default 48). */
  backlogTargetHours: number;
  /** Disks and buckets with their sizes (FEDIPULSE_VOLUMES, or FEDIPULSE_DISK_BYTES as one volume); a volume without a size has no alert. */
  volumes: Volume[];
  /** Warn when the disk is forecast full within this many days (FEDIPULSE_DISK_WARN_DAYS, default 60). */
  diskWarnDays: number;
  /** A peer this large (users) limiting us is an alert (FEDIPULSE_LARGE_PEER_USERS, default 10000). */
  largePeerUsers: number;
  /** "Newly" limiting: first seen within this many days. */
  newLimitDays: number;
  /** Collections failing this many times in a row (FEDIPULSE_ALERT_FAILED_RUNS, default 3). */
  failedRuns: number;
  /** No finished collection for this long is an alert (FEDIPULSE_STALE_AFTER_HOURS, default 36). */
  staleAfterHours: number;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number | null, min = 0): number | null {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, not "${raw}"`);
  return n;
}

export function alertConfig(env: NodeJS.ProcessEnv = process.env): AlertConfig {
  return {
    backlogTargetHours: num(env, 'FEDIPULSE_BACKLOG_TARGET_HOURS', 48)!,
    volumes: volumesFromEnv(env),
    // FEDIPULSE_DISK_WARNING_DAYS is the name the capacity page first used: both are read.
    diskWarnDays: num(env, 'FEDIPULSE_DISK_WARN_DAYS', num(env, 'FEDIPULSE_DISK_WARNING_DAYS', 60))!,
    largePeerUsers: num(env, 'FEDIPULSE_LARGE_PEER_USERS', 10_000)!,
    newLimitDays: 7,
    failedRuns: Math.max(1, Math.round(num(env, 'FEDIPULSE_ALERT_FAILED_RUNS', 3, 1)!)),
    staleAfterHours: num(env, 'FEDIPULSE_STALE_AFTER_HOURS', 36)!
  };
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

async function backlog(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  const cutoff = new Date(now.getTime() - c.backlogTargetHours * HOUR).toISOString();
  const row = await db.one<{ n: number; oldest: number | null; open_total: number }>(
    `SELECT count(*) FILTER (WHERE created_at < $1::TIMESTAMPTZ) AS n,
            epoch_ms(min(created_at)) AS oldest, count(*) AS open_total
     FROM reports WHERE resolved_at IS NULL`,
    [cutoff]
  );
  if (!row || row.n === 0 || row.oldest === null) return [];
  const oldestHours = Math.floor((now.getTime() - row.oldest) / HOUR);
  return [
    {
      key: 'report_backlog',
      kind: 'report_backlog',
      severity: oldestHours >= 2 * c.backlogTargetHours ? 'critical' : 'warning',
      title: `Report backlog past target: ${row.n} open longer than ${c.backlogTargetHours} h`,
      text:
        `${row.n} of ${row.open_total} open reports have waited longer than the ${c.backlogTargetHours} h target ` +
        `(oldest ${oldestHours} h). Triage them in Mastodon's Moderation → Reports.`,
      since: new Date(row.oldest + c.backlogTargetHours * HOUR).toISOString(),
      href: '/moderation#backlog_age',
      notify: true,
      fields: {
        reports_past_target: row.n,
        reports_open: row.open_total,
        oldest_hours: oldestHours,
        target_hours: c.backlogTargetHours
      }
    }
  ];
}

/** Same rule as the capacity page (queries/forecast.ts volumeStatus): per volume, Theil–Sen over the last 90 days. */
const FIT_DAYS = 90;

async function disk(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  const sized = c.volumes.filter((v) => v.bytes !== null);
  if (sized.length === 0) return [];
  const since = new Date(now.getTime() - 2 * FIT_DAYS * DAY).toISOString().slice(0, 10);
  const rows = await db.all<{ instance: string; day: string; metric: string; value: number }>(
    `SELECT instance, CAST(day AS VARCHAR) AS day, metric, value FROM daily_metrics
     WHERE metric IN (SELECT unnest(string_split($2, ','))) AND day >= $1::DATE ORDER BY instance, day`,
    [since, DISK_COMPONENTS.map(storageMetric).join(',')]
  );
  const out: Alert[] = [];
  for (const instance of new Set(rows.map((r) => r.instance))) {
    const values = new Map<string, Map<string, number>>();
    let first = '';
    let last = '';
    for (const r of rows) {
      if (r.instance !== instance) continue;
      if (!values.has(r.metric)) values.set(r.metric, new Map());
      values.get(r.metric)!.set(r.day, r.value);
      if (!first || r.day < first) first = r.day;
      if (r.day > last) last = r.day;
    }
    const days: string[] = [];
    for (let d = first; d <= last; d = addDays(d, 1)) days.push(d);
    for (const v of sized) {
      const s = volumeStatus(v, days, values, FIT_DAYS);
      if (s.daysToFull === null || s.used === null || s.daysToFull > c.diskWarnDays) continue;
      const size = v.bytes!;
      const slope = s.slope !== null && s.slope > 0 ? s.slope : null;
      // The volume of the older single-disk setting keeps its key, so an ongoing alert is not sent again.
      const key = v.name === 'disk' ? `disk_full:${instance}` : `disk_full:${instance}:${v.name}`;
      out.push({
        key,
        kind: 'disk_full',
        severity: s.daysToFull <= 7 ? 'critical' : 'warning',
        title:
          s.daysToFull === 0
            ? `Volume ${v.name} full: ${gib(s.used)} used of ${gib(size)}`
            : `Volume ${v.name} full in about ${s.daysToFull} days (${s.fullOn})`,
        text:
          `${instance} stores ${gib(s.used)} on ${v.name} (${s.reported.join(', ')}, ${s.lastDay}) of ${gib(size)}` +
          (slope !== null ? `, growing ${gib(slope)} a day` : '') +
          `. Add space, or prune media (tootctl media remove) before then.`,
        since: null,
        href: '/capacity#storage_volumes',
        notify: true,
        fields: {
          instance,
          volume: v.name,
          used_bytes: s.used,
          capacity_bytes: size,
          growth_bytes_per_day: slope === null ? null : Math.round(slope),
          days_left: s.daysToFull,
          full_on: s.fullOn,
          warn_days: c.diskWarnDays
        }
      });
    }
  }
  return out;
}

async function largePeers(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  const since = new Date(now.getTime() - c.newLimitDays * DAY).toISOString();
  const rows = await db.all<{
    peer_domain: string;
    severity: string;
    matched_by: string;
    first_seen_at: number;
    users_total: number;
  }>(
    // The rule of the peers_limiting_us view (limiting until an ok crawl after its last sighting), read
    // for the window only: the view scans every observation ever made (~350 ms at 365 crawls × 30,000
    // peers); here peer_obs is read from the window start, which its zone maps skip to (~15 ms). Nothing
    // earlier matters: the ok crawl that would end a limit, and the crawl that saw it (it read the peer's
    // NodeInfo, so it gives its size), both come after the limit's first sighting.
    `WITH fresh AS (
       SELECT peer_domain, arg_max(severity, observed_at) AS severity, arg_max(matched_by, observed_at) AS matched_by,
              min(observed_at) AS first_seen_at,
              max(observed_at) AS last_seen_at
       FROM peer_limit_obs GROUP BY peer_domain HAVING min(observed_at) >= $2::TIMESTAMPTZ
     ), ok AS (
       SELECT domain, max(observed_at) AS last_ok_at,
              arg_max(users_total, observed_at) FILTER (WHERE users_total IS NOT NULL) AS users_total
       FROM peer_obs
       WHERE outcome = 'ok' AND observed_at >= $2::TIMESTAMPTZ AND domain IN (SELECT peer_domain FROM fresh)
       GROUP BY domain
     )
     SELECT f.peer_domain, f.severity, f.matched_by, epoch_ms(f.first_seen_at) AS first_seen_at,
            o.users_total
     FROM fresh f JOIN ok o ON o.domain = f.peer_domain
     WHERE o.users_total >= $1 AND f.last_seen_at >= o.last_ok_at
     ORDER BY o.users_total DESC, f.peer_domain`,
    [c.largePeerUsers, since]
  );
  return rows.map((r) => ({
    key: `peer_limiting:${r.peer_domain}`,
    kind: 'peer_limiting' as const,
    severity: r.severity === 'suspend' ? ('critical' as const) : ('warning' as const),
    title: `${r.peer_domain} (${r.users_total.toLocaleString('en')} users) now ${r.severity === 'suspend' ? 'suspends' : 'limits'} us`,
    // The peer's own comment is free text its admins wrote: left out of alerts (pushed to chat rooms);
    // staff read it on the Federation page.
    text:
      `${r.peer_domain} lists our domain in its public domain blocks (${r.severity}, matched by ${r.matched_by})` +
      `. Its members stop seeing ours; the Federation page has the details.`,
    since: new Date(r.first_seen_at).toISOString(),
    href: '/federation#limiting_us',
    notify: true,
    fields: {
      peer_domain: r.peer_domain,
      users_total: r.users_total,
      severity: r.severity,
      matched_by: r.matched_by
    }
  }));
}

async function failingRuns(db: Db, _now: Date, c: AlertConfig): Promise<Alert[]> {
  const rows = await db.all<{ kind: string; status: string; message: string | null; started_at: number }>(
    `SELECT kind, status, message, epoch_ms(started_at) AS started_at FROM (
       SELECT *, row_number() OVER (PARTITION BY kind ORDER BY run_id DESC) AS rn
       FROM collection_runs WHERE status <> 'running'
     ) WHERE rn <= $1 ORDER BY kind, rn`,
    [c.failedRuns]
  );
  const out: Alert[] = [];
  for (const kind of new Set(rows.map((r) => r.kind))) {
    const mine = rows.filter((r) => r.kind === kind);
    if (mine.length < c.failedRuns || !mine.every((r) => r.status === 'failed')) continue;
    out.push(
      failingAlert(kind, c.failedRuns, mine[0].message, new Date(mine.at(-1)!.started_at).toISOString())
    );
  }
  return out;
}

function failingAlert(kind: string, n: number, message: string | null, since: string | null): Alert {
  return {
    key: `collections_failing:${kind}`,
    kind: 'collections_failing',
    severity: 'critical',
    title: `"${kind}" collections failed ${n} times in a row`,
    text:
      `The last ${n} "${kind}" collections collected nothing` +
      (message ? `; the latest said: ${message}` : '') +
      `. Run \`npm run collect -- ${kind}\` by hand to see why.`,
    since,
    href: '/status',
    notify: true,
    fields: { collection_kind: kind, failed_in_a_row: n, last_message: message }
  };
}

/** Nothing finished for too long (the schedule stopped?), or the latest run failed or missed sources. */
async function latestRun(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  const run = await db.one<{
    status: string;
    fin: number;
    message: string | null;
    failed: string | null;
    kind: string;
  }>(
    `SELECT kind, status, epoch_ms(coalesce(finished_at, started_at)) AS fin, message,
            (SELECT string_agg(source, ', ' ORDER BY source) FROM run_sources s
             WHERE s.run_id = r.run_id AND s.status = 'failed') AS failed
     FROM collection_runs r WHERE status <> 'running' ORDER BY started_at DESC, run_id DESC LIMIT 1`
  );
  if (!run) return [];
  const ageHours = Math.floor((now.getTime() - run.fin) / HOUR);
  if (ageHours > c.staleAfterHours) {
    return [
      {
        key: 'collection_stale',
        kind: 'collection_stale',
        severity: 'critical',
        title: `No collection for ${ageHours} hours`,
        text: `The latest collection finished ${ageHours} h ago (expected at least every ${c.staleAfterHours} h). Is the schedule (npm start or the timers) running?`,
        since: new Date(run.fin + c.staleAfterHours * HOUR).toISOString(),
        href: '/status',
        notify: true,
        fields: { age_hours: ageHours, stale_after_hours: c.staleAfterHours }
      }
    ];
  }
  if (run.status === 'failed' || run.failed) {
    const what =
      run.status === 'failed' ? `failed: ${run.message ?? 'see /status'}` : `could not read: ${run.failed}`;
    return [
      {
        key: `collection_latest:${run.kind}`,
        kind: 'collection_latest',
        severity: 'warning',
        title:
          run.status === 'failed'
            ? `The latest collection failed`
            : `The latest collection missed some sources`,
        text: `The latest "${run.kind}" collection ${what}.`,
        since: new Date(run.fin).toISOString(),
        href: '/status',
        notify: false, // one failure is often a blip; the webhook waits for FEDIPULSE_ALERT_FAILED_RUNS in a row
        fields: {
          collection_kind: run.kind,
          status: run.status,
          failed_sources: run.failed,
          message: run.message
        }
      }
    ];
  }
  return [];
}

/**
 * Every alert condition that holds in this snapshot at `now`. The single place the overview, /metrics
 * and the webhook take their alerts from.
 */
export async function currentAlerts(db: Db, now: Date, c: AlertConfig = alertConfig()): Promise<Alert[]> {
  const parts = await Promise.all([
    failingRuns(db, now, c),
    latestRun(db, now, c),
    backlog(db, now, c),
    disk(db, now, c),
    largePeers(db, now, c)
  ]);
  return parts.flat();
}

/**
 * Failures the database cannot show: scheduled collections that ended before recording a run (disk full,
 * bad configuration, the database held by someone else). Same keys as the database's own condition.
 */
export function scheduleAlerts(status: Pick<ScheduleFile, 'kinds'> | null, c: AlertConfig): Alert[] {
  if (!status) return [];
  return Object.entries(status.kinds)
    .filter(([, k]) => k.consecutive_failures >= c.failedRuns)
    .map(([kind, k]) => failingAlert(kind, k.consecutive_failures, k.last?.message ?? null, null));
}

/** Alerts merged by key, the first of each key winning (database conditions before scheduler ones). */
export function mergeAlerts(...lists: Alert[][]): Alert[] {
  const seen = new Map<string, Alert>();
  for (const a of lists.flat()) if (!seen.has(a.key)) seen.set(a.key, a);
  return [...seen.values()];
}

/** The overview's shape (src/routes/+page.svelte): one line per condition, peers grouped. */
export interface OverviewAlert {
  key: 'backlog' | 'disk' | 'peer_limit' | 'collection';
  message: string;
  href: string;
}

const OVERVIEW_KEY: Record<AlertKind, OverviewAlert['key']> = {
  report_backlog: 'backlog',
  disk_full: 'disk',
  peer_limiting: 'peer_limit',
  collections_failing: 'collection',
  collection_stale: 'collection',
  collection_latest: 'collection'
};

/**
 * What the overview shows: the same conditions as the webhook and /metrics. Visitors who are not staff see
 * counts, not peer names or collector messages.
 */
export async function overviewAlerts(
  db: Db,
  now: Date,
  opts: { staff: boolean; config?: AlertConfig }
): Promise<OverviewAlert[]> {
  const all = await currentAlerts(db, now, opts.config ?? alertConfig());
  const out: OverviewAlert[] = [];
  const peers = all.filter((a) => a.kind === 'peer_limiting');
  for (const a of all) {
    if (a.kind === 'peer_limiting') continue;
    const key = OVERVIEW_KEY[a.kind];
    if (out.some((o) => o.key === key)) continue; // one line per kind: the most serious comes first
    out.push({ key, message: opts.staff ? a.text : `${a.title}.`, href: a.href });
  }
  if (peers.length > 0) {
    out.push({
      key: 'peer_limit',
      message: opts.staff
        ? `Newly limiting us: ${peers.map((p) => `${p.fields.peer_domain} (${p.fields.severity}, ${Number(p.fields.users_total).toLocaleString('en')} users)`).join(', ')}.`
        : `${peers.length} large peer${peers.length === 1 ? '' : 's'} started limiting us this week.`,
      href: peers[0].href
    });
  }
  return out;
}
