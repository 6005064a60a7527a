import type { Db } from './database.ts';
import type {
  ActivityWeek,
  AdminDomainBlock,
  CohortCell,
  DimensionItem,
  InstanceFacts,
  PublicDomainBlock,
  ReportRecord,
  Rule
} from '../instance/parse.ts';

/**
 * Writers for the own server's data. Every function is one transaction keyed by natural keys, so a run
 * killed between two calls leaves whole items, and a re-run writes the same rows again (idempotent).
 */

export async function getSetting(db: Db, key: string): Promise<string | null> {
  const row = await db.one<{ value: string | null }>('SELECT value FROM settings WHERE key = $1', [key]);
  return row?.value ?? null;
}

export async function writeInstanceInfo(
  db: Db,
  r: { instance: string; runId: number; at: Date; facts: InstanceFacts; rawV1: unknown; rawV2: unknown }
): Promise<void> {
  await db.run(
    `INSERT INTO instance_info (instance, run_id, observed_at, title, version, registrations_open, approval_required,
       raw_v1, raw_v2, domain, limited_federation)
     VALUES ($1, $2, $3::TIMESTAMPTZ, $4, $5, $6, $7, $8::JSON, $9::JSON, $10, $11)
     ON CONFLICT (instance, run_id) DO UPDATE SET observed_at = excluded.observed_at, title = excluded.title,
       version = excluded.version, registrations_open = excluded.registrations_open,
       approval_required = excluded.approval_required, raw_v1 = excluded.raw_v1, raw_v2 = excluded.raw_v2,
       domain = excluded.domain, limited_federation = excluded.limited_federation`,
    [
      r.instance,
      r.runId,
      r.at.toISOString(),
      r.facts.title,
      r.facts.version,
      r.facts.registrationsOpen,
      r.facts.approvalRequired,
      r.rawV1 == null ? null : JSON.stringify(r.rawV1),
      r.rawV2 == null ? null : JSON.stringify(r.rawV2),
      r.facts.domain,
      r.facts.limitedFederation
    ]
  );
}

/** The server's version for one collection; the first source that names it in a run is kept. */
export async function recordServerVersion(
  db: Db,
  r: { instance: string; runId: number; at: Date; version: string; source: 'instance' | 'nodeinfo' }
): Promise<void> {
  await db.run(
    `INSERT INTO server_versions (instance, run_id, observed_at, version, source)
     VALUES ($1, $2, $3::TIMESTAMPTZ, $4, $5) ON CONFLICT (instance, run_id) DO NOTHING`,
    [r.instance, r.runId, r.at.toISOString(), r.version, r.source]
  );
}

/** The crawl list: names on today's peers list are in it; names that left it stay, flagged out. */
export async function syncKnownPeers(
  db: Db,
  domains: string[],
  at: Date
): Promise<{ added: number; left: number }> {
  const ts = at.toISOString();
  return db.transaction(async () => {
    await db.run('CREATE OR REPLACE TEMP TABLE incoming_peers (domain VARCHAR PRIMARY KEY)');
    const app = await db.conn.createAppender('incoming_peers', 'main', 'temp');
    for (const d of domains) {
      app.appendVarchar(d);
      app.endRow();
    }
    app.closeSync();
    const added = await db.one<{ n: number }>(
      `SELECT count(*) AS n FROM incoming_peers i WHERE NOT EXISTS (SELECT 1 FROM known_peers k WHERE k.domain = i.domain)`
    );
    await db.run(
      `INSERT INTO known_peers (domain, source, first_seen_at, last_seen_at, in_peers_list)
       SELECT domain, 'peers_list', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ, true FROM incoming_peers
       ON CONFLICT (domain) DO UPDATE SET last_seen_at = excluded.last_seen_at, in_peers_list = true`,
      [ts]
    );
    const left = await db.all(
      `UPDATE known_peers SET in_peers_list = false
       WHERE in_peers_list AND source = 'peers_list' AND domain NOT IN (SELECT domain FROM incoming_peers)
       RETURNING 1 AS n`
    );
    await db.run('DROP TABLE incoming_peers');
    return { added: added?.n ?? 0, left: left.length };
  });
}

