import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactPeerDocuments } from './migrations/006_redact_peer_documents.ts';

export type Params = DuckDBValue[] | Record<string, DuckDBValue>;
export type Row = Record<string, unknown>;

/** BIGINT arrives as bigint; everything here is well inside 2^53, so hand callers plain numbers. */
function plain(row: Record<string, unknown>): Row {
  for (const k in row) if (typeof row[k] === 'bigint') row[k] = Number(row[k]);
  return row;
}

/** A thin, parameterised wrapper over one DuckDB connection. */
export class Db {
  readonly instance: DuckDBInstance;
  readonly conn: DuckDBConnection;
  readonly path: string;
  constructor(instance: DuckDBInstance, conn: DuckDBConnection, file: string) {
    this.instance = instance;
    this.conn = conn;
    this.path = file;
  }
  async run(sql: string, params?: Params): Promise<void> {
    await this.conn.run(sql, params);
  }
  async all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, params);
    return reader.getRowObjectsJS().map(plain) as T[];
  }
  async one<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  private depth = 0;
  /**
   * Runs fn inside one transaction: all of it lands, or none of it. A call inside fn joins the transaction
   * already open (an error still rolls all of it back), so a caller can make several writers one commit:
   * bench/dataset.ts writes each generated collection run so.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) {
      this.depth++;
      try {
        return await fn();
      } finally {
        this.depth--;
      }
    }
    await this.conn.run('BEGIN TRANSACTION');
    this.depth = 1;
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      this.depth = 0;
    }
  }
  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export class DatabaseBusyError extends Error {}

/** Who holds the writer lock, written beside the database so a second collector can name it. */
export interface LockInfo {
  pid: number;
  kind: string;
  started_at: string;
}

const lockInfoPath = (dbPath: string) => `${dbPath}.collector.json`;

function describeHolder(dbPath: string, duckMessage: string): string {
  try {
    const info = JSON.parse(readFileSync(lockInfoPath(dbPath), 'utf8')) as LockInfo;
    return `a "${info.kind}" collection (PID ${info.pid}, started ${info.started_at})`;
  } catch {
    const pid = /PID (\d+)/.exec(duckMessage)?.[1];
    return pid ? `another process (PID ${pid})` : 'another process';
  }
}

export function isLockError(err: unknown): boolean {
  return err instanceof Error && /Could not set lock on file/i.test(err.message);
}

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * 009 repairs a database created before the baseline (001-005 as they are now; 002 and 003 were edited after
 * they shipped) and changes nothing on one created since. 006-008 assume the baseline, so 009 runs right
 * after 005 — on every database, so all of them see one order.
 */
const BASELINE_REPAIR = 9;
const BASELINE_LAST = 5;

/** The order migrations apply in: by number, except the baseline repair (see above). */
export function migrationOrder(files: string[]): string[] {
  const rank = (f: string) => {
    const v = Number(f.slice(0, 3));
    return v === BASELINE_REPAIR ? BASELINE_LAST + 0.5 : v;
  };
  return files.filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

/** Migrations that need code after their SQL (the .sql file says why), by version; same transaction. */
const MIGRATION_HOOKS: Record<number, (db: Db) => Promise<void>> = { 6: redactPeerDocuments };

/**
 * Versioned migrations: NNN_name.sql, applied in migrationOrder, each in its own transaction. A migration is
 * recorded by its number, so a shipped file must never change (tests/unit/migrations-frozen.test.ts).
 */
export async function migrate(db: Db): Promise<number> {
  await db.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
  );
  const done = new Set(
    (await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version)
  );
  const files = migrationOrder(readdirSync(MIGRATIONS_DIR));
  let applied = 0;
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (done.has(version)) continue;
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    await db.transaction(async () => {
      await db.run(sql);
      await MIGRATION_HOOKS[version]?.(db);
      await db.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, file]);
    });
    applied++;
  }
  return applied;
}

const WRITER_ALIAS = 'fedipulse';
const WRITER_ROW_GROUP_SIZE = 16_384;

/** A SQL string literal, for the one statement that cannot take parameters (ATTACH). */
function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Opens the database as its single writer. DuckDB refuses a second writer at once; we turn that
 * into an error that names the running collection instead of DuckDB's bare lock message.
 */
export async function openWriter(dbPath: string, kind: string): Promise<Db> {
  mkdirSync(path.dirname(dbPath), { recursive: true });
  // The file is attached to an in-memory instance because only ATTACH takes a row group size (it is not
  // stored in the file, so every writer opens it this way). DuckDB rewrites a table's last, growing row group
  // at each automatic checkpoint; at the default 122,880 rows that rewrite cost a 100,000-peer crawl a
  // +50 MB spike late in the run, at 16,384 rows it stays small (docs/performance.md, "Peer crawl").
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(
      `ATTACH ${sqlString(dbPath)} AS ${WRITER_ALIAS} (ROW_GROUP_SIZE ${WRITER_ROW_GROUP_SIZE})`
    );
    await conn.run(`USE ${WRITER_ALIAS}`);
    // Spill files beside the database, as when DuckDB opens the file itself (in-memory default: ./.tmp).
    await conn.run(`SET temp_directory = ${sqlString(`${dbPath}.tmp`)}`);
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    if (isLockError(err)) {
      throw new DatabaseBusyError(
        `${describeHolder(dbPath, (err as Error).message)} is using ${dbPath}; wait for it to finish, or stop it first`
      );
    }
    throw err;
  }
  const db = new Db(instance, conn, dbPath);
  const info: LockInfo = { pid: process.pid, kind, started_at: new Date().toISOString() };
  writeFileSync(lockInfoPath(dbPath), JSON.stringify(info));
  await migrate(db);
  return db;
}

export function closeWriter(db: Db): void {
  db.close();
  rmSync(lockInfoPath(db.path), { force: true });
}

/**
 * The dashboard's settings for a snapshot (opts.sandboxed): SQL on that connection can reach nothing but
 * the file opened here: no other files (read_csv, COPY TO, ATTACH), no extensions installed or loaded, and
 * the configuration locked so that no statement can turn these back on.
 */
const SANDBOXED: Record<string, string> = {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  lock_configuration: 'true'
};

/**
 * Opens a published snapshot (or any file) read-only: many readers may do so at once. The export commands
 * write files from such a connection (COPY TO); the dashboard opens snapshots sandboxed.
 */
export async function openReadOnly(file: string, opts: { sandboxed?: boolean } = {}): Promise<Db> {
  const instance = await DuckDBInstance.create(file, {
    access_mode: 'READ_ONLY',
    ...(opts.sandboxed ? SANDBOXED : {})
  });
  return new Db(instance, await instance.connect(), file);
}
