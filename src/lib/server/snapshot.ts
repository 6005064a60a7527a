import { statSync } from 'node:fs';
import { openReadOnly, type Db } from '../../../collectors/store/database.ts';
import { listSnapshots } from '../../../collectors/store/snapshots.ts';

/**
 * The dashboard's view of the data: the newest published snapshot, opened read-only. A newer snapshot is
 * opened and checked before it replaces the current one; a broken one is skipped (and reported on
 * /status) while the previous one keeps serving.
 */
export interface SnapshotState {
  db: Db | null;
  file: string | null;
  openedAt: Date | null;
  /** The last snapshot that could not be opened, and why. */
  rejected: { file: string; error: string } | null;
}

const CHECK_EVERY_MS = 1000;
const CLOSE_AFTER_MS = 60_000; // queries still running on the old snapshot finish well within this

let state: SnapshotState = { db: null, file: null, openedAt: null, rejected: null };
let lastCheck = 0;
let pending: Promise<void> | null = null;
const badFiles = new Set<string>();

async function tryOpen(file: string): Promise<Db> {
  const db = await openReadOnly(file, { sandboxed: true });
  try {
    await db.one('SELECT max(version) AS v FROM schema_migrations');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

async function refresh(dbPath: string): Promise<void> {
  const candidates = listSnapshots(dbPath).filter((f) => !badFiles.has(f));
  const newest = candidates.at(-1);
  if (!newest || newest === state.file) return;
  try {
    statSync(newest);
    const db = await tryOpen(newest);
    const old = state.db;
    state = { db, file: newest, openedAt: new Date(), rejected: state.rejected };
    if (old) setTimeout(() => old.close(), CLOSE_AFTER_MS).unref();
  } catch (err) {
    badFiles.add(newest);
    state = { ...state, rejected: { file: newest, error: (err as Error).message } };
  }
}

/** The current snapshot (checking for a newer one at most once a second). */
export async function currentSnapshot(dbPath: string): Promise<SnapshotState> {
  const now = Date.now();
  if (now - lastCheck >= CHECK_EVERY_MS) {
    lastCheck = now;
    pending ??= refresh(dbPath).finally(() => (pending = null));
  }
  if (pending && !state.db) await pending; // first request waits; later ones serve the current snapshot
  return state;
}