export async function upsertActivityWeeks(
  db: Db,
  instance: string,
  weeks: ActivityWeek[],
  at: Date
): Promise<void> {
  if (weeks.length === 0) return;
  // One row per week (the last answer for a week wins, as row-by-row upserts would have it).
  const unique = [...new Map(weeks.map((w) => [w.weekStart, w])).values()];
  await db.transaction(async () => {
    await stage(
      db,
      'incoming_weeks',
      'week_start VARCHAR, statuses DOUBLE, logins DOUBLE, registrations DOUBLE',
      unique.map((w) => [w.weekStart, w.statuses, w.logins, w.registrations])
    );
    await db.run(
      `INSERT INTO activity_weeks (instance, week_start, statuses, logins, registrations, observed_at)
       SELECT $1, week_start::TIMESTAMPTZ, statuses, logins, registrations, $2::TIMESTAMPTZ FROM incoming_weeks
       ON CONFLICT (instance, week_start) DO UPDATE SET statuses = excluded.statuses, logins = excluded.logins,
         registrations = excluded.registrations, observed_at = excluded.observed_at`,
      [instance, at.toISOString()]
    );
    await db.run('DROP TABLE incoming_weeks');
  });
}

export async function syncRules(db: Db, instance: string, rules: Rule[], at: Date): Promise<void> {
  const ts = at.toISOString();
  const unique = [...new Map(rules.map((r) => [r.id, r])).values()];
  await db.transaction(async () => {
    if (unique.length > 0) {
      await stage(
        db,
        'incoming_rules',
        'rule_id VARCHAR, text VARCHAR, hint VARCHAR',
        unique.map((r) => [r.id, r.text, r.hint])
      );
      await db.run(
        `INSERT INTO instance_rules (instance, rule_id, text, hint, first_seen_at, last_seen_at, removed_at)
         SELECT $1, rule_id, text, hint, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ, NULL FROM incoming_rules
         ON CONFLICT (instance, rule_id) DO UPDATE SET text = excluded.text, hint = excluded.hint,
           last_seen_at = excluded.last_seen_at, removed_at = NULL`,
        [instance, ts]
      );
      await db.run('DROP TABLE incoming_rules');
    }
    await db.run(
      `UPDATE instance_rules SET removed_at = $2::TIMESTAMPTZ
       WHERE instance = $1 AND removed_at IS NULL AND list_position(from_json($3::JSON, '["VARCHAR"]'), rule_id) IS NULL`,
      [instance, ts, `[${rules.map((r) => JSON.stringify(r.id)).join(',')}]`]
    );
  });
}

/** A dimension as of one day replaces that day's earlier answer (a top-N list may have changed). */
export async function replaceDimensionDay(
  db: Db,
  instance: string,
  day: string,
  dims: Map<string, DimensionItem[]>,
  at: Date
): Promise<number> {
  // The first item of a key counts (a repeated key is the server's mistake); one statement per table.
  const rows: Cell[][] = [];
  for (const [dimension, items] of dims) {
    const seen = new Set<string>();
    for (const i of items) {
      if (seen.has(i.key)) continue;
      seen.add(i.key);
      rows.push([dimension, i.key, i.humanKey, i.value, i.unit, i.humanValue]);
    }
  }
  if (dims.size === 0) return 0;
  await db.transaction(async () => {
    await db.run(
      `DELETE FROM dimension_days WHERE instance = $1 AND day = $2::DATE
       AND list_contains(from_json($3::JSON, '["VARCHAR"]'), dimension)`,
      [instance, day, JSON.stringify([...dims.keys()])]
    );
    if (rows.length === 0) return;
    await stage(
      db,
      'incoming_dimensions',
      'dimension VARCHAR, key VARCHAR, human_key VARCHAR, value DOUBLE, unit VARCHAR, human_value VARCHAR',
      rows
    );
    await db.run(
      `INSERT INTO dimension_days (instance, day, dimension, key, human_key, value, unit, human_value, observed_at)
       SELECT $1, $2::DATE, dimension, key, human_key, value, unit, human_value, $3::TIMESTAMPTZ FROM incoming_dimensions`,
      [instance, day, at.toISOString()]
    );
    await db.run('DROP TABLE incoming_dimensions');
  });
  return rows.length;
}

