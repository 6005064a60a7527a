import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The scheduler's small JSON status file beside the database (`<db>.schedule.json`): what ran last, how it
 * ended and what runs next. The scheduler writes it; the dashboard (/status, /metrics) only reads it, so
 * pages never need to reach into the scheduler's process.
 */
export type Outcome = 'ok' | 'failed' | 'busy' | 'usage' | 'timeout' | 'stopped';

export interface LastRun {
  started_at: string;
  finished_at: string;
  duration_s: number;
  exit_code: number | null;
  outcome: Outcome;
  /** The collector's last stderr line when it did not succeed (its one-line reason). */
  message: string | null;
}

export interface KindStatus {
  cron: string | null;
  /** When the next run is due (cron time plus this run's jitter); null when not scheduled. */
  next_at: string | null;
  last: LastRun | null;
  last_ok_at: string | null;
  /** Scheduled runs in a row that did not succeed (busy counts: the data did not arrive either). */
  consecutive_failures: number;
}

export interface ScheduleFile {
  version: 1;
  pid: number;
  started_at: string;
  updated_at: string;
  enabled: boolean;
  reason: string;
  timezone: string | null;
  running: { kind: string; pid: number | null; started_at: string } | null;
  queue: string[];
  kinds: Record<string, KindStatus>;
}

export interface ScheduleStatus extends ScheduleFile {
  /** False when the process that wrote the file is gone (server stopped, or started without a schedule). */
  active: boolean;
}

export const scheduleFilePath = (dbPath: string) => `${dbPath}.schedule.json`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes the file whole (temp file + rename), so a reader never sees half of it. */
export function writeScheduleFile(dbPath: string, s: ScheduleFile): void {
  const file = scheduleFilePath(dbPath);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, file);
}

/**
 * For /status and /metrics: the schedule as last recorded, or null when no scheduler has ever run on this
 * database. `active` says whether the scheduler is still running (a stale file from an earlier
 * `npm start` is shown as such, not as a plan).
 */
export function scheduleStatus(dbPath: string): ScheduleStatus | null {
  let parsed: ScheduleFile;
  try {
    parsed = JSON.parse(readFileSync(scheduleFilePath(dbPath), 'utf8')) as ScheduleFile;
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || parsed.version !== 1) return null;
  return { ...parsed, active: alive(parsed.pid) };
}
