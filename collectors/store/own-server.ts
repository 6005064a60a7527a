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
  await db.transaction(async () => {
    for (const w of weeks) {
      await db.run(
        `INSERT INTO activity_weeks (instance, week_start, statuses, logins, registrations, observed_at)
         VALUES ($1, $2::TIMESTAMPTZ, $3, $4, $5, $6::TIMESTAMPTZ)
         ON CONFLICT (instance, week_start) DO UPDATE SET statuses = excluded.statuses, logins = excluded.logins,
           registrations = excluded.registrations, observed_at = excluded.observed_at`,
        [instance, w.weekStart, w.statuses, w.logins, w.registrations, at.toISOString()]
      );
    }
  });
}

export async function syncRules(db: Db, instance: string, rules: Rule[], at: Date): Promise<void> {
  const ts = at.toISOString();
  await db.transaction(async () => {
    for (const r of rules) {
      await db.run(
        `INSERT INTO instance_rules (instance, rule_id, text, hint, first_seen_at, last_seen_at, removed_at)
         VALUES ($1, $2, $3, $4, $5::TIMESTAMPTZ, $5::TIMESTAMPTZ, NULL)
         ON CONFLICT (instance, rule_id) DO UPDATE SET text = excluded.text, hint = excluded.hint,
           last_seen_at = excluded.last_seen_at, removed_at = NULL`,
        [instance, r.id, r.text, r.hint, ts]
      );
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
  let n = 0;
  await db.transaction(async () => {
    for (const [dimension, items] of dims) {
      await db.run('DELETE FROM dimension_days WHERE instance = $1 AND day = $2::DATE AND dimension = $3', [
        instance,
        day,
        dimension
      ]);
      const seen = new Set<string>();
      for (const i of items) {
        if (seen.has(i.key)) continue;
        seen.add(i.key);
        await db.run(
          `INSERT INTO dimension_days (instance, day, dimension, key, human_key, value, unit, human_value, observed_at)
           VALUES ($1, $2::DATE, $3, $4, $5, $6, $7, $8, $9::TIMESTAMPTZ)`,
          [instance, day, dimension, i.key, i.humanKey, i.value, i.unit, i.humanValue, at.toISOString()]
        );
        n++;
      }
    }
  });
  return n;
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

/** first_assigned_seen_at is set once, by the first collection that sees an assignee, and never moved. */
export async function upsertReports(
  db: Db,
  instance: string,
  reports: ReportRecord[],
  at: Date
): Promise<void> {
  if (reports.length === 0) return;
  const unique = [...new Map(reports.map((r) => [r.reportId, r])).values()];
  await db.transaction(async () => {
    await stage(
      db,
      'incoming_reports',
      `report_id VARCHAR, category VARCHAR, created_at VARCHAR, updated_at VARCHAR, action_taken BOOLEAN,
       action_taken_at VARCHAR, forwarded BOOLEAN, target_origin VARCHAR, target_domain VARCHAR,
       assigned_account_id VARCHAR, rule_ids VARCHAR`,
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
        r.assignedAccountId,
        JSON.stringify(r.ruleIds)
      ])
    );
    await db.run(
      `INSERT INTO report_records (instance, report_id, category, created_at, updated_at, action_taken, action_taken_at,
         forwarded, target_origin, target_domain, assigned_account_id, first_assigned_seen_at, rule_ids,
         first_seen_at, last_seen_at)
       SELECT $1, report_id, category, created_at::TIMESTAMPTZ, updated_at::TIMESTAMPTZ, action_taken,
         action_taken_at::TIMESTAMPTZ, forwarded, target_origin, target_domain, assigned_account_id,
         CASE WHEN assigned_account_id IS NULL THEN NULL ELSE $2::TIMESTAMPTZ END,
         from_json(rule_ids::JSON, '["VARCHAR"]'), $2::TIMESTAMPTZ, $2::TIMESTAMPTZ
       FROM incoming_reports
       ON CONFLICT (instance, report_id) DO UPDATE SET category = excluded.category, updated_at = excluded.updated_at,
         action_taken = excluded.action_taken, action_taken_at = excluded.action_taken_at,
         forwarded = excluded.forwarded, target_origin = excluded.target_origin,
         target_domain = excluded.target_domain, assigned_account_id = excluded.assigned_account_id,
         first_assigned_seen_at = coalesce(report_records.first_assigned_seen_at, excluded.first_assigned_seen_at),
         rule_ids = excluded.rule_ids, last_seen_at = excluded.last_seen_at`,
      [instance, at.toISOString()]
    );
    await db.run('DROP TABLE incoming_reports');
  });
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
         FROM retention_observations WHERE instance = $1 GROUP BY ALL
       ) l ON l.frequency = i.frequency AND l.cohort = i.cohort::DATE AND l.period_index = i.period_index
       WHERE l.users IS NULL OR l.users <> i.users OR l.rate <> i.rate
       RETURNING 1 AS n`,
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
    const event = (b: { domain: string } & Partial<AdminDomainBlock>, kind: string) =>
      db.run(
        `INSERT INTO domain_block_events (instance, domain, event_at, event, severity, reject_media, reject_reports, public_comment)
         VALUES ($1, $2, $3::TIMESTAMPTZ, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [
          instance,
          b.domain,
          ts,
          kind,
          b.severity ?? null,
          b.rejectMedia ?? null,
          b.rejectReports ?? null,
          b.publicComment ?? null
        ]
      );
    const seen = new Set<string>();
    for (const b of blocks) {
      if (seen.has(b.domain)) continue;
      seen.add(b.domain);
      const cur = current.get(b.domain);
      const params = [
        instance,
        b.domain,
        b.digest,
        b.severity,
        b.rejectMedia,
        b.rejectReports,
        b.publicComment,
        b.obfuscate,
        ts,
        b.createdAt
      ];
      if (!cur || cur.removed_at !== null) {
        await db.run(
          `INSERT INTO domain_block_state (instance, domain, digest, severity, reject_media, reject_reports, public_comment,
             obfuscate, first_seen_at, last_seen_at, removed_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::TIMESTAMPTZ, $9::TIMESTAMPTZ, NULL, $10::TIMESTAMPTZ)
           ON CONFLICT (instance, domain) DO UPDATE SET digest = excluded.digest, severity = excluded.severity,
             reject_media = excluded.reject_media, reject_reports = excluded.reject_reports,
             public_comment = excluded.public_comment, obfuscate = excluded.obfuscate,
             first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at, removed_at = NULL,
             created_at = excluded.created_at`,
          params
        );
        await event(b, 'added');
        out.added++;
        continue;
      }
      const changed =
        cur.severity !== b.severity ||
        cur.reject_media !== b.rejectMedia ||
        cur.reject_reports !== b.rejectReports ||
        cur.public_comment !== b.publicComment ||
        cur.obfuscate !== b.obfuscate;
      await db.run(
        `UPDATE domain_block_state SET digest = $3, severity = $4, reject_media = $5, reject_reports = $6,
           public_comment = $7, obfuscate = $8, last_seen_at = $9::TIMESTAMPTZ,
           created_at = coalesce($10::TIMESTAMPTZ, created_at)
         WHERE instance = $1 AND domain = $2`,
        params
      );
      if (changed) {
        await event(b, 'changed');
        out.changed++;
      }
    }
    for (const [domain, cur] of current) {
      if (seen.has(domain) || cur.removed_at !== null) continue;
      await db.run(
        `UPDATE domain_block_state SET removed_at = $3::TIMESTAMPTZ WHERE instance = $1 AND domain = $2`,
        [instance, domain, ts]
      );
      await event({ domain }, 'removed');
      out.removed++;
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
  await db.transaction(async () => {
    const seen = new Set<string>();
    for (const b of blocks) {
      if (seen.has(b.digest)) continue;
      seen.add(b.digest);
      await db.run(
        `INSERT INTO public_domain_blocks (instance, digest, domain, severity, comment, first_seen_at, last_seen_at, removed_at)
         VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMPTZ, $6::TIMESTAMPTZ, NULL)
         ON CONFLICT (instance, digest) DO UPDATE SET domain = excluded.domain, severity = excluded.severity,
           comment = excluded.comment, last_seen_at = excluded.last_seen_at, removed_at = NULL`,
        [instance, b.digest, b.domain, b.severity, b.comment, ts]
      );
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
