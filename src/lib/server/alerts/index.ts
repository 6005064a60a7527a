import type { Db } from '../../../../collectors/store/database.ts';
import { daysUntil, theilSen } from '../queries/forecast.ts';
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
  /** Disk capacity in bytes (FEDIPULSE_DISK_BYTES); null = no disk alert. */
  diskBytes: number | null;
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
    diskBytes: num(env, 'FEDIPULSE_DISK_BYTES', null, 1),
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
const STORAGE_METRICS = ['storage_postgresql_bytes', 'storage_redis_bytes', 'storage_media_bytes'];

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

/** Same fit as the capacity page (queries/forecast.ts): Theil–Sen over the last 90 days, 14 points at least. */
const FIT_DAYS = 90;

async function disk(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  if (c.diskBytes === null) return [];
  const since = new Date(now.getTime() - 2 * FIT_DAYS * DAY).toISOString().slice(0, 10);
  // Days missing one of the three stores would read as a sudden drop: only whole days count, as on /capacity.
  const rows = await db.all<{ instance: string; day: string; used: number }>(
    `SELECT instance, CAST(day AS VARCHAR) AS day, sum(value) AS used
     FROM daily_metrics WHERE metric IN ($2, $3, $4) AND day >= $1::DATE
     GROUP BY ALL HAVING count(DISTINCT metric) = 3 ORDER BY instance, day`,
    [since, ...STORAGE_METRICS]
  );
  const out: Alert[] = [];
  for (const instance of new Set(rows.map((r) => r.instance))) {
    const mine = rows.filter((r) => r.instance === instance);
    const latest = mine.at(-1)!;
    const lastT = Date.parse(latest.day);
    const fitFrom = lastT - (FIT_DAYS - 1) * DAY;
    const fit = theilSen(
      mine
        .filter((r) => Date.parse(r.day) >= fitFrom)
        .map((r) => [(Date.parse(r.day) - fitFrom) / DAY, r.used])
    );
    const daysLeft = latest.used >= c.diskBytes ? 0 : fit ? daysUntil(fit, c.diskBytes, latest.used) : null;
    if (daysLeft === null || daysLeft > c.diskWarnDays) continue;
    const fullOn = new Date(lastT + daysLeft * DAY).toISOString().slice(0, 10);
    const slope = fit && fit.slope > 0 ? fit.slope : null;
    out.push({
      key: `disk_full:${instance}`,
      kind: 'disk_full',
      severity: daysLeft <= 7 ? 'critical' : 'warning',
      title:
        daysLeft === 0
          ? `Disk full: ${gib(latest.used)} used of ${gib(c.diskBytes)}`
          : `Disk full in about ${daysLeft} days (${fullOn})`,
      text:
        `${instance} stores ${gib(latest.used)} (PostgreSQL, Redis and media, ${latest.day}) of ${gib(c.diskBytes)}` +
        (slope !== null ? `, growing ${gib(slope)} a day` : '') +
        `. Add space, or prune media (tootctl media remove) before then.`,
      since: null,
      href: '/capacity#storage_total',
      notify: true,
      fields: {
        instance,
        used_bytes: latest.used,
        capacity_bytes: c.diskBytes,
        growth_bytes_per_day: slope === null ? null : Math.round(slope),
        days_left: daysLeft,
        full_on: fullOn,
        warn_days: c.diskWarnDays
      }
    });
  }
  return out;
}

async function largePeers(db: Db, now: Date, c: AlertConfig): Promise<Alert[]> {
  const since = new Date(now.getTime() - c.newLimitDays * DAY).toISOString();
  const rows = await db.all<{
    peer_domain: string;
    severity: string;
    matched_by: string;
    comment: string | null;
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
              arg_max(comment, observed_at) AS comment, min(observed_at) AS first_seen_at,
              max(observed_at) AS last_seen_at
       FROM peer_limit_obs GROUP BY peer_domain HAVING min(observed_at) >= $2::TIMESTAMPTZ
     ), ok AS (
       SELECT domain, max(observed_at) AS last_ok_at,
              arg_max(users_total, observed_at) FILTER (WHERE users_total IS NOT NULL) AS users_total
       FROM peer_obs
       WHERE outcome = 'ok' AND observed_at >= $2::TIMESTAMPTZ AND domain IN (SELECT peer_domain FROM fresh)
       GROUP BY domain
     )
     SELECT f.peer_domain, f.severity, f.matched_by, f.comment, epoch_ms(f.first_seen_at) AS first_seen_at,
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
    text:
      `${r.peer_domain} lists our domain in its public domain blocks (${r.severity}, matched by ${r.matched_by})` +
      (r.comment ? `, saying: "${r.comment}"` : '') +
      `. Its members stop seeing ours; the Federation page has the details.`,
    since: new Date(r.first_seen_at).toISOString(),
    href: '/federation#limiting_us',
    notify: true,
    fields: {
      peer_domain: r.peer_domain,
      users_total: r.users_total,
      severity: r.severity,
      matched_by: r.matched_by,
      comment: r.comment
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
