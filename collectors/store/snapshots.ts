import {
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync
} from 'node:fs';
import path from 'node:path';
import type { Db } from './database.ts';

/**
 * Read snapshots: after each committed run the collector publishes an immutable copy of the database
 * that the dashboard opens read-only. DuckDB allows one writer *or* many readers per file, so the
 * dashboard never touches the writer's file, and never sees a run that has not committed.
 */
export const snapshotDir = (dbPath: string) => `${dbPath}.snapshots`;
const KEEP = 3;

export function listSnapshots(dbPath: string): string[] {
  try {
    return readdirSync(snapshotDir(dbPath))
      .filter((f) => f.endsWith('.duckdb'))
      .sort()
      .map((f) => path.join(snapshotDir(dbPath), f));
  } catch {
    return [];
  }
}

export function latestSnapshot(dbPath: string): string | null {
  return listSnapshots(dbPath).at(-1) ?? null;
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** CHECKPOINT folds the WAL into the file; the copy is then complete. Publish = atomic rename. */
export async function publishSnapshot(db: Db, label: string): Promise<string> {
  await db.run('CHECKPOINT');
  const dir = snapshotDir(db.path);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const final = path.join(dir, `${stamp}-${label}.duckdb`);
  const tmp = `${final}.tmp`;
  try {
    copyFileSync(db.path, tmp);
    fsyncPath(tmp);
    renameSync(tmp, final);
    fsyncPath(dir);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // Older snapshots go; a reader that still has one open keeps its (unlinked) file until it lets go.
  for (const old of listSnapshots(db.path).slice(0, -KEEP)) rmSync(old, { force: true });
  for (const f of readdirSync(dir))
    if (f.endsWith('.tmp') && path.join(dir, f) !== tmp) rmSync(path.join(dir, f), { force: true });
  return final;
}
