import { DuckDBInstance } from '@duckdb/node-api';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DatabaseBusyError,
  closeWriter,
  isLockError,
  openReadOnly,
  openWriter,
  type LockInfo
} from '../store/database.ts';
import { publishSnapshot } from '../store/snapshots.ts';
import { annotationsFile } from '../../src/lib/server/annotations/index.ts';

/**
 * Backup = a consistent copy of the collector's database taken under its writer lock: no collection can
 * run meanwhile (one that starts exits 75 and the scheduler tries again on its next tick), CHECKPOINT folds
 * the write-ahead log into the file, and the copy is fsynced and renamed into place, so a backup file is
 * either whole or absent. Snapshots are not used: they lag behind the database by whatever a failed publish
 * (say, a full disk) left unpublished, and a backup should hold everything collected.
 *
 * Restore = the reverse, also under the lock, after checking that the backup opens and is a fedipulse
 * database this version can read; the database it replaces is kept beside it.
 *
 * The growth annotations staff write live in a JSON file beside the database (the dashboard never writes
 * the collector's file); backup copies it to `<backup>.annotations.json`, and restore puts it back, keeping
 * the replaced one beside the replaced database. The store replaces that file by rename, so a copy is whole.
 */
const lockInfoPath = (dbPath: string) => `${dbPath}.collector.json`;

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function holder(dbPath: string): string {
  try {
    const info = JSON.parse(readFileSync(lockInfoPath(dbPath), 'utf8')) as LockInfo;
    return `a "${info.kind}" collection (PID ${info.pid}, started ${info.started_at})`;
  } catch {
    return 'another process';
  }
}

