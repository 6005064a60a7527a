import type { Agent } from 'undici';
import { createDispatcher } from './net/dispatcher.ts';
import type { Progress } from './progress.ts';
import type { Db } from './store/database.ts';
import type { Config } from '../src/lib/server/config.ts';
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

/** Everything a collector needs, handed in so that tests and the demo can supply their own clock. */
export interface CollectorContext {
  config: Config;
  db: Db;
  runId: number;
  now: () => Date;
  progress: Progress;
  /** For the own server (may be local or private). */
  ownDispatcher: Agent;
  /** For peers: public addresses only, unless a connect-to rule maps the host. */
  peerDispatcher: Agent;
  userAgent: string;
  /** Set when the run should stop early (SIGINT/SIGTERM): collectors finish the item at hand and return. */
  signal: AbortSignal;
}

export function userAgent(contact: string | null): string {
  return `fedipulse/${VERSION} (+${contact ?? 'https://github.com/fedipulse/fedipulse/blob/main/docs/crawler.md'})`;
}

export function createDispatchers(config: Config): { own: Agent; peers: Agent } {
  return {
    own: createDispatcher({ connectTo: config.connectTo, allowPrivate: true, connections: 4 }),
    peers: createDispatcher({
      connectTo: config.connectTo,
      allowPrivate: false,
      connections: 1, // one request in flight per host (politeness)
      connectTimeoutMs: 8_000,
      headersTimeoutMs: 10_000,
      bodyTimeoutMs: 10_000
    })
  };
}
