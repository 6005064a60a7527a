import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeWriter, MIGRATIONS_DIR, openWriter, type Db } from '../../collectors/store/database.ts';
import { rawHash, workPage, writeObservations, loadSeeds } from '../../collectors/store/peers.ts';
import { ROOT, tempDir } from '../helpers/index.ts';

/**
 * A database created by an earlier build (002/003 as they shipped then, tests/fixtures/old-migrations/), filled
 * as that build would fill it, then opened by today's writer: every row and view must still be there, the
 * schema must be today's, and crawl_day must be filled. The expected values are written out by hand below.
 */

const OLD = path.join(ROOT, 'tests', 'fixtures', 'old-migrations');
const current = (f: string) => readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8');
const old = (f: string) => readFileSync(path.join(OLD, f), 'utf8');

interface Build {
  name: string;
  m002: string;
  m003: string;
  /** 003 as of 18b4aaf already had crawl_day (and still raw). */
  hasCrawlDay: boolean;
}

const BUILDS: Build[] = [
  {
    name: '02ae093 / 7c27340 (first release)',
    m002: old('002_own_server.882899a.sql'),
    m003: old('003_peers.6b15d41.sql'),
    hasCrawlDay: false
  },
  {
    name: '4381a41 (own-server collector)',
    m002: current('002_own_server.sql'),
    m003: old('003_peers.6b15d41.sql'),
    hasCrawlDay: false
  },
  {
    name: '18b4aaf (peer crawler)',
    m002: current('002_own_server.sql'),
    m003: old('003_peers.5e504f4.sql'),
    hasCrawlDay: true
  }
];

const I = 'coop.example';
const NODEINFO_A =
  '{"version":"2.0","software":{"name":"mastodon","version":"4.2.1"},"usage":{"users":{"total":1200}}}';
const NODEINFO_B =
  '{"version":"2.1","software":{"name":"gotosocial","version":"0.16.0"},"usage":{"users":{"total":12}}}';

