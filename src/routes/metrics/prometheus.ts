import { statSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../../../collectors/store/database.ts';
import { alertConfig, currentAlerts, mergeAlerts, scheduleAlerts } from '../../lib/server/alerts/index.ts';
import { scheduleStatus } from '../../lib/server/schedule/status.ts';

/**
 * /metrics in Prometheus text format, read from the snapshot the dashboard serves (and the scheduler's
 * status file): what ops put beside the server's own exporters in Grafana. Counters come from the run
 * history kept in the database, so they survive restarts of the dashboard.
 */
export interface SnapshotView {
  db: Db | null;
  file: string | null;
  rejected: { file: string; error: string } | null;
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800];

// Process metrics (memory, CPU, event-loop lag) live for the life of the server.
const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

function fileBytes(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

export async function renderMetrics(
  s: SnapshotView,
  dbPath: string,
  now: Date = new Date()
): Promise<string> {
  const r = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [r] });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [r] });
  const nowS = now.getTime() / 1000;

  // Freshness: the snapshot being served, and whether a newer one was refused.
  const snapAge = gauge(
    'fedipulse_snapshot_age_seconds',
    'Age of the snapshot being served (since it was published).'
  );
  const snapTime = gauge(
    'fedipulse_snapshot_timestamp_seconds',
    'When the snapshot being served was published.'
  );
  const snapBytes = gauge('fedipulse_snapshot_bytes', 'Size of the snapshot being served.');
  const snapRejected = gauge(
    'fedipulse_snapshot_rejected',
    '1 when a newer snapshot could not be opened and the previous one is served (see /healthz).'
  );
  const dbBytes = gauge('fedipulse_database_bytes', "Size of the collector's database file (FEDIPULSE_DB).");
  gauge('fedipulse_data_available', '1 when a snapshot is being served.').set(s.db ? 1 : 0);
  snapRejected.set(s.rejected ? 1 : 0);
  const dbSize = fileBytes(dbPath);
  if (dbSize !== null) dbBytes.set(dbSize);
  if (s.file) {
    try {
      const st = statSync(s.file);
      snapTime.set(st.mtimeMs / 1000);
      snapAge.set(Math.max(0, nowS - st.mtimeMs / 1000));
      snapBytes.set(st.size);
    } catch {
      // Pruned after it was opened: the age is unknown, the rest still holds.
    }
  }

  // The scheduler (npm start): next runs, failures that never reached the database.
  const sched = scheduleStatus(dbPath);
  const schedEnabled = gauge(
    'fedipulse_schedule_enabled',
    '1 when npm start runs collections on a schedule.'
  );
  const schedNext = gauge(
    'fedipulse_schedule_next_run_timestamp_seconds',
    'When the next scheduled run is due.',
    ['kind']
  );
  const schedFailures = gauge(
    'fedipulse_schedule_consecutive_failures',
    'Scheduled runs in a row that did not succeed (including ones that never reached the database).',
    ['kind']
  );
  const schedRunning = gauge('fedipulse_schedule_running', '1 while a scheduled collection runs.', ['kind']);
  schedEnabled.set(sched?.active && sched.enabled ? 1 : 0);
  if (sched?.active) {
    for (const [kind, k] of Object.entries(sched.kinds)) {
      if (k.next_at) schedNext.set({ kind }, Date.parse(k.next_at) / 1000);
      schedFailures.set({ kind }, k.consecutive_failures);
      schedRunning.set({ kind }, sched.running?.kind === kind ? 1 : 0);
    }
  }

  const db = s.db;
  if (db) {
    const runs = counter('fedipulse_collection_runs_total', 'Collection runs by kind and outcome.', [
      'kind',
      'status'
    ]);
    const errors = counter(
      'fedipulse_collection_errors_total',
      'Errors met by collections (items not collected).',
      ['kind']
    );
    const items = counter('fedipulse_collection_items_total', 'Items collected.', ['kind']);
    const duration = new Histogram({
      name: 'fedipulse_collection_duration_seconds',
      help: 'How long finished collection runs took.',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers: [r]
    });
    const lastDuration = gauge(
      'fedipulse_collection_last_duration_seconds',
      'Duration of the latest finished run.',
      ['kind']
    );
    const lastStatus = gauge(
      'fedipulse_collection_last_status',
      '1 for the status of the latest finished run.',
      ['kind', 'status']
    );
    const lastRun = gauge(
      'fedipulse_collection_last_run_timestamp_seconds',
      'When the latest run finished.',
      ['kind']
    );
    const lastOk = gauge(
      'fedipulse_collection_last_success_timestamp_seconds',
      'When the latest run that collected something (ok or partial) finished.',
      ['kind']
    );
    const lastOkAge = gauge(
      'fedipulse_collection_last_success_age_seconds',
      'Seconds since that run finished.',
      ['kind']
    );
    const sourceOk = gauge(
      'fedipulse_source_last_success_timestamp_seconds',
      'When each source (instance API, admin measures, peer crawl…) last succeeded.',
      ['source']
    );

    const totals = await db.all<{ kind: string; status: string; n: number; errors: number; items: number }>(
      `SELECT kind, status, count(*) AS n, sum(errors) AS errors, sum(items) AS items
       FROM collection_runs WHERE status <> 'running' GROUP BY ALL`
    );
    for (const t of totals) {
      runs.inc({ kind: t.kind, status: t.status }, t.n);
      errors.inc({ kind: t.kind }, t.errors ?? 0);
      items.inc({ kind: t.kind }, t.items ?? 0);
    }
    const durations = await db.all<{ kind: string; s: number }>(
      `SELECT kind, epoch(finished_at) - epoch(started_at) AS s FROM collection_runs
       WHERE status <> 'running' AND finished_at IS NOT NULL`
    );
    for (const d of durations) if (Number.isFinite(d.s)) duration.observe({ kind: d.kind }, Math.max(0, d.s));
    const latest = await db.all<{
      kind: string;
      status: string;
      s: number | null;
      fin: number | null;
      ok: number | null;
    }>(
      `SELECT kind, arg_max(status, run_id) AS status,
              arg_max(epoch(finished_at) - epoch(started_at), run_id) AS s, max(epoch(finished_at)) AS fin,
              max(epoch(finished_at)) FILTER (WHERE status IN ('ok', 'partial')) AS ok
       FROM collection_runs WHERE status <> 'running' GROUP BY kind`
    );
    for (const l of latest) {
      lastStatus.set({ kind: l.kind, status: l.status }, 1);
      if (l.s !== null) lastDuration.set({ kind: l.kind }, l.s);
      if (l.fin !== null) lastRun.set({ kind: l.kind }, l.fin);
      if (l.ok !== null) {
        lastOk.set({ kind: l.kind }, l.ok);
        lastOkAge.set({ kind: l.kind }, Math.max(0, nowS - l.ok));
      }
    }
    const sources = await db.all<{ source: string; ok: number }>(
      `SELECT source, max(epoch(finished_at)) AS ok FROM run_sources WHERE status IN ('ok', 'partial') GROUP BY source`
    );
    for (const x of sources) sourceOk.set({ source: x.source }, x.ok);

    // Headline numbers: the latest value of each daily metric, per instance.
    const headline = await db.all<{ instance: string; metric: string; value: number; day: number }>(
      `SELECT instance, metric, arg_max(value, day) AS value, epoch(max(day)) AS day FROM daily_metrics
       WHERE metric IN ('user_count', 'active_month', 'active_users', 'storage_postgresql_bytes',
                        'storage_redis_bytes', 'storage_media_bytes', 'storage_search_bytes')
       GROUP BY ALL`
    );
    const members = gauge('fedipulse_members', 'Local users (members), latest day.', ['instance']);
    const active = gauge(
      'fedipulse_active_users',
      'Active users, latest day: window="month" is Mastodon MAU, window="day" the daily admin measure.',
      ['instance', 'window']
    );
    const storage = gauge(
      'fedipulse_storage_bytes',
      'Storage used by the own server, latest day (store="redis" is RAM).',
      ['instance', 'store']
    );
    const newest = gauge(
      'fedipulse_data_newest_day_timestamp_seconds',
      'The newest day with data, per instance.',
      ['instance']
    );
    const newestDay = new Map<string, number>();
    for (const h of headline) {
      newestDay.set(h.instance, Math.max(newestDay.get(h.instance) ?? 0, h.day));
      if (h.metric === 'user_count') members.set({ instance: h.instance }, h.value);
      else if (h.metric === 'active_month') active.set({ instance: h.instance, window: 'month' }, h.value);
      else if (h.metric === 'active_users') active.set({ instance: h.instance, window: 'day' }, h.value);
      else storage.set({ instance: h.instance, store: h.metric.replace(/^storage_|_bytes$/g, '') }, h.value);
    }
    for (const [instance, day] of newestDay) newest.set({ instance }, day);

    const config = alertConfig();
    const reports = await db.one<{ open: number; past: number }>(
      `SELECT count(*) AS open, count(*) FILTER (WHERE created_at < $1::TIMESTAMPTZ) AS past
       FROM reports WHERE resolved_at IS NULL`,
      [new Date(now.getTime() - config.backlogTargetHours * 3_600_000).toISOString()]
    );
    gauge('fedipulse_reports_open', 'Reports not yet resolved (the moderation backlog).').set(
      reports?.open ?? 0
    );
    gauge('fedipulse_reports_past_target', 'Open reports older than FEDIPULSE_BACKLOG_TARGET_HOURS.').set(
      reports?.past ?? 0
    );

    const fed = await db.one<{ known: number; reachable: number; reach: number; day: number }>(
      `SELECT peers_known AS known, peers_reachable AS reachable, reach_users AS reach, epoch(day) AS day
       FROM federation_daily ORDER BY day DESC LIMIT 1`
    );
    const limiting = await db.one<{ n: number }>('SELECT count(*) AS n FROM peers_limiting_us');
    if (fed) {
      gauge('fedipulse_peers_known', 'Peers named by the own server, latest crawl.').set(fed.known);
      gauge('fedipulse_peers_reachable', 'Peers that answered NodeInfo in the latest crawl.').set(
        fed.reachable
      );
      gauge('fedipulse_reach_users', 'Sum of users on reachable peers, latest crawl.').set(fed.reach);
      gauge('fedipulse_crawl_day_timestamp_seconds', 'Day of the latest peer crawl.').set(fed.day);
    }
    gauge('fedipulse_peers_limiting_us', 'Peers whose public domain blocks name our domain.').set(
      limiting?.n ?? 0
    );

    const alerts = mergeAlerts(
      await currentAlerts(db, now, config),
      scheduleAlerts(sched?.active ? sched : null, config)
    );
    const byKind = gauge(
      'fedipulse_alerts_active',
      'Alert conditions holding now, by kind (the overview lists them).',
      ['kind']
    );
    for (const kind of [
      'report_backlog',
      'disk_full',
      'peer_limiting',
      'collections_failing',
      'collection_stale',
      'collection_latest'
    ]) {
      byKind.set({ kind }, alerts.filter((a) => a.kind === kind).length);
    }
  }

  return (await r.metrics()) + (await processRegistry.metrics());
}

export const CONTENT_TYPE = new Registry().contentType;
