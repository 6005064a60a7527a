import { createHash } from 'node:crypto';
import type { DuckDBAppender } from '@duckdb/node-api';
import { cleanText } from '../json.ts';
import { storedNodeinfoText } from '../peers/redact.ts';
import type { Db } from './database.ts';

export const OUTCOMES = [
  'ok',
  'unreachable',
  'timeout',
  'tls_error',
  'http_error',
  'not_json',
  'invalid',
  'too_large',
  'redirect_refused',
  'refused_address',
  'robots_disallowed',
  'gone'
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One crawl of one peer: what peer_obs stores, plus the host's next state. */
export interface PeerObservation {
  domain: string;
  observedAt: Date;
  crawlDay: string;
  outcome: Outcome;
  httpStatus: number | null;
  software: string | null;
  softwareVersion: string | null;
  usersTotal: number | null;
  usersActiveMonth: number | null;
  usersActiveHalfyear: number | null;
  localPosts: number | null;
  openRegistrations: boolean | null;
  suspectReasons: string[];
  nodeinfoVersion: string | null;
  nodeinfoUrl: string | null;
  nodeName: string | null;
  quirks: string[];
  error: string | null;
  /** The NodeInfo document (JSON text); stored only as redacted by storedNodeinfoText (peers/redact.ts). */
  raw: string | null;
  /** rawHash() of the host's previous document: the same text is not stored again. */
  prevRawHash: string | null;
  instanceApi: string | null;
  instanceTitle: string | null;
  instanceVersion: string | null;
  instanceUserCount: number | null;
  instanceActiveMonth: number | null;
  limit: { severity: string; matchedBy: 'domain' | 'digest'; comment: string | null } | null;
  /** Host state after this observation. */
  hostState: 'ok' | 'failing' | 'gone' | 'robots';
  consecutiveFailures: number;
  nextAttemptAt: Date | null;
}

/** A row of the work list: a domain due for a crawl, with what we remember of it. */
export interface WorkItem {
  domain: string;
  failures: number;
  lastUsersTotal: number | null;
  lastRawHash?: string | null;
  inPeersList: boolean;
}

const COLS = `run_id INTEGER, domain VARCHAR, observed_at VARCHAR, crawl_day VARCHAR, outcome VARCHAR,
  http_status INTEGER, software VARCHAR, software_version VARCHAR, users_total BIGINT, users_active_month BIGINT,
  users_active_halfyear BIGINT, local_posts BIGINT, open_registrations BOOLEAN, suspect BOOLEAN,
  suspect_reasons VARCHAR, nodeinfo_version VARCHAR, nodeinfo_url VARCHAR, node_name VARCHAR, quirks VARCHAR,
  error VARCHAR, raw_hash VARCHAR, raw VARCHAR, instance_api VARCHAR, instance_title VARCHAR, instance_version VARCHAR,
  instance_user_count BIGINT, instance_active_month BIGINT, limit_severity VARCHAR, limit_matched_by VARCHAR,
  limit_comment VARCHAR, host_state VARCHAR, failures INTEGER, next_attempt_at VARCHAR`;

function str(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}
function big(a: DuckDBAppender, v: number | null): void {
  if (v === null || !Number.isSafeInteger(v)) a.appendNull();
  else a.appendBigInt(BigInt(v));
}
function int(a: DuckDBAppender, v: number | null): void {
  if (v === null || !Number.isInteger(v)) a.appendNull();
  else a.appendInteger(v);
}
function bool(a: DuckDBAppender, v: boolean | null): void {
  if (v === null) a.appendNull();
  else a.appendBoolean(v);
}

/** Quirks (and suspect reasons) stored per observation, and characters kept of each: peer text is unbounded. */
export const MAX_QUIRKS = 20;
export const MAX_QUIRK_CHARS = 200;

/** A list of peer-derived notes as stored: at most MAX_QUIRKS entries of MAX_QUIRK_CHARS, or null if empty. */
export function notesText(list: string[]): string | null {
  if (list.length === 0) return null;
  const kept = list.slice(0, MAX_QUIRKS).map((q) => cleanText(q, MAX_QUIRK_CHARS));
  if (list.length > MAX_QUIRKS) kept.push(`… ${list.length - MAX_QUIRKS} more`);
  return kept.join('; ');
}

/** Roughly what an observation holds in memory, in characters of peer text (plus a fixed overhead). */
export function observationSize(o: PeerObservation): number {
  let n = 512 + (o.raw?.length ?? 0) + (o.error?.length ?? 0) + (o.limit?.comment?.length ?? 0);
  for (const q of o.quirks) n += q.length;
  for (const q of o.suspectReasons) n += q.length;
  return n;
}

/**
 * Observations waiting for the writer: full at `maxRows`, or earlier at `maxSize` characters, so 500 hosts
 * that each served a document near the body cap never sit in memory together.
 */
export class ObservationBatch {
  rows: PeerObservation[] = [];
  size = 0;
  readonly maxRows: number;
  readonly maxSize: number;
  constructor(maxRows: number, maxSize: number) {
    this.maxRows = maxRows;
    this.maxSize = maxSize;
  }
  /** Adds one; true when the batch should now be written. */
  add(o: PeerObservation): boolean {
    this.rows.push(o);
    this.size += observationSize(o);
    return this.full;
  }
  get full(): boolean {
    return this.rows.length >= this.maxRows || this.size >= this.maxSize;
  }
  /** The rows so far; the batch starts empty again. */
  take(): PeerObservation[] {
    const rows = this.rows;
    this.rows = [];
    this.size = 0;
    return rows;
  }
}

/** Key of a raw document in peer_raw_docs: the first 128 bits of its SHA-256, hex. */
export function rawHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * Writes observations in batches through the DuckDB appender: observations, host state and limit findings
 * of a batch land in one transaction, so a kill -9 loses at most the unflushed batch (re-crawled on resume)
 * and never leaves an observation without its host state.
 */
export async function writeObservations(db: Db, runId: number, batch: PeerObservation[]): Promise<void> {
  if (batch.length === 0) return;
  await db.transaction(async () => {
    // A fresh staging table per batch: DELETE would leave the old rows' storage in the temp database.
    await db.run(`CREATE OR REPLACE TEMP TABLE peer_obs_in (${COLS})`);
    const a = await db.conn.createAppender('peer_obs_in', 'main', 'temp');
    // A document goes in only when it is not the host's previous one, and once per batch.
    const docs = new Set<string>();
    for (const o of batch) {
      a.appendInteger(runId);
      a.appendVarchar(o.domain);
      a.appendVarchar(o.observedAt.toISOString());
      a.appendVarchar(o.crawlDay);
      a.appendVarchar(o.outcome);
      int(a, o.httpStatus);
      str(a, o.software);
      str(a, o.softwareVersion);
      big(a, o.usersTotal);
      big(a, o.usersActiveMonth);
      big(a, o.usersActiveHalfyear);
      big(a, o.localPosts);
      bool(a, o.openRegistrations);
      a.appendBoolean(o.suspectReasons.length > 0);
      str(a, notesText(o.suspectReasons));
      str(a, o.nodeinfoVersion);
      str(a, o.nodeinfoUrl);
      str(a, o.nodeName);
      str(a, notesText(o.quirks));
      str(a, o.error);
      // Redacted here too, whoever built the observation: no other server's lists reach the database.
      const raw = o.raw === null ? null : storedNodeinfoText(o.raw);
      const hash = raw === null ? null : rawHash(raw);
      str(a, hash);
      const store = hash !== null && hash !== o.prevRawHash && !docs.has(hash);
      str(a, store ? raw : null);
      if (store) docs.add(hash);
      str(a, o.instanceApi);
      str(a, o.instanceTitle);
      str(a, o.instanceVersion);
      big(a, o.instanceUserCount);
      big(a, o.instanceActiveMonth);
      str(a, o.limit?.severity ?? null);
      str(a, o.limit?.matchedBy ?? null);
      str(a, o.limit?.comment ?? null);
      a.appendVarchar(o.hostState);
      a.appendInteger(o.consecutiveFailures);
      str(a, o.nextAttemptAt ? o.nextAttemptAt.toISOString() : null);
      a.endRow();
    }
    a.closeSync();
    if (docs.size > 0)
      await db.run(
        `INSERT INTO peer_raw_docs (hash, raw) SELECT raw_hash, raw::JSON FROM peer_obs_in WHERE raw IS NOT NULL`
      );
    await db.run(
      `INSERT INTO peer_obs (run_id, domain, observed_at, crawl_day, outcome, http_status, software, software_version,
         users_total, users_active_month, users_active_halfyear, local_posts, open_registrations, suspect,
         suspect_reasons, nodeinfo_version, nodeinfo_url, node_name, quirks, error, raw_hash, instance_api,
         instance_title, instance_version, instance_user_count, instance_active_month)
       SELECT run_id, domain, observed_at::TIMESTAMPTZ, crawl_day::DATE, outcome, http_status, software,
         software_version, users_total, users_active_month, users_active_halfyear, local_posts, open_registrations,
         suspect, suspect_reasons, nodeinfo_version, nodeinfo_url, node_name, quirks, error, raw_hash,
         instance_api, instance_title, instance_version, instance_user_count, instance_active_month
       FROM peer_obs_in
       ON CONFLICT (run_id, domain) DO NOTHING`
    );
    await db.run(
      `INSERT INTO peer_limit_obs (run_id, peer_domain, observed_at, severity, matched_by, comment)
       SELECT run_id, domain, observed_at::TIMESTAMPTZ, limit_severity, limit_matched_by, limit_comment
       FROM peer_obs_in WHERE limit_severity IS NOT NULL
       ON CONFLICT (run_id, peer_domain) DO NOTHING`
    );
    await db.run(
      `INSERT INTO peer_hosts (domain, state, consecutive_failures, next_attempt_at, last_attempt_at, last_outcome,
         first_seen_at, last_users_total, last_ok_at, last_raw_hash)
       SELECT domain, host_state, failures, next_attempt_at::TIMESTAMPTZ, observed_at::TIMESTAMPTZ, outcome,
         observed_at::TIMESTAMPTZ,
         CASE WHEN outcome = 'ok' THEN users_total END,
         CASE WHEN outcome = 'ok' THEN observed_at::TIMESTAMPTZ END, raw_hash
       FROM peer_obs_in
       ON CONFLICT (domain) DO UPDATE SET
         state = excluded.state,
         consecutive_failures = excluded.consecutive_failures,
         next_attempt_at = excluded.next_attempt_at,
         last_attempt_at = excluded.last_attempt_at,
         last_outcome = excluded.last_outcome,
         last_users_total = coalesce(excluded.last_users_total, peer_hosts.last_users_total),
         last_ok_at = coalesce(excluded.last_ok_at, peer_hosts.last_ok_at),
         last_raw_hash = coalesce(excluded.last_raw_hash, peer_hosts.last_raw_hash)`
    );
    await db.run('DROP TABLE peer_obs_in');
  });
}

/**
 * writeObservations, for a crawl: a batch the database refuses is written again observation by observation,
 * and an observation it still refuses is replaced by `instead(o, error)` (the crawler's `invalid` outcome of
 * that host, without what the peer sent), so one host's data cannot end the crawl of the others. When even
 * that is refused, the database itself is the problem (disk full …) and the error is thrown.
 */
export async function writeObservationsOrFail(
  db: Db,
  runId: number,
  batch: PeerObservation[],
  instead: (o: PeerObservation, err: unknown) => PeerObservation
): Promise<void> {
  let refused: unknown;
  try {
    return await writeObservations(db, runId, batch);
  } catch (err) {
    refused = err;
  }
  for (const o of batch) {
    if (batch.length > 1) {
      try {
        await writeObservations(db, runId, [o]);
        continue;
      } catch (err) {
        refused = err;
      }
    }
    await writeObservations(db, runId, [instead(o, refused)]);
  }
}

/**
 * The work list, one page at a time (keyset on domain, so memory stays flat at 100,000 peers): every domain of
 * the peers list or the seed list that is due — not gone, not backed off, not already crawled this crawl day.
 */
export async function workPage(
  db: Db,
  after: string,
  now: Date,
  crawlDay: string,
  limit: number
): Promise<WorkItem[]> {
  return db.all<WorkItem>(
    `WITH wanted AS (
       SELECT domain, bool_or(in_list) AS in_list FROM (
         SELECT domain, in_peers_list AS in_list FROM known_peers WHERE in_peers_list
         UNION ALL SELECT domain, false FROM temp.main.peer_seeds
       ) GROUP BY domain
     )
     SELECT w.domain, coalesce(h.consecutive_failures, 0) AS failures, h.last_users_total AS "lastUsersTotal",
            h.last_raw_hash AS "lastRawHash",
            w.in_list AS "inPeersList"
     FROM wanted w LEFT JOIN peer_hosts h USING (domain)
     WHERE w.domain > $1
       AND (h.domain IS NULL OR (h.state <> 'gone' AND (h.next_attempt_at IS NULL OR h.next_attempt_at <= $2::TIMESTAMPTZ)))
       AND NOT EXISTS (SELECT 1 FROM peer_obs o WHERE o.domain = w.domain AND o.crawl_day = $3::DATE)
     ORDER BY w.domain LIMIT $4`,
    [after, now.toISOString(), crawlDay, limit]
  );
}

/** Seeds from config live in a temp table for the run (they are not part of the own peers list). */
export async function loadSeeds(db: Db, seeds: string[]): Promise<void> {
  await db.run('CREATE OR REPLACE TEMP TABLE peer_seeds (domain VARCHAR PRIMARY KEY)');
  if (seeds.length === 0) return;
  const a = await db.conn.createAppender('peer_seeds', 'main', 'temp');
  for (const s of seeds) {
    a.appendVarchar(s);
    a.endRow();
  }
  a.closeSync();
}

export async function countDue(db: Db, now: Date, crawlDay: string): Promise<number> {
  const r = await db.one<{ n: number }>(
    `SELECT count(*) AS n FROM (
       SELECT domain FROM known_peers WHERE in_peers_list UNION SELECT domain FROM temp.main.peer_seeds
     ) w LEFT JOIN peer_hosts h USING (domain)
     WHERE (h.domain IS NULL OR (h.state <> 'gone' AND (h.next_attempt_at IS NULL OR h.next_attempt_at <= $1::TIMESTAMPTZ)))
       AND NOT EXISTS (SELECT 1 FROM peer_obs o WHERE o.domain = w.domain AND o.crawl_day = $2::DATE)`,
    [now.toISOString(), crawlDay]
  );
  return r?.n ?? 0;
}

/** Fills the crawl list from the own server's peers list when nothing else has (first run, peers-only). */
export async function seedKnownPeers(db: Db, domains: string[], now: Date): Promise<void> {
  await db.transaction(async () => {
    await db.run('CREATE OR REPLACE TEMP TABLE known_in (domain VARCHAR)');
    const a = await db.conn.createAppender('known_in', 'main', 'temp');
    for (const d of domains) {
      a.appendVarchar(d);
      a.endRow();
    }
    a.closeSync();
    await db.run(
      `INSERT INTO known_peers (domain, source, first_seen_at, last_seen_at, in_peers_list)
       SELECT DISTINCT domain, 'peers_list', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ, true FROM known_in
       ON CONFLICT (domain) DO UPDATE SET last_seen_at = excluded.last_seen_at, in_peers_list = true`,
      [now.toISOString()]
    );
    await db.run('DROP TABLE known_in');
  });
}

/**
 * federation_daily for a crawl day: the one roll-up rule, for the crawler and for generated data alike.
 * - peers_known: domains in our own peers list on that day (first seen by the end of the day, and still in
 *   the list or last seen in it on or after that day), so the answer does not depend on when the roll-up runs;
 * - peers_reachable: the latest observation of each peer that crawl day (a resumed crawl spans two runs) is ok;
 * - reach: users and monthly active users summed over those, suspect numbers left out;
 * - federation_software_daily and federation_limits_daily: the software mix and the peers limiting us by
 *   severity, over the same latest observations (the macros of migration 010, which backfilled them with it).
 * So the federation page reads small rollups, never a range of raw observations.
 */
export async function rollupFederationDay(db: Db, crawlDay: string, runId: number): Promise<void> {
  await db.transaction(() => rollupDay(db, crawlDay, runId));
}

async function rollupDay(db: Db, crawlDay: string, runId: number): Promise<void> {
  await db.run(
    `INSERT INTO federation_days (day, run_id, peers_known, peers_reachable, reach_users, reach_active_month)
     WITH day_obs AS (SELECT * FROM peer_day_obs($1::DATE, $1::DATE))
     SELECT $1::DATE, $2,
       (SELECT count(*) FROM known_peers WHERE first_seen_at < $4::TIMESTAMPTZ
          AND (in_peers_list OR last_seen_at >= $3::TIMESTAMPTZ)),
       count(*) FILTER (WHERE outcome = 'ok'),
       coalesce(sum(users_total) FILTER (WHERE outcome = 'ok' AND NOT suspect), 0),
       coalesce(sum(users_active_month) FILTER (WHERE outcome = 'ok' AND NOT suspect), 0)
     FROM day_obs
     ON CONFLICT (day) DO UPDATE SET run_id = excluded.run_id, peers_known = excluded.peers_known,
       peers_reachable = excluded.peers_reachable, reach_users = excluded.reach_users,
       reach_active_month = excluded.reach_active_month`,
    // The day's bounds in UTC, whatever the session's time zone.
    [crawlDay, runId, `${crawlDay}T00:00:00Z`, new Date(Date.parse(crawlDay) + 86_400_000).toISOString()]
  );
  for (const table of ['federation_software_daily', 'federation_limits_daily']) {
    await db.run(`DELETE FROM ${table} WHERE day = $1::DATE`, [crawlDay]);
  }
  await db.run(
    `INSERT INTO federation_software_daily SELECT * FROM federation_software_rows($1::DATE, $1::DATE)`,
    [crawlDay]
  );
  await db.run(
    `INSERT INTO federation_limits_daily SELECT * FROM federation_limit_rows($1::DATE, $1::DATE)`,
    [crawlDay]
  );
}

export async function knownPeersCount(db: Db): Promise<number> {
  const r = await db.one<{ n: number }>('SELECT count(*) AS n FROM known_peers');
  return r?.n ?? 0;
}
