import path from 'node:path';

/**
 * Node flags of every collector process, in one place (package.json's "collect" script repeats them); V8
 * reads them only at start-up. Measured on a 100,000-peer crawl (docs/performance.md, "Peer crawl"):
 * --max-semi-space-size=8: the young generation stays at 16 MB instead of growing to 128 MB (~110 MB less);
 * --optimize-for-size: V8 collects the old generation sooner instead of letting garbage grow it.
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--optimize-for-size'];

/**
 * Environment of every collector process. DuckDB's own jemalloc keeps freed pages resident for 5 s, then
 * 5 s more as lazily freed (MADV_FREE) pages that still count in RSS; with a checkpoint every few seconds
 * that retained memory was ~70 MB of a 100,000-peer crawl's database side. Decay 0 hands pages back at once.
 * jemalloc reads this once, when libduckdb loads, so it must be set before the first DuckDB import.
 */
export const COLLECTOR_ENV: Readonly<Record<string, string>> = {
  DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:0,muzzy_decay_ms:0'
};

/** COLLECTOR_ENV under what the environment already says (an operator's own setting wins). */
export function collectorEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(COLLECTOR_ENV)) out[k] = env[k] ?? v;
  return out;
}

const BIN = path.join(import.meta.dirname, '..', 'bin', 'fedipulse.js');

/**
 * The command line of a collector run on this Node: `node <flags> bin/fedipulse.js collect <args>`
 * (bin/fedipulse.js sets COLLECTOR_ENV for its collector commands).
 */
export function collectorCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...COLLECTOR_NODE_FLAGS, BIN, 'collect', ...args] };
}