/** What that build's writers put in (the columns its migrations had). */
async function fill(c: DuckDBConnection, b: Build): Promise<void> {
  const stmts = [
    `INSERT INTO settings VALUES ('own_domain', '${I}'), ('simulated', 'false')`,
    // Run 1 crawled across midnight: its crawl day is the day it started.
    `INSERT INTO runs (kind, started_at, finished_at, status, items, errors, pid) VALUES
       ('all', '2026-10-31T23:50:00Z', '2026-11-01T00:20:00Z', 'ok', 10, 0, 11),
       ('all', '2026-11-01T03:00:00Z', '2026-11-01T03:30:00Z', 'partial', 8, 1, 12)`,
    `INSERT INTO run_sources VALUES (1, 'instance', 'ok', 4, 0, NULL, '2026-11-01T00:20:00Z'),
       (2, 'peers', 'partial', 3, 1, '1 of 3 unreachable', '2026-11-01T03:30:00Z')`,
    `INSERT INTO metric_days VALUES ('${I}', '2026-10-31', 'user_count', 1200, 'instance', '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z', '2026-10-31T23:50:00Z'),
       ('${I}', '2026-10-31', 'new_users', 4, 'admin.measures', '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z', '2026-11-01T03:00:00Z')`,
    `INSERT INTO metric_revisions VALUES ('${I}', '2026-10-31', 'new_users', 3, 4, '2026-11-01T03:00:00Z')`,
    `INSERT INTO instance_info (instance, run_id, observed_at, title, version, registrations_open, approval_required, raw_v1, raw_v2)
       VALUES ('${I}', 1, '2026-10-31T23:50:00Z', 'Co-op', '4.2.1', true, true, '{"uri":"${I}"}',
               '{"domain":"${I}","configuration":{"limited_federation":false}}')`,
    `INSERT INTO activity_weeks VALUES ('${I}', '2026-10-26T00:00:00Z', 500, 300, 9, '2026-11-01T03:00:00Z')`,
    `INSERT INTO dimension_days VALUES ('${I}', '2026-11-01', 'space_usage', 'media', 'Media files', 2e9, 'bytes', '2 GB', '2026-11-01T03:00:00Z')`,
    `INSERT INTO report_records (instance, report_id, category, created_at, updated_at, action_taken, action_taken_at, forwarded,
       target_origin, target_domain, assigned_account_id, first_assigned_seen_at, rule_ids, first_seen_at, last_seen_at) VALUES
       ('${I}', '7', 'spam', '2026-10-30T10:00:00Z', '2026-10-31T09:00:00Z', true, '2026-10-31T09:00:00Z', false, 'remote',
        'spam.example', '3', '2026-10-31T23:50:00Z', ['1'], '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z'),
       ('${I}', '8', 'other', '2026-10-31T12:00:00Z', NULL, false, NULL, NULL, 'local', NULL, NULL, NULL, [],
        '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z')`,
    `INSERT INTO retention_observations VALUES ('${I}', 'month', '2026-10-01', 0, '2026-10-01', 40, 0.8, '2026-10-31T23:50:00Z'),
       ('${I}', 'month', '2026-10-01', 0, '2026-10-01', 42, 0.84, '2026-11-01T03:00:00Z')`,
    `INSERT INTO domain_block_state (instance, domain, digest, severity, reject_media, reject_reports, public_comment, obfuscate,
       first_seen_at, last_seen_at, removed_at) VALUES
       ('${I}', 'spam.example', 'ab', 'suspend', false, false, 'Spam', false, '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z', NULL)`,
    `INSERT INTO domain_block_events VALUES ('${I}', 'spam.example', '2026-10-31T23:50:00Z', 'added', 'suspend', false, false, 'Spam')`,
    `INSERT INTO instance_rules VALUES ('${I}', '1', 'Be kind.', NULL, '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z', NULL)`,
    `INSERT INTO peer_measure_days VALUES ('${I}', 'a.example', '2026-10-31', 'instance_follows', 3, 40, '2026-11-01T03:00:00Z')`,
    `INSERT INTO known_peers (domain, first_seen_at, last_seen_at) VALUES ('a.example', '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z'),
       ('b.example', '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z'), ('c.example', '2026-10-31T23:50:00Z', '2026-11-01T03:00:00Z')`,
    `INSERT INTO peer_hosts (domain, state, consecutive_failures, next_attempt_at, last_attempt_at, last_outcome, first_seen_at) VALUES
       ('a.example', 'ok', 0, NULL, '2026-11-01T03:05:00Z', 'ok', '2026-11-01T00:05:00Z'),
       ('b.example', 'ok', 0, NULL, '2026-11-01T03:06:00Z', 'ok', '2026-11-01T00:06:00Z'),
       ('c.example', 'failing', 1, '2026-11-02T03:00:00Z', '2026-11-01T03:07:00Z', 'timeout', '2026-11-01T00:07:00Z')`,
    `INSERT INTO peer_limit_obs VALUES (2, 'b.example', '2026-11-01T03:06:00Z', 'silence', 'domain', 'Too large')`,
    `INSERT INTO federation_days VALUES ('2026-10-31', 1, 3, 3, 1212, 300), ('2026-11-01', 2, 3, 2, 1212, 300)`,
    `INSERT INTO finance_entries VALUES ('l1', 'ledger', '2026-10-01', 'expense', 'hosting', 'Host', NULL, 'EUR', 120.50, 1, 120.50,
       'ledger.csv:2', 1, '2026-11-01T03:00:00Z', '2026-11-01T03:00:00Z')`,
    `INSERT INTO finance_balances VALUES ('opencollective', '2026-11-01T03:00:00Z', 'EUR', 900, 900, 2)`
  ];
  for (const s of stmts) await c.run(s);
  // Run 99 is not in runs (a run row pruned by hand): its crawl day falls back to the observation's own UTC day.
  const obs: [number, string, string, string, number | null, string | null][] = [
    [1, 'a.example', '2026-11-01T00:05:00Z', 'ok', 1200, NODEINFO_A],
    [1, 'b.example', '2026-11-01T00:06:00Z', 'ok', 12, NODEINFO_B],
    [1, 'c.example', '2026-11-01T00:07:00Z', 'ok', 7, null],
    [2, 'a.example', '2026-11-01T03:05:00Z', 'ok', 1210, NODEINFO_A],
    [2, 'b.example', '2026-11-01T03:06:00Z', 'ok', 12, NODEINFO_B],
    [2, 'c.example', '2026-11-01T03:07:00Z', 'timeout', null, null],
    [99, 'a.example', '2026-11-02T03:05:00Z', 'ok', 1215, NODEINFO_A]
  ];
  for (const [run, domain, at, outcome, users, raw] of obs) {
    await c.run(
      `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, software, users_total, users_active_month, suspect, raw${b.hasCrawlDay ? ', crawl_day' : ''})
       VALUES ($1, $2, $3::TIMESTAMPTZ, $4, $5, $6, $7, false, $8::JSON${b.hasCrawlDay ? ', $9::DATE' : ''})`,
      [
        run,
        domain,
        at,
        outcome,
        outcome === 'ok' ? 'mastodon' : null,
        users,
        users === null ? null : Math.round(users / 4),
        raw,
        // That build stamped the crawl day itself; a resumed crawl (run 2 here) kept the day it began.
        ...(b.hasCrawlDay ? [run === 1 ? '2026-10-31' : run === 2 ? '2026-10-31' : '2026-11-02'] : [])
      ]
    );
  }
}

