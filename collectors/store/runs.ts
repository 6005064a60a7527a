import type { Db } from './database.ts';

export type RunStatus = 'ok' | 'partial' | 'failed' | 'running';
export type SourceStatus = 'ok' | 'partial' | 'failed' | 'skipped';

export interface SourceResult {
  source: string;
  status: SourceStatus;
  items: number;
  errors: number;
  message?: string;
}

/** Runs left 'running' by a killed process: the lock is ours now, so nobody is running them. */
export async function failInterruptedRuns(db: Db, now: Date): Promise<number> {
  const rows = await db.all<{ n: number }>(
    `UPDATE runs SET status = 'failed', finished_at = $1::TIMESTAMPTZ,
       message = 'interrupted: the process stopped before the run finished (nothing of it was published)'
     WHERE status = 'running' RETURNING 1 AS n`,
    [now.toISOString()]
  );
  return rows.length;
}

export async function startRun(db: Db, kind: string, now: Date): Promise<number> {
  const row = await db.one<{ run_id: number }>(
    `INSERT INTO runs (kind, started_at, status, pid) VALUES ($1, $2::TIMESTAMPTZ, 'running', $3) RETURNING run_id`,
    [kind, now.toISOString(), process.pid]
  );
  return row!.run_id;
}

export async function recordSource(db: Db, runId: number, r: SourceResult, now: Date): Promise<void> {
  await db.run(
    `INSERT INTO run_sources (run_id, source, status, items, errors, message, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::TIMESTAMPTZ)
     ON CONFLICT (run_id, source) DO UPDATE SET status = excluded.status, items = excluded.items,
       errors = excluded.errors, message = excluded.message, finished_at = excluded.finished_at`,
    [runId, r.source, r.status, r.items, r.errors, r.message ?? null, now.toISOString()]
  );
}

/** Every source of a run at once (one statement; the last entry of a source wins, as with recordSource). */
export async function recordSources(
  db: Db,
  runId: number,
  sources: SourceResult[],
  now: Date
): Promise<void> {
  const unique = [...new Map(sources.map((s) => [s.source, s])).values()];
  if (unique.length === 0) return;
  await db.run(
    `INSERT INTO run_sources (run_id, source, status, items, errors, message, finished_at)
     SELECT $1, s.source, s.status, s.items, s.errors, s.message, $3::TIMESTAMPTZ
     FROM (SELECT unnest(from_json($2::JSON, '[{"source":"VARCHAR","status":"VARCHAR","items":"INTEGER","errors":"INTEGER","message":"VARCHAR"}]'), recursive := true)) s
     ON CONFLICT (run_id, source) DO UPDATE SET status = excluded.status, items = excluded.items,
       errors = excluded.errors, message = excluded.message, finished_at = excluded.finished_at`,
    [runId, JSON.stringify(unique.map((s) => ({ ...s, message: s.message ?? null }))), now.toISOString()]
  );
}

/** ok: every source ok; failed: nothing collected; partial: the rest. */
export function overallStatus(sources: SourceResult[]): Exclude<RunStatus, 'running'> {
  const used = sources.filter((s) => s.status !== 'skipped');
  if (used.length > 0 && used.every((s) => s.status === 'ok')) return 'ok';
  if (used.some((s) => s.status === 'ok' || s.status === 'partial')) return 'partial';
  return 'failed';
}

export async function finishRun(
  db: Db,
  runId: number,
  status: Exclude<RunStatus, 'running'>,
  sources: SourceResult[],
  message: string | null,
  now: Date
): Promise<void> {
  const items = sources.reduce((a, s) => a + s.items, 0);
  const errors = sources.reduce((a, s) => a + s.errors, 0);
  await db.run(
    `UPDATE runs SET status = $2, finished_at = $3::TIMESTAMPTZ, items = $4, errors = $5, message = $6 WHERE run_id = $1`,
    [runId, status, now.toISOString(), items, errors, message]
  );
}

export async function setSetting(db: Db, key: string, value: string): Promise<void> {
  await db.run(
    `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [key, value]
  );
}
