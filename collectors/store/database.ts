import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** Runs fn inside one transaction: all of it lands, or none of it. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => {});
      throw err;
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

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Versioned migrations: NNN_name.sql, applied in order, each in its own transaction. */
export async function migrate(db: Db): Promise<number> {
  await db.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
  );
  const done = new Set(
    (await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version)
  );
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();
  let applied = 0;
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (done.has(version)) continue;
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    await db.transaction(async () => {
      await db.run(sql);
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

/** Opens a published snapshot (or any file) read-only: many readers may do so at once. */
export async function openReadOnly(file: string): Promise<Db> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  return new Db(instance, await instance.connect(), file);
}
