import { spawn, type ChildProcess } from 'node:child_process';
import { Cron } from 'croner';
import { SCHEDULED_KINDS, type ScheduleConfig, type ScheduledKind } from './config.ts';
import { COLLECTOR_NODE_FLAGS, collectorChildEnv } from '../../../../collectors/process.ts';
import {
  scheduleStatus,
  writeScheduleFile,
  type KindStatus,
  type LastRun,
  type Outcome,
  type ScheduleFile
} from './status.ts';

export { scheduleConfig, type ScheduleConfig } from './config.ts';
export { scheduleStatus, scheduleFilePath, type ScheduleStatus } from './status.ts';

/**
 * Scheduled collections inside `npm start`. Each run is a child process of `bin/fedipulse.js collect`, so
 * the server process never opens the collector's database (one writer per file), and a crash in a
 * collection cannot take the dashboard down. One run at a time: ticks that arrive while a run is under way
 * wait in a queue (one entry per kind).
 */
export interface SchedulerOptions {
  dbPath: string;
  config: ScheduleConfig;
  /** bin/fedipulse.js */
  bin: string;
  /** Where the collectors' environment is taken from (filtered: collectorChildEnv). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: (line: string) => void;
  /** After each run (the webhook sender by default). Errors are logged, never fatal. */
  afterRun?: (kind: ScheduledKind, run: LastRun) => Promise<void>;
  random?: () => number;
  /** How long a stopping collection may take to finish its item before it is killed. */
  stopGraceMs?: number;
}

export interface Scheduler {
  /** Queues a run of `kind` now (as a tick would). */
  runNow(kind: ScheduledKind): void;
  status(): ScheduleFile;
  /** Stops the timers, asks a running collection to stop (SIGTERM), waits for it. */
  stop(): Promise<void>;
}

const OUTCOME_BY_CODE: Record<number, Outcome> = { 0: 'ok', 1: 'failed', 2: 'usage', 75: 'busy' };