type Cell = string | number | boolean | null;

/** Bulk rows into a temp table through DuckDB's appender (one INSERT per row is ~1000x slower). */
async function stage(db: Db, table: string, columns: string, rows: Cell[][]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE ${table} (${columns})`);
  const app = await db.conn.createAppender(table, 'main', 'temp');
  for (const row of rows) {
    for (const v of row) {
      if (v === null) app.appendNull();
      else if (typeof v === 'boolean') app.appendBoolean(v);
      else if (typeof v === 'number') app.appendDouble(v);
      else app.appendVarchar(v);
    }
    app.endRow();
  }
  app.closeSync();
}

/**
 * first_assigned_seen_at is set once, by the first collection that sees an assignee, and never moved. A report
 * already assigned when first seen gets it only when it was filed after `previousAt` (the previous collection
 * of reports: no earlier one could have seen it); otherwise its assignment time is unknown and stays NULL.
 * `previousAt` undefined: the last time any report of this instance was seen before `at`.
 */
export async function upsertReports(
  db: Db,
  instance: string,
  reports: ReportRecord[],
  at: Date,
  previousAt?: Date | null
): Promise<void> {
  if (reports.length === 0) return;
  const unique = [...new Map(reports.map((r) => [r.reportId, r])).values()];
  const previous =
    previousAt === undefined
      ? await lastReportSighting(db, instance, at)
      : (previousAt?.toISOString() ?? null);
  await db.transaction(async () => {
    await stage(
      db,
      'incoming_reports',
      `report_id VARCHAR, category VARCHAR, created_at VARCHAR, updated_at VARCHAR, action_taken BOOLEAN,
       action_taken_at VARCHAR, forwarded BOOLEAN, target_origin VARCHAR, target_domain VARCHAR,
       reporter_domain VARCHAR, assigned_account_id VARCHAR, rule_ids VARCHAR`,
      unique.map((r) => [
        r.reportId,
        r.category,
        r.createdAt,
        r.updatedAt,
        r.actionTaken,
        r.actionTakenAt,
        r.forwarded,
        r.targetOrigin,
        r.targetDomain,
        r.reporterDomain,
        r.assignedAccountId,
        JSON.stringify(r.ruleIds)
      ])
    );
    await db.run(
      `INSERT INTO report_records (instance, report_id, category, created_at, updated_at, action_taken, action_taken_at,
         forwarded, target_origin, target_domain, reporter_domain, assigned_account_id, first_assigned_seen_at,
         rule_ids, first_seen_at, last_seen_at)
       SELECT $1, report_id, category, created_at::TIMESTAMPTZ, updated_at::TIMESTAMPTZ, action_taken,
         action_taken_at::TIMESTAMPTZ, forwarded, target_origin, target_domain, reporter_domain, assigned_account_id,
         CASE WHEN assigned_account_id IS NOT NULL AND created_at::TIMESTAMPTZ >= $3::TIMESTAMPTZ
              THEN $2::TIMESTAMPTZ END,
         from_json(rule_ids::JSON, '["VARCHAR"]'), $2::TIMESTAMPTZ, $2::TIMESTAMPTZ
       FROM incoming_reports
       ON CONFLICT (instance, report_id) DO UPDATE SET category = excluded.category, updated_at = excluded.updated_at,
         action_taken = excluded.action_taken, action_taken_at = excluded.action_taken_at,
         forwarded = excluded.forwarded, target_origin = excluded.target_origin,
         target_domain = excluded.target_domain, reporter_domain = excluded.reporter_domain,
         assigned_account_id = excluded.assigned_account_id,
         -- seen before: an assignee appearing now was assigned since the last sighting
         first_assigned_seen_at = CASE WHEN report_records.first_assigned_seen_at IS NOT NULL
              THEN report_records.first_assigned_seen_at
              WHEN excluded.assigned_account_id IS NOT NULL AND report_records.assigned_account_id IS NULL
              THEN excluded.last_seen_at END,
         rule_ids = excluded.rule_ids, last_seen_at = excluded.last_seen_at`,
      [instance, at.toISOString(), previous ?? 'infinity']
    );
    await db.run('DROP TABLE incoming_reports');
  });
}

/** When a report of this instance was last seen before `at` (ISO), or null when never. */
export async function lastReportSighting(db: Db, instance: string, at: Date): Promise<string | null> {
  const row = await db.one<{ t: string | null }>(
    `SELECT CAST(max(last_seen_at) AS VARCHAR) AS t FROM report_records WHERE instance = $1 AND last_seen_at < $2::TIMESTAMPTZ`,
    [instance, at.toISOString()]
  );
  return row?.t ? new Date(row.t).toISOString() : null;
}

/**
 * Retention is kept as a change log: a cell is stored when its value differs from the last one kept, stamped
 * with when it was first seen. Re-runs add nothing; the value in force at a period's end stays findable.
 */
export async function recordRetention(
  db: Db,
  instance: string,
  cells: CohortCell[],
  at: Date
): Promise<number> {
  if (cells.length === 0) return 0;
  return db.transaction(async () => {
    await db.run(
      `CREATE OR REPLACE TEMP TABLE incoming_cells (frequency VARCHAR, cohort VARCHAR, period_index INTEGER,
         period_start VARCHAR, users INTEGER, rate DOUBLE)`
    );
    const app = await db.conn.createAppender('incoming_cells', 'main', 'temp');
    for (const c of cells) {
      app.appendVarchar(c.frequency);
      app.appendVarchar(c.cohort);
      app.appendInteger(c.periodIndex);
      app.appendVarchar(c.periodStart);
      app.appendInteger(c.users);
      app.appendDouble(c.rate);
      app.endRow();
    }
    app.closeSync();
    const rows = await db.all(
      `INSERT INTO retention_observations (instance, frequency, cohort, period_index, period_start, users, rate, observed_at)
       SELECT $1, i.frequency, i.cohort::DATE, i.period_index, i.period_start::DATE, i.users, i.rate, $2::TIMESTAMPTZ
       FROM (SELECT DISTINCT * FROM incoming_cells) i
       LEFT JOIN (
         SELECT frequency, cohort, period_index, arg_max(users, observed_at) AS users, arg_max(rate, observed_at) AS rate
         FROM retention_observations WHERE instance = $1
           AND EXISTS (SELECT 1 FROM incoming_cells c
                       WHERE c.frequency = retention_observations.frequency AND c.cohort::DATE = retention_observations.cohort)
         GROUP BY ALL
       ) l ON l.frequency = i.frequency AND l.cohort = i.cohort::DATE AND l.period_index = i.period_index
       WHERE l.users IS NULL OR l.users <> i.users OR l.rate <> i.rate
       RETURNING 1 AS n`,
      [instance, at.toISOString()]
    );
    // Which cohorts Mastodon still reports: a capped server (4.4.21, 4.5.14, 4.6.4) stops reporting old ones
    await db.run(
      `INSERT INTO retention_reported (instance, frequency, cohort, last_reported_at)
       SELECT DISTINCT $1, frequency, cohort::DATE, $2::TIMESTAMPTZ FROM incoming_cells
       ON CONFLICT (instance, frequency, cohort) DO UPDATE
         SET last_reported_at = greatest(retention_reported.last_reported_at, excluded.last_reported_at)`,
      [instance, at.toISOString()]
    );
    await db.run('DROP TABLE incoming_cells');
    return rows.length;
  });
}

interface BlockRow {
  domain: string;
  severity: string | null;
  reject_media: boolean | null;
  reject_reports: boolean | null;
  public_comment: string | null;
  obfuscate: boolean | null;
  removed_at: unknown;
}

/** Admin domain blocks: state per domain plus an event for every addition, change and removal seen. */
export async function syncAdminDomainBlocks(
  db: Db,
  instance: string,
  blocks: AdminDomainBlock[],
  at: Date
): Promise<{ added: number; changed: number; removed: number }> {
  const ts = at.toISOString();
  const out = { added: 0, changed: 0, removed: 0 };
  await db.transaction(async () => {
    const current = new Map(
      (
        await db.all<BlockRow>(
          `SELECT domain, severity, reject_media, reject_reports, public_comment, obfuscate, removed_at
           FROM domain_block_state WHERE instance = $1`,
          [instance]
        )
      ).map((r) => [r.domain, r])
    );
    // Compared in memory, written in one statement per kind (a list of hundreds of blocks is one commit).
    const events: Cell[][] = [];
    const event = (b: { domain: string } & Partial<AdminDomainBlock>, kind: string) =>
      events.push([
        b.domain,
        kind,
        b.severity ?? null,
        b.rejectMedia ?? null,
        b.rejectReports ?? null,
        b.publicComment ?? null
      ]);
    const row = (b: AdminDomainBlock): Cell[] => [
      b.domain,
      b.digest,
      b.severity,
      b.rejectMedia,
      b.rejectReports,
      b.publicComment,
      b.obfuscate,
      b.createdAt
    ];
    const added: Cell[][] = [];
    const kept: Cell[][] = [];
    const seen = new Set<string>();
    for (const b of blocks) {
      if (seen.has(b.domain)) continue;
      seen.add(b.domain);
      const cur = current.get(b.domain);
      if (!cur || cur.removed_at !== null) {
        added.push(row(b));
        event(b, 'added');
        out.added++;
        continue;
      }
      kept.push(row(b));
      const changed =
        cur.severity !== b.severity ||
        cur.reject_media !== b.rejectMedia ||
        cur.reject_reports !== b.rejectReports ||
        cur.public_comment !== b.publicComment ||
        cur.obfuscate !== b.obfuscate;
      if (changed) {
        event(b, 'changed');
        out.changed++;
      }
    }
    const gone = [...current].filter(([domain, cur]) => !seen.has(domain) && cur.removed_at === null);
    for (const [domain] of gone) {
      event({ domain }, 'removed');
      out.removed++;
    }
    const columns = `domain VARCHAR, digest VARCHAR, severity VARCHAR, reject_media BOOLEAN, reject_reports BOOLEAN,
      public_comment VARCHAR, obfuscate BOOLEAN, created_at VARCHAR`;
    if (added.length > 0) {
      await stage(db, 'incoming_blocks', columns, added);
      await db.run(
        `INSERT INTO domain_block_state (instance, domain, digest, severity, reject_media, reject_reports, public_comment,
           obfuscate, first_seen_at, last_seen_at, removed_at, created_at)
         SELECT $1, domain, digest, severity, reject_media, reject_reports, public_comment, obfuscate,
           $2::TIMESTAMPTZ, $2::TIMESTAMPTZ, NULL, created_at::TIMESTAMPTZ FROM incoming_blocks
         ON CONFLICT (instance, domain) DO UPDATE SET digest = excluded.digest, severity = excluded.severity,
           reject_media = excluded.reject_media, reject_reports = excluded.reject_reports,
           public_comment = excluded.public_comment, obfuscate = excluded.obfuscate,
           first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at, removed_at = NULL,
           created_at = excluded.created_at`,
        [instance, ts]
      );
      await db.run('DROP TABLE incoming_blocks');
    }
    if (kept.length > 0) {
      await stage(db, 'incoming_blocks', columns, kept);
      await db.run(
        `UPDATE domain_block_state s SET digest = i.digest, severity = i.severity, reject_media = i.reject_media,
           reject_reports = i.reject_reports, public_comment = i.public_comment, obfuscate = i.obfuscate,
           last_seen_at = $2::TIMESTAMPTZ, created_at = coalesce(i.created_at::TIMESTAMPTZ, s.created_at)
         FROM incoming_blocks i WHERE s.instance = $1 AND s.domain = i.domain`,
        [instance, ts]
      );
      await db.run('DROP TABLE incoming_blocks');
    }
    if (gone.length > 0)
      await db.run(
        `UPDATE domain_block_state SET removed_at = $2::TIMESTAMPTZ
         WHERE instance = $1 AND list_contains(from_json($3::JSON, '["VARCHAR"]'), domain)`,
        [instance, ts, JSON.stringify(gone.map(([domain]) => domain))]
      );
    if (events.length > 0) {
      await stage(
        db,
        'incoming_block_events',
        `domain VARCHAR, event VARCHAR, severity VARCHAR, reject_media BOOLEAN, reject_reports BOOLEAN,
         public_comment VARCHAR`,
        events
      );
      await db.run(
        `INSERT INTO domain_block_events (instance, domain, event_at, event, severity, reject_media, reject_reports, public_comment)
         SELECT $1, domain, $2::TIMESTAMPTZ, event, severity, reject_media, reject_reports, public_comment
         FROM incoming_block_events ON CONFLICT DO NOTHING`,
        [instance, ts]
      );
      await db.run('DROP TABLE incoming_block_events');
    }
  });
  return out;
}

/** The public list (what members and peers see), keyed by digest since names may be obfuscated. */
export async function syncPublicDomainBlocks(
  db: Db,
  instance: string,
  blocks: PublicDomainBlock[],
  at: Date
): Promise<void> {
  const ts = at.toISOString();
  // The first entry of a digest counts; one statement for the list.
  const unique = [...new Map(blocks.map((b) => [b.digest, b] as const).reverse()).values()];
  const seen = new Set(unique.map((b) => b.digest));
  await db.transaction(async () => {
    if (unique.length > 0) {
      await stage(
        db,
        'incoming_public_blocks',
        'digest VARCHAR, domain VARCHAR, severity VARCHAR, comment VARCHAR',
        unique.map((b) => [b.digest, b.domain, b.severity, b.comment])
      );
      await db.run(
        `INSERT INTO public_domain_blocks (instance, digest, domain, severity, comment, first_seen_at, last_seen_at, removed_at)
         SELECT $1, digest, domain, severity, comment, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ, NULL FROM incoming_public_blocks
         ON CONFLICT (instance, digest) DO UPDATE SET domain = excluded.domain, severity = excluded.severity,
           comment = excluded.comment, last_seen_at = excluded.last_seen_at, removed_at = NULL`,
        [instance, ts]
      );
      await db.run('DROP TABLE incoming_public_blocks');
    }
    await db.run(
      `UPDATE public_domain_blocks SET removed_at = $2::TIMESTAMPTZ
       WHERE instance = $1 AND removed_at IS NULL AND list_position(from_json($3::JSON, '["VARCHAR"]'), digest) IS NULL`,
      [instance, ts, `[${[...seen].map((d) => JSON.stringify(d)).join(',')}]`]
    );
  });
}

export interface PeerMeasureValue {
  domain: string;
  day: string;
  metric: string;
  value: number;
  total: number | null;
}

export async function upsertPeerMeasures(
  db: Db,
  instance: string,
  rows: PeerMeasureValue[],
  at: Date
): Promise<void> {
  if (rows.length === 0) return;
  const unique = [...new Map(rows.map((r) => [`${r.domain} ${r.day} ${r.metric}`, r])).values()];
  await db.transaction(async () => {
    await stage(
      db,
      'incoming_peer_measures',
      'domain VARCHAR, day VARCHAR, metric VARCHAR, value DOUBLE, total DOUBLE',
      unique.map((r) => [r.domain, r.day, r.metric, r.value, r.total])
    );
    await db.run(
      `INSERT INTO peer_measure_days (instance, domain, day, metric, value, total, observed_at)
       SELECT $1, domain, day::DATE, metric, value, total, $2::TIMESTAMPTZ FROM incoming_peer_measures
       ON CONFLICT (instance, domain, day, metric) DO UPDATE SET value = excluded.value, total = excluded.total,
         observed_at = excluded.observed_at`,
      [instance, at.toISOString()]
    );
    await db.run('DROP TABLE incoming_peer_measures');
  });
}
