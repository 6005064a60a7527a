import { createDispatchers, userAgent, type CollectorContext } from './context.ts';
import { collectFinances } from './finances/index.ts';
import { collectInstance } from './instance/index.ts';
import { collectPeers } from './peers/index.ts';
import { silentProgress, type Progress } from './progress.ts';
import { closeWriter, openWriter } from './store/database.ts';
import {
  failInterruptedRuns,
  finishRun,
  overallStatus,
  recordSource,
  startRun,
  type SourceResult
} from './store/runs.ts';
import { publishSnapshot } from './store/snapshots.ts';
import type { Config } from '../src/lib/server/config.ts';

export const KINDS = ['instance', 'peers', 'all', 'finances'] as const;
export type Kind = (typeof KINDS)[number];

export interface RunOptions {
  config: Config;
  now?: () => Date;
  progress?: Progress;
  signal?: AbortSignal;
}

export interface RunSummary {
  runId: number;
  status: 'ok' | 'partial' | 'failed';
  sources: SourceResult[];
  message: string | null;
  snapshot: string | null;
}

/** Why nothing was collected, with the fix: the message a person sees when a run fails. */
function failureMessage(sources: SourceResult[]): string {
  const failed = sources.filter((s) => s.status === 'failed');
  if (failed.length === 0) return 'nothing to collect';
  return failed.map((s) => `${s.source}: ${s.message ?? 'failed'}`).join('; ');
}

/**
 * One collection run: take the writer lock, record the run, collect, commit, publish a read snapshot.
 * Each source commits its own transactions, so a run killed at any point leaves only whole items behind,
 * and the dashboard keeps showing the previous snapshot until this run publishes.
 */
export async function runCollection(kind: Kind, opts: RunOptions): Promise<RunSummary> {
  const now = opts.now ?? (() => new Date());
  const progress = opts.progress ?? silentProgress;
  const db = await openWriter(opts.config.dbPath, kind);
  const dispatchers = createDispatchers(opts.config);
  try {
    await failInterruptedRuns(db, now());
    const runId = await startRun(db, kind, now());
    const ctx: CollectorContext = {
      config: opts.config,
      db,
      runId,
      now,
      progress,
      ownDispatcher: dispatchers.own,
      peerDispatcher: dispatchers.peers,
      userAgent: userAgent(opts.config.contact),
      signal: opts.signal ?? new AbortController().signal
    };
    const sources: SourceResult[] = [];
    if (kind === 'instance' || kind === 'all') sources.push(...(await collectInstance(ctx)));
    if (kind === 'peers' || kind === 'all') sources.push(...(await collectPeers(ctx)));
    if (kind === 'finances') sources.push(...(await collectFinances(ctx)));
    for (const s of sources) await recordSource(db, runId, s, now());
    const status = overallStatus(sources);
    const message = status === 'failed' ? failureMessage(sources) : null;
    await finishRun(db, runId, status, sources, message, now());
    progress.done();
    const snapshot = await publishSnapshot(db, `run${runId}`);
    return { runId, status, sources, message, snapshot };
  } finally {
    await Promise.allSettled([dispatchers.own.close(), dispatchers.peers.close()]);
    closeWriter(db);
  }
}
