import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openReadOnly, openWriter, type Db } from '../../collectors/store/database.ts';
import { publishSnapshot } from '../../collectors/store/snapshots.ts';
import { alertConfig, currentAlerts, overviewAlerts, type Alert } from '../../src/lib/server/alerts/index.ts';
import { notifyAlerts } from '../../src/lib/server/alerts/notify.ts';
import { renderMetrics } from '../../src/routes/metrics/prometheus.ts';
import { tempDir } from '../helpers/index.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;
const GiB = 2 ** 30;
const iso = (ms: number) => new Date(ms).toISOString();

/** A database in which every alert condition holds, and some near misses that must not alert. */
async function seed(db: Db): Promise<void> {
  const t = NOW.getTime();
  // Three failed peer crawls in a row; instance fine after an earlier failure.
  const runs: [string, string, number][] = [
    ['instance', 'failed', 10],
    ['instance', 'ok', 9],
    ['peers', 'ok', 8],
    ['peers', 'failed', 3],
    ['peers', 'failed', 2],
    ['peers', 'failed', 1]
  ];
  for (const [kind, status, hoursAgo] of runs) {
    await db.run(
      `INSERT INTO runs (kind, started_at, finished_at, status, items, errors, message)
       VALUES ($1, $2::TIMESTAMPTZ, $3::TIMESTAMPTZ, $4, 5, $5, $6)`,
      [
        kind,
        iso(t - hoursAgo * 3_600_000),
        iso(t - hoursAgo * 3_600_000 + 90_000),
        status,
        status === 'failed' ? 1 : 0,
        status === 'failed' ? 'peers: own server unreachable' : null
      ]
    );
  }
  // Reports: one open for 100 h (past the 48 h target), one open for 2 h, one resolved.
  const report = (id: string, createdMsAgo: number, resolved: boolean) =>
    db.run(
      `INSERT INTO report_records (instance, report_id, created_at, action_taken, action_taken_at, first_seen_at, last_seen_at)
       VALUES ('social.example', $1, $2::TIMESTAMPTZ, $3, $4::TIMESTAMPTZ, $5::TIMESTAMPTZ, $5::TIMESTAMPTZ)`,
      [id, iso(t - createdMsAgo), resolved, resolved ? iso(t - 3_600_000) : null, iso(t)]
    );
  await report('1', 100 * 3_600_000, false);
  await report('2', 2 * 3_600_000, false);
  await report('3', 200 * 3_600_000, true);
  // Storage: 50 GiB growing 1 GiB a day for 30 days, on a 100 GiB disk: full in ~21 days.
  for (let i = 0; i < 30; i++) {
    const day = iso(t - (29 - i) * DAY).slice(0, 10);
    const parts = {
      storage_postgresql_bytes: 20 * GiB + i * GiB,
      storage_redis_bytes: GiB,
      storage_media_bytes: 29 * GiB
    };
    for (const [metric, value] of Object.entries(parts)) {
      await db.run(
        `INSERT INTO metric_days (instance, day, metric, value, source, first_seen_at, last_seen_at, changed_at)
         VALUES ('social.example', $1::DATE, $2, $3, 'test', $4::TIMESTAMPTZ, $4::TIMESTAMPTZ, $4::TIMESTAMPTZ)`,
        [day, metric, value, iso(t)]
      );
    }
  }
  // Peers: a large one that began limiting us two days ago (alert), a small one (no), a large one that has
  // limited us for a month (not new: no); and below, a large one that limited us three days ago and has been
  // crawled ok without it since (ended: no).
  const peers: [string, number, number, string][] = [
    ['big.example', 50_000, 2, 'suspend'],
    ['small.example', 100, 1, 'silence'],
    ['old.example', 90_000, 30, 'silence']
  ];
  for (const [domain, users, daysAgo, severity] of peers) {
    await db.run(
      `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, users_total) VALUES (3, $1, $2::TIMESTAMPTZ, 'ok', $3)`,
      [domain, iso(t - DAY), users]
    );
    await db.run(
      `INSERT INTO peer_limit_obs (run_id, peer_domain, observed_at, severity, matched_by, comment)
       VALUES (100 + $4, $1, $2::TIMESTAMPTZ, $3, 'domain', 'spam')`,
      [domain, iso(t - daysAgo * DAY), severity, daysAgo]
    );
    await db.run(
      `INSERT INTO peer_limit_obs (run_id, peer_domain, observed_at, severity, matched_by, comment)
       VALUES (3, $1, $2::TIMESTAMPTZ, $3, 'domain', 'spam')`,
      [domain, iso(t - DAY), severity]
    );
  }
  await db.run(
    `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, users_total)
     VALUES (101, 'ended.example', $1::TIMESTAMPTZ, 'ok', 70000), (3, 'ended.example', $2::TIMESTAMPTZ, 'ok', 70000)`,
    [iso(t - 3 * DAY), iso(t - DAY)]
  );
  await db.run(
    `INSERT INTO peer_limit_obs (run_id, peer_domain, observed_at, severity, matched_by, comment)
     VALUES (101, 'ended.example', $1::TIMESTAMPTZ, 'suspend', 'digest', NULL)`,
    [iso(t - 3 * DAY)]
  );
}