/** Takes DuckDB's writer lock without migrating (a backup must capture the file as it is). */
async function lockDatabase(dbPath: string, kind: string, waitMs: number): Promise<DuckDBInstance> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const instance = await DuckDBInstance.create(dbPath);
      const info: LockInfo = { pid: process.pid, kind, started_at: new Date().toISOString() };
      writeFileSync(lockInfoPath(dbPath), JSON.stringify(info));
      return instance;
    } catch (err) {
      if (!isLockError(err)) throw err;
      if (Date.now() >= deadline) {
        throw new DatabaseBusyError(
          `${holder(dbPath)} is using ${dbPath}; wait for it to finish (or stop it), then try again`
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function release(instance: DuckDBInstance, dbPath: string): void {
  instance.closeSync();
  rmSync(lockInfoPath(dbPath), { force: true });
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'store', 'migrations');
function knownSchemaVersion(): number {
  return Math.max(
    0,
    ...readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{3}_.+\.sql$/.test(f))
      .map((f) => Number(f.slice(0, 3)))
  );
}

/** Copies a file through a fsynced temporary and a rename; false when there is nothing to copy. */
function copyWhole(from: string, to: string): boolean {
  if (!existsSync(from)) return false;
  const tmp = `${to}.tmp`;
  try {
    copyFileSync(from, tmp);
    fsyncPath(tmp);
    renameSync(tmp, to);
    return true;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface BackupResult {
  file: string;
  /** The staff annotations copied beside it; null when there were none. */
  annotations: string | null;
  bytes: number;
  schemaVersion: number;
  runs: number;
}

/** Opens a file read-only and checks it is a fedipulse database; the reason it is not, otherwise. */
export async function inspectDatabase(file: string): Promise<{ schemaVersion: number; runs: number }> {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  let db;
  try {
    db = await openReadOnly(file);
  } catch (err) {
    throw new Error(`${file} is not a DuckDB database this version can open (${(err as Error).message})`, {
      cause: err
    });
  }
  try {
    let version: number | null;
    try {
      version =
        (await db.one<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations'))?.v ?? null;
    } catch {
      version = null;
    }
    if (version === null)
      throw new Error(`${file} is not a fedipulse database (it has no schema_migrations)`);
    const runs = (await db.one<{ n: number }>('SELECT count(*) AS n FROM runs'))?.n ?? 0;
    return { schemaVersion: version, runs };
  } finally {
    db.close();
  }
}

export async function backupDatabase(
  dbPath: string,
  target: string,
  opts: { force?: boolean; waitMs?: number } = {}
): Promise<BackupResult> {
  if (!existsSync(dbPath))
    throw new Error(`there is no database at ${dbPath} yet (FEDIPULSE_DB); nothing to back up`);
  const out = path.resolve(target);
  if (out === path.resolve(dbPath)) throw new Error('the backup file must not be the database itself');
  if (existsSync(out) && !opts.force) throw new Error(`${out} exists; choose a new name or pass --force`);
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const instance = await lockDatabase(dbPath, 'backup', opts.waitMs ?? 600_000);
  try {
    const conn = await instance.connect();
    await conn.run('CHECKPOINT');
    conn.closeSync();
    copyFileSync(dbPath, tmp);
    fsyncPath(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    release(instance, dbPath);
  }
  try {
    const facts = await inspectDatabase(tmp);
    const notes = annotationsFile(out);
    const annotations = copyWhole(annotationsFile(dbPath), notes) ? notes : null;
    if (!annotations) rmSync(notes, { force: true }); // a --force over an older backup must not keep its notes
    renameSync(tmp, out);
    fsyncPath(path.dirname(out));
    return {
      file: out,
      annotations,
      bytes: statSync(out).size,
      schemaVersion: facts.schemaVersion,
      runs: facts.runs
    };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface RestoreResult {
  restoredFrom: string;
  /** The database that was replaced, kept beside it (null when there was none). */
  previous: string | null;
  /** Whether the backup's staff annotations replaced the current ones (kept beside `previous`). */
  annotations: boolean;
  schemaVersion: number;
  runs: number;
  /** The snapshot published from the restored file; null when a collection got the lock first (it publishes). */
  snapshot: string | null;
}

export async function restoreDatabase(
  dbPath: string,
  source: string,
  opts: { waitMs?: number; now?: Date } = {}
): Promise<RestoreResult> {
  const from = path.resolve(source);
  if (from === path.resolve(dbPath)) throw new Error('that is the database itself; name a backup file');
  // Check the backup before touching anything.
  const facts = await inspectDatabase(from);
  const known = knownSchemaVersion();
  if (facts.schemaVersion > known) {
    throw new Error(
      `${from} has schema version ${facts.schemaVersion}, newer than this fedipulse knows (${known}); upgrade fedipulse first`
    );
  }
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[-:.]/g, '');
  const tmp = `${dbPath}.restore.tmp`;
  let previous: string | null = null;
  let annotations = false;
  const had = existsSync(dbPath);
  // Holding the writer lock: no collection runs while the file is swapped (one that tries exits 75).
  const instance = had ? await lockDatabase(dbPath, 'restore', opts.waitMs ?? 0) : null;
  try {
    if (instance) {
      const conn = await instance.connect();
      await conn.run('CHECKPOINT');
      conn.closeSync();
      previous = `${dbPath}.before-restore-${stamp}.duckdb`;
      copyFileSync(dbPath, previous);
      fsyncPath(previous);
    }
    copyFileSync(from, tmp);
    fsyncPath(tmp);
    rmSync(`${dbPath}.wal`, { force: true }); // checkpointed above: empty, and it belongs to the old file
    renameSync(tmp, dbPath);
    // A backup without annotations (none were written, or an older fedipulse) leaves the current ones.
    if (existsSync(annotationsFile(from))) {
      if (previous) copyWhole(annotationsFile(dbPath), annotationsFile(previous));
      annotations = copyWhole(annotationsFile(from), annotationsFile(dbPath));
    }
    fsyncPath(path.dirname(dbPath));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    if (instance) release(instance, dbPath);
  }
  // Migrate an older backup forward (as any collection would) and publish it, so the dashboard shows it now.
  let snapshot: string | null = null;
  try {
    const db = await openWriter(dbPath, 'restore');
    try {
      snapshot = await publishSnapshot(db, 'restore');
    } finally {
      closeWriter(db);
    }
  } catch (err) {
    if (!(err instanceof DatabaseBusyError)) throw err;
  }
  return {
    restoredFrom: from,
    previous,
    annotations,
    schemaVersion: facts.schemaVersion,
    runs: facts.runs,
    snapshot
  };
}
