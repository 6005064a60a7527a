import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollection, type RunSummary } from '../../collectors/run.ts';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { fixture, startReplayServer, type ReplayServer } from './fixture-replay-server.ts';

/** The real example responses, replayed verbatim, must come out of the stable views unchanged. */
const NOW = new Date('2022-09-22T12:00:00Z'); // the docs' examples were captured around this day
let server: ReplayServer;
let dir: string;
let db: Db;
let summary: RunSummary;
let instance: string;
const json = <T>(name: string) => JSON.parse(fixture(name)) as T;

beforeAll(async () => {
  server = await startReplayServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-replay-'));
  process.env.FEDIPULSE_TOKEN = 'replay-token';
  const config = loadConfig({
    FEDIPULSE_INSTANCE_URL: server.url,
    FEDIPULSE_TOKEN: 'replay-token',
    FEDIPULSE_DB: path.join(dir, 'f.duckdb')
  });
  summary = await runCollection('instance', { config, now: () => NOW });
  instance = `127.0.0.1:${server.port}`;
  db = await openReadOnly(config.dbPath);
});

afterAll(async () => {
  db?.close();
  delete process.env.FEDIPULSE_TOKEN;
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const metric = async (name: string) =>
  db.all<{ day: string; value: number }>(
    `SELECT day::VARCHAR AS day, value FROM daily_metrics WHERE instance = $1 AND metric = $2 ORDER BY day`,
    [instance, name]
  );

describe('fixture replay', () => {
  it('collects every source', () => {
    expect(summary.sources.filter((s) => s.status !== 'ok')).toEqual([]);
    expect(summary.status).toBe('ok');
  });

  it('each admin measure keeps its daily values exactly', async () => {
    for (const { example } of json<{ example: { key: string; data: { date: string; value: string }[] } }[]>(
      'admin_measures_by_key.json'
    )) {
      if (
        !['new_users', 'active_users', 'interactions', 'opened_reports', 'resolved_reports'].includes(
          example.key
        )
      )
        continue;
      expect(await metric(example.key), example.key).toEqual(
        example.data.map((d) => ({ day: d.date.slice(0, 10), value: Number(d.value) }))
      );
    }
  });

  it('public numbers from v1, v2 and NodeInfo', async () => {
    const day = '2022-09-22';
    expect(await metric('user_count')).toEqual([{ day, value: 812303 }]);
    expect(await metric('status_count')).toEqual([{ day, value: 38151616 }]);
    expect(await metric('domain_count')).toEqual([{ day, value: 25255 }]);
    expect(await metric('active_month')).toEqual([{ day, value: 279347 }]);
    expect(await metric('users_total')).toEqual([{ day, value: 2805128 }]);
    expect(await metric('peers_count')).toEqual([{ day, value: 3 }]);
    expect(await metric('storage_postgresql_bytes')).toEqual([{ day, value: 49581359907 }]);
    expect(await metric('storage_redis_bytes')).toEqual([{ day, value: 100765744 }]);
    expect(await metric('storage_media_bytes')).toEqual([{ day, value: 837837315424 }]);
  });

  it('each cohort keeps its rate and users', async () => {
    const rows = await db.all<{
      frequency: string;
      cohort: string;
      period_index: number;
      users: number;
      rate: number;
    }>(
      `SELECT frequency, cohort::VARCHAR AS cohort, period_index, users, rate FROM retention_cohorts ORDER BY 1, 2, 3`
    );
    const expected = [
      ...json<{ period: string; frequency: string; data: { date: string; rate: number; value: string }[] }[]>(
        'admin_retention_daily.json'
      ),
      ...json<{ period: string; frequency: string; data: { date: string; rate: number; value: string }[] }[]>(
        'admin_retention.json'
      )
    ].flatMap((c) =>
      c.data.map((d) => ({
        frequency: c.frequency,
        cohort: c.period.slice(0, 10),
        period_index:
          c.frequency === 'day'
            ? (Date.parse(d.date) - Date.parse(c.period)) / 86_400_000
            : Number(d.date.slice(5, 7)) - Number(c.period.slice(5, 7)),
        users: Number(d.value),
        rate: d.rate
      }))
    );
    expect(rows).toEqual(expected);
  });

  it('each report keeps its category and times', async () => {
    const rows = await db.all(
      `SELECT report_id, category, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at,
              strftime(resolved_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS resolved_at, action_taken, forwarded,
              target_origin, target_domain, first_assigned_seen_at
       FROM reports ORDER BY report_id`
    );
    const r = (f: {
      id: string;
      category: string;
      created_at: string;
      action_taken_at: string | null;
      action_taken: boolean;
      forwarded: boolean;
    }) => ({
      report_id: f.id,
      category: f.category,
      created_at: f.created_at,
      resolved_at: f.action_taken_at,
      action_taken: f.action_taken,
      forwarded: f.forwarded,
      target_origin: 'local',
      target_domain: null,
      first_assigned_seen_at: null
    });
    expect(rows).toEqual([
      r(json<{ example: Parameters<typeof r>[0] }[]>('entity_admin_report.json')[0].example),
      r(json('admin_report.json')),
      r(json<Parameters<typeof r>[0][]>('admin_reports.json')[0])
    ]);
  });

  it('each domain block keeps its severity', async () => {
    expect(
      await db.all(
        `SELECT domain, digest, severity, reject_media, reject_reports, public_comment, obfuscate, removed_at FROM own_domain_blocks`
      )
    ).toEqual([
      {
        domain: 'example.com',
        digest: 'a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947',
        severity: 'noop',
        reject_media: false,
        reject_reports: false,
        public_comment: null,
        obfuscate: false,
        removed_at: null
      }
    ]);
    expect(
      await db.all(`SELECT domain, severity, comment FROM public_domain_blocks ORDER BY domain`)
    ).toEqual(
      json<{ domain: string; severity: string; comment: string }[]>('v1_instance_domain_blocks.json').map(
        ({ domain, severity, comment }) => ({ domain, severity, comment })
      )
    );
  });

  it('peers, activity, rules and dimensions', async () => {
    expect(
      (
        await db.all<{ domain: string }>(`SELECT domain FROM known_peers WHERE in_peers_list ORDER BY domain`)
      ).map((r) => r.domain)
    ).toEqual([...json<string[]>('v1_instance_peers.json')].sort());
    const weeks = await db.all<{ s: number; statuses: number; logins: number; registrations: number }>(
      `SELECT epoch(week_start)::BIGINT AS s, statuses, logins, registrations FROM activity_weeks ORDER BY week_start DESC`
    );
    expect(weeks).toEqual(
      json<Record<string, string>[]>('v1_instance_activity.json').map((w) => ({
        s: Number(w.week),
        statuses: Number(w.statuses),
        logins: Number(w.logins),
        registrations: Number(w.registrations)
      }))
    );
    expect(await db.all(`SELECT rule_id, text FROM instance_rules ORDER BY rule_id`)).toEqual(
      json<{ id: string; text: string }[]>('v1_instance_rules.json').map((r) => ({
        rule_id: r.id,
        text: r.text
      }))
    );
    expect(
      await db.all(
        `SELECT key, value, human_value FROM dimension_days WHERE dimension = 'software_versions' ORDER BY key`
      )
    ).toContainEqual({ key: 'mastodon', value: null, human_value: '3.5.1+chitter' });
    expect(
      await db.all(`SELECT key, value FROM dimension_days WHERE dimension = 'languages' ORDER BY key`)
    ).toEqual([
      { key: 'en', value: 10 },
      { key: 'es', value: 1 }
    ]);
  });

  it('per-peer measures for the top servers', async () => {
    const rows = await db.all<{ domain: string; n: number }>(
      `SELECT domain, count(*)::INTEGER AS n FROM peer_measure_days GROUP BY domain ORDER BY domain`
    );
    expect(rows.map((r) => r.domain)).toEqual(['botsin.space', 'monads.online']);
  });

  it('sends the token to the API, and never to NodeInfo', () => {
    for (const r of server.requests) {
      // The public domain blocks are asked without the token: what a visitor sees is what the public
      // transparency report may show (Mastodon's "Show domain blocks" setting).
      if (r.path === '/api/v1/instance/domain_blocks') expect(r.authorization).toBeUndefined();
      else if (r.path.startsWith('/api/')) expect(r.authorization).toBe('Bearer replay-token');
      else expect(r.authorization).toBeUndefined();
    }
  });
});