describe('alerts: one function for the overview, /metrics and the webhook', () => {
  let dbPath: string;
  let snapshot: string;
  const env = { FEDIPULSE_DISK_BYTES: String(100 * GiB), FEDIPULSE_DISK_WARN_DAYS: '30' };

  beforeAll(async () => {
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    const db = await openWriter(dbPath, 'test');
    try {
      await seed(db);
      snapshot = await publishSnapshot(db, 'run1');
    } finally {
      closeWriter(db);
    }
  });

  it('finds each condition, and only those', async () => {
    const db = await openReadOnly(snapshot);
    let alerts: Alert[];
    try {
      alerts = await currentAlerts(db, NOW, alertConfig(env));
    } finally {
      db.close();
    }
    const keys = alerts.map((a) => a.key).sort();
    expect(keys).toEqual([
      'collection_latest:peers',
      'collections_failing:peers',
      'disk_full:social.example',
      'peer_limiting:big.example',
      'report_backlog'
    ]);
    const backlog = alerts.find((a) => a.kind === 'report_backlog')!;
    expect(backlog.fields).toMatchObject({ reports_past_target: 1, reports_open: 2, oldest_hours: 100 });
    expect(backlog.severity).toBe('critical'); // 100 h ≥ twice the 48 h target
    const disk = alerts.find((a) => a.kind === 'disk_full')!;
    expect(disk.fields.days_left).toBeGreaterThanOrEqual(20);
    expect(disk.fields.days_left).toBeLessThanOrEqual(22);
    expect(alerts.find((a) => a.kind === 'peer_limiting')!.severity).toBe('critical');
    for (const a of alerts) {
      expect(a.title.length).toBeGreaterThan(0);
      for (const v of Object.values(a.fields))
        if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('the overview gets one line per kind; visitors who are not staff see no peer names', async () => {
    const db = await openReadOnly(snapshot);
    try {
      const staff = await overviewAlerts(db, NOW, { staff: true, config: alertConfig(env) });
      expect(staff.map((a) => a.key)).toEqual(['collection', 'backlog', 'disk', 'peer_limit']);
      expect(staff.find((a) => a.key === 'collection')!.message).toMatch(/last 3 "peers" collections/);
      expect(staff.find((a) => a.key === 'peer_limit')!.message).toContain(
        'big.example (suspend, 50,000 users)'
      );
      const visitor = await overviewAlerts(db, NOW, { staff: false, config: alertConfig(env) });
      expect(visitor.find((a) => a.key === 'peer_limit')!.message).toBe(
        '1 large peer started limiting us this week.'
      );
      expect(JSON.stringify(visitor)).not.toContain('big.example');
      // Nothing collected for two days: the stale-data condition replaces the latest-run one.
      const later = await currentAlerts(db, new Date(NOW.getTime() + 2 * DAY), alertConfig(env));
      expect(later.map((a) => a.kind)).toContain('collection_stale');
    } finally {
      db.close();
    }
  });

  it('thresholds are settings: a longer backlog target and no disk size clear those alerts', async () => {
    const db = await openReadOnly(snapshot);
    try {
      const alerts = await currentAlerts(db, NOW, alertConfig({ FEDIPULSE_BACKLOG_TARGET_HOURS: '120' }));
      expect(alerts.map((a) => a.kind).sort()).toEqual([
        'collection_latest',
        'collections_failing',
        'peer_limiting'
      ]);
    } finally {
      db.close();
    }
    expect(() => alertConfig({ FEDIPULSE_DISK_BYTES: 'lots' })).toThrow(/FEDIPULSE_DISK_BYTES/);
  });

  describe('webhook', () => {
    let server: http.Server;
    let url: string;
    const bodies: { text: string; alerts: Alert[] }[] = [];
    let failNext = false;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        let b = '';
        req.on('data', (d) => (b += d));
        req.on('end', () => {
          if (failNext) {
            failNext = false;
            res.writeHead(502).end();
            return;
          }
          bodies.push(JSON.parse(b));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-token`;
    });
    afterAll(() => server?.close());

    it('sends each new condition once, retries a failed POST, and sends a condition again after it cleared', async () => {
      const logs: string[] = [];
      const base = { ...env, FEDIPULSE_ALERT_WEBHOOK: url, FEDIPULSE_INSTANCE_URL: 'https://social.example' };
      const run = (e: Record<string, string> = base) =>
        notifyAlerts({ dbPath, now: NOW, env: e, log: (l) => logs.push(l) });

      failNext = true;
      const failed = await run();
      expect(failed.error).toMatch(/HTTP 502.*retry/);
      expect(logs.join('\n')).not.toContain('secret-token'); // the secret part of a webhook URL is never logged
      expect(bodies).toHaveLength(0);

      const first = await run();
      expect(first.sent).toHaveLength(4);
      expect(bodies).toHaveLength(1);
      expect(bodies[0].text).toMatch(/^fedipulse \(social\.example\): 4 new alerts/);
      expect(bodies[0].alerts.map((a) => a.key)).toContain('report_backlog');

      await run(); // nothing new: nothing sent
      expect(bodies).toHaveLength(1);

      // The backlog target rises: that condition clears; back to 48 h, it is new again and sent alone.
      await run({ ...base, FEDIPULSE_BACKLOG_TARGET_HOURS: '500' });
      expect(bodies).toHaveLength(1);
      await run();
      expect(bodies).toHaveLength(2);
      expect(bodies[1].alerts.map((a) => a.key)).toEqual(['report_backlog']);
    });

    it('does nothing without FEDIPULSE_ALERT_WEBHOOK', async () => {
      expect(await notifyAlerts({ dbPath, now: NOW, env: {} })).toEqual({
        active: [],
        sent: [],
        error: null
      });
    });
  });

  it('/metrics: Prometheus text with run outcomes, durations, freshness and headline gauges', async () => {
    const db = await openReadOnly(snapshot);
    let text: string;
    try {
      text = await renderMetrics({ db, file: snapshot, rejected: null }, dbPath, NOW);
    } finally {
      db.close();
    }
    expect(text).toContain('fedipulse_collection_runs_total{kind="peers",status="failed"} 3');
    expect(text).toContain('fedipulse_collection_runs_total{kind="instance",status="ok"} 1');
    expect(text).toMatch(/fedipulse_collection_duration_seconds_bucket\{le="120",kind="peers"\} 4/);
    expect(text).toContain('fedipulse_collection_last_status{kind="peers",status="failed"} 1');
    expect(text).toMatch(/fedipulse_collection_last_success_timestamp_seconds\{kind="instance"\} \d+/);
    expect(text).toMatch(/fedipulse_snapshot_age_seconds \d/);
    expect(text).toContain('fedipulse_snapshot_rejected 0');
    expect(text).toContain('fedipulse_reports_open 2');
    expect(text).toContain('fedipulse_peers_limiting_us 3');
    expect(text).toMatch(/fedipulse_storage_bytes\{instance="social.example",store="postgresql"\} \d+/);
    expect(text).toContain('fedipulse_alerts_active{kind="report_backlog"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).not.toMatch(/NaN|Infinity/);
  });

  it('/metrics without data says so instead of failing', async () => {
    const text = await renderMetrics(
      { db: null, file: null, rejected: null },
      path.join(tempDir(), 'none.duckdb')
    );
    expect(text).toContain('fedipulse_data_available 0');
  });
});