export function startScheduler(o: SchedulerOptions): Scheduler {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const random = o.random ?? Math.random;
  const previous = scheduleStatus(o.dbPath);
  const startedAt = new Date().toISOString();
  const kinds = {} as Record<ScheduledKind, KindStatus>;
  for (const kind of SCHEDULED_KINDS) {
    const prev = previous?.kinds[kind];
    kinds[kind] = {
      cron: o.config.cron[kind],
      next_at: null,
      last: prev?.last ?? null,
      last_ok_at: prev?.last_ok_at ?? null,
      consecutive_failures: prev?.consecutive_failures ?? 0
    };
  }
  const state: ScheduleFile = {
    version: 1,
    pid: process.pid,
    started_at: startedAt,
    updated_at: startedAt,
    enabled: o.config.enabled,
    reason: o.config.reason,
    timezone: o.config.timezone,
    running: null,
    queue: [],
    kinds
  };
  const save = () => {
    state.updated_at = new Date().toISOString();
    try {
      writeScheduleFile(o.dbPath, state);
    } catch (err) {
      log(`fedipulse schedule: could not write the status file: ${(err as Error).message}`);
    }
  };

  const crons = new Map<ScheduledKind, Cron>();
  const jitter = new Map<ScheduledKind, number>();
  const waiting = new Set<ReturnType<typeof setTimeout>>();
  let child: ChildProcess | null = null;
  let stopping = false;
  let idle: Promise<void> = Promise.resolve();

  const planNext = (kind: ScheduledKind) => {
    const next = crons.get(kind)?.nextRun() ?? null;
    const j = Math.floor(random() * o.config.jitterMs[kind]);
    jitter.set(kind, j);
    kinds[kind].next_at = next ? new Date(next.getTime() + j).toISOString() : null;
  };

  const enqueue = (kind: ScheduledKind) => {
    if (stopping) return;
    if (!state.queue.includes(kind)) state.queue.push(kind);
    save();
    pump();
  };

  const pump = () => {
    if (child || stopping || state.queue.length === 0) return;
    const kind = state.queue.shift() as ScheduledKind;
    idle = runOne(kind).then(
      () => pump(),
      (err: Error) => {
        log(`fedipulse schedule: ${kind}: ${err.message}`);
        pump();
      }
    );
  };

  const runOne = async (kind: ScheduledKind): Promise<void> => {
    const started = new Date();
    log(`fedipulse schedule: ${kind} collection starting`);
    const proc = spawn(process.execPath, [...COLLECTOR_NODE_FLAGS, o.bin, 'collect', kind, '--quiet'], {
      cwd: o.cwd ?? process.cwd(),
      // Only what a collection needs: no session secret, OAuth secret, metrics token or webhook URL.
      env: collectorChildEnv(o.env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe']
    });
    child = proc;
    state.running = { kind, pid: proc.pid ?? null, started_at: started.toISOString() };
    save();
    let lastErr = '';
    const relay = (stream: NodeJS.ReadableStream | null, keep: boolean) => {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          if (keep) lastErr = line;
          log(`  [${kind}] ${line}`);
        }
      });
    };
    relay(proc.stdout, false);
    relay(proc.stderr, true);
    let timedOut = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const timeout = setTimeout(() => {
      timedOut = true;
      log(`fedipulse schedule: ${kind} collection ran past ${o.config.timeoutMs / 60_000} min; stopping it`);
      proc.kill('SIGTERM');
      killTimer = setTimeout(() => proc.kill('SIGKILL'), o.stopGraceMs ?? 60_000);
    }, o.config.timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => proc.on('close', (c, s) => resolve({ code: c, signal: s }))
    );
    clearTimeout(timeout);
    clearTimeout(killTimer);
    child = null;
    const finished = new Date();
    let outcome: Outcome;
    if (timedOut) outcome = 'timeout';
    else if (stopping && (signal || code === 130)) outcome = 'stopped';
    else outcome = code !== null ? (OUTCOME_BY_CODE[code] ?? 'failed') : 'failed';
    const run: LastRun = {
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      duration_s: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
      exit_code: code,
      outcome,
      message:
        outcome === 'ok'
          ? null
          : lastErr ||
            (signal ? `stopped by ${signal}` : `exited with status ${code}`) +
              (timedOut ? ` after the ${o.config.timeoutMs / 60_000} min limit` : '')
    };
    const k = kinds[kind];
    k.last = run;
    if (outcome === 'ok') {
      k.last_ok_at = run.finished_at;
      k.consecutive_failures = 0;
    } else if (outcome !== 'stopped') {
      k.consecutive_failures += 1;
    }
    state.running = null;
    save();
    log(
      `fedipulse schedule: ${kind} collection ${outcome} in ${run.duration_s} s` +
        (run.message ? `: ${run.message}` : '') +
        (k.next_at ? `; next ${k.next_at}` : '')
    );
    if (o.afterRun && !stopping) {
      try {
        await o.afterRun(kind, run);
      } catch (err) {
        log(`fedipulse schedule: after the ${kind} run: ${(err as Error).message}`);
      }
    }
  };

  if (o.config.enabled) {
    for (const kind of SCHEDULED_KINDS) {
      const expr = o.config.cron[kind];
      if (!expr) continue;
      const job = new Cron(expr, { ...(o.config.timezone ? { timezone: o.config.timezone } : {}) }, () => {
        const delay = jitter.get(kind) ?? 0;
        if (delay <= 0) {
          planNext(kind);
          return enqueue(kind);
        }
        // Until the jittered start, that start is the next run /status shows.
        kinds[kind].next_at = new Date(Date.now() + delay).toISOString();
        save();
        const t = setTimeout(() => {
          waiting.delete(t);
          planNext(kind);
          enqueue(kind);
        }, delay);
        waiting.add(t);
      });
      crons.set(kind, job);
      planNext(kind);
    }
  }
  save();

  return {
    runNow: enqueue,
    status: () => structuredClone(state),
    stop: async () => {
      if (stopping) return idle;
      stopping = true;
      for (const c of crons.values()) c.stop();
      for (const t of waiting) clearTimeout(t);
      state.queue = [];
      for (const kind of SCHEDULED_KINDS) kinds[kind].next_at = null;
      const running = child;
      if (running && running.exitCode === null) {
        log('fedipulse schedule: asking the running collection to stop after its current item…');
        running.kill('SIGTERM');
        const kill = setTimeout(() => running.kill('SIGKILL'), o.stopGraceMs ?? 60_000);
        await idle;
        clearTimeout(kill);
      }
      save();
    }
  };
}