async function buildOld(file: string, b: Build): Promise<void> {
  const inst = await DuckDBInstance.create(file);
  const c = await inst.connect();
  await c.run(
    `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
  );
  const steps: [number, string, string][] = [
    [1, '001_runs.sql', current('001_runs.sql')],
    [2, '002_own_server.sql', b.m002],
    [3, '003_peers.sql', b.m003],
    [5, '005_finances.sql', current('005_finances.sql')]
  ];
  for (const [v, name, sql] of steps) {
    await c.run(sql);
    await c.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [v, name]);
  }
  await fill(c, b);
  c.closeSync();
  inst.closeSync();
}

async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db.all<{ t: string }>(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`
  );
  const out: Record<string, number> = {};
  for (const { t } of tables) out[t] = (await db.all<{ n: number }>(`SELECT count(*) AS n FROM "${t}"`))[0].n;
  return out;
}

async function shape(db: Db): Promise<string[]> {
  const cols = await db.all<{ c: string }>(
    `SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns
     WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1`
  );
  const views = await db.all<{ c: string }>(
    `SELECT 'view ' || table_name AS c FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' AND table_type = 'VIEW' ORDER BY 1`
  );
  return [...cols, ...views].map((r) => r.c);
}

const dir = tempDir('fedipulse-upgrade-');
let fresh: string[] = [];

describe.each(BUILDS)('a database created by build $name', (b) => {
  it('upgrades with every row and view intact, crawl_day filled, today’s schema', async () => {
    if (fresh.length === 0) {
      const f = await openWriter(path.join(dir, 'fresh.duckdb'), 'test');
      fresh = await shape(f);
      closeWriter(f);
    }
    const file = path.join(dir, `${b.name.slice(0, 7)}.duckdb`);
    await buildOld(file, b);

    // Before: what the old build left, counted with its own schema.
    const before = await (async () => {
      const inst = await DuckDBInstance.create(file);
      const c = await inst.connect();
      try {
        return await rowCounts({
          all: async (sql: string) =>
            (await c.runAndReadAll(sql)).getRowObjectsJS().map((r) => ({ ...r, n: Number(r.n) }))
        } as unknown as Db);
      } finally {
        c.closeSync();
        inst.closeSync();
      }
    })();
    expect(before.peer_obs).toBe(7);

    const db = await openWriter(file, 'test');
    try {
      const after = await rowCounts(db);
      // Every table the old build had keeps every row; the two NodeInfo texts moved to peer_raw_docs, once each.
      for (const [t, n] of Object.entries(before)) expect(after[t], t).toBe(n);
      expect(after.peer_raw_docs).toBe(2);
      expect(await shape(db)).toEqual(fresh);

      // crawl_day: the day the run started (run 1 began 23:50 on 31 Oct), else the observation's own day; a day
      // the old build stamped itself stays.
      const days = await db.all<{ run_id: number; domain: string; crawl_day: string }>(
        `SELECT run_id, domain, strftime(crawl_day, '%Y-%m-%d') AS crawl_day FROM peer_observations ORDER BY run_id, domain`
      );
      const want = (run: number) =>
        run === 1 ? '2026-10-31' : run === 2 ? (b.hasCrawlDay ? '2026-10-31' : '2026-11-01') : '2026-11-02';
      expect(days).toHaveLength(7);
      for (const d of days) expect(d.crawl_day, `${d.run_id} ${d.domain}`).toBe(want(d.run_id));

      // The documents read back through peer_obs_raw, for each observation that had one.
      const raws = await db.all<{ run_id: number; domain: string; raw: string }>(
        `SELECT run_id, domain, raw::VARCHAR AS raw FROM peer_obs_raw ORDER BY run_id, domain`
      );
      expect(raws.map((r) => [r.run_id, r.domain, JSON.parse(r.raw)])).toEqual([
        [1, 'a.example', JSON.parse(NODEINFO_A)],
        [1, 'b.example', JSON.parse(NODEINFO_B)],
        [2, 'a.example', JSON.parse(NODEINFO_A)],
        [2, 'b.example', JSON.parse(NODEINFO_B)],
        [99, 'a.example', JSON.parse(NODEINFO_A)]
      ]);

      // The stable views (PRODUCT.md) answer with the old rows.
      const one = async (sql: string) => (await db.all<Record<string, unknown>>(sql))[0];
      expect(await one(`SELECT count(*) AS n, max(status) AS s FROM collection_runs`)).toEqual({
        n: 2,
        s: 'partial'
      });
      expect(await one(`SELECT value FROM daily_metrics WHERE metric = 'new_users'`)).toEqual({ value: 4 });
      expect(
        await one(
          `SELECT report_id, strftime(resolved_at, '%Y-%m-%dT%H:%M') AS r, action_taken FROM reports WHERE report_id = '7'`
        )
      ).toEqual({ report_id: '7', r: '2026-10-31T09:00', action_taken: true });
      expect(await one(`SELECT users, rate FROM retention_cohorts`)).toEqual({ users: 42, rate: 0.84 });
      expect(await one(`SELECT domain, severity, created_at FROM own_domain_blocks`)).toEqual({
        domain: 'spam.example',
        severity: 'suspend',
        created_at: null
      });
      expect(await db.all(`SELECT domain, outcome, users_total FROM peer_latest ORDER BY domain`)).toEqual([
        { domain: 'a.example', outcome: 'ok', users_total: 1215 },
        { domain: 'b.example', outcome: 'ok', users_total: 12 },
        { domain: 'c.example', outcome: 'timeout', users_total: null }
      ]);
      expect(await one(`SELECT peer_domain, severity FROM peers_limiting_us`)).toEqual({
        peer_domain: 'b.example',
        severity: 'silence'
      });
      expect(
        await db.all(
          `SELECT strftime(day, '%Y-%m-%d') AS day, reach_users FROM federation_daily ORDER BY day`
        )
      ).toEqual([
        { day: '2026-10-31', reach_users: 1212 },
        { day: '2026-11-01', reach_users: 1212 }
      ]);
      expect(await one(`SELECT count(*) AS n FROM finance_monthly`)).toEqual({ n: 1 });
      // Facts the later build reads out of the kept instance answer, and the crawler's memory per host.
      expect(await one(`SELECT domain, limited_federation FROM instance_info`)).toEqual({
        domain: I,
        limited_federation: false
      });
      expect(
        await db.all(`SELECT domain, last_users_total, last_raw_hash FROM peer_hosts ORDER BY domain`)
      ).toEqual([
        { domain: 'a.example', last_users_total: 1215, last_raw_hash: rawHash(NODEINFO_A) },
        { domain: 'b.example', last_users_total: 12, last_raw_hash: rawHash(NODEINFO_B) },
        { domain: 'c.example', last_users_total: 7, last_raw_hash: null }
      ]);

      // Today's crawler works on it: a.example, already crawled on 2 Nov, is not due again that day; b.example is,
      // and the same document as before is not stored again (the repaired key is the writer's key).
      await loadSeeds(db, []);
      const due = await workPage(db, '', new Date('2026-11-02T12:00:00Z'), '2026-11-02', 10);
      expect(due.map((w) => w.domain)).toEqual(['b.example', 'c.example']);
      await writeObservations(db, 3, [
        {
          domain: 'b.example',
          observedAt: new Date('2026-11-02T12:00:00Z'),
          crawlDay: '2026-11-02',
          outcome: 'ok',
          httpStatus: 200,
          software: 'gotosocial',
          softwareVersion: '0.16.0',
          usersTotal: 12,
          usersActiveMonth: 3,
          usersActiveHalfyear: 5,
          localPosts: 100,
          openRegistrations: false,
          suspectReasons: [],
          nodeinfoVersion: '2.1',
          nodeinfoUrl: 'https://b.example/nodeinfo/2.1',
          nodeName: null,
          quirks: [],
          error: null,
          raw: NODEINFO_B,
          prevRawHash: due[0].lastRawHash ?? null,
          instanceApi: null,
          instanceTitle: null,
          instanceVersion: null,
          instanceUserCount: null,
          instanceActiveMonth: null,
          limit: null,
          hostState: 'ok',
          consecutiveFailures: 0,
          nextAttemptAt: null
        }
      ]);
      expect((await rowCounts(db)).peer_raw_docs).toBe(2);

      // 009 is idempotent: run again, it changes nothing.
      const counts = await rowCounts(db);
      await db.transaction(() => db.run(current('009_baseline_repair.sql')));
      expect(await rowCounts(db)).toEqual(counts);
      expect(await shape(db)).toEqual(fresh);
    } finally {
      closeWriter(db);
    }
    // A second open applies nothing more.
    const again = await openWriter(file, 'test');
    try {
      const m = await again.all<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version'
      );
      expect(m.map((r) => r.version)).toContain(9);
    } finally {
      closeWriter(again);
    }
  });
});
