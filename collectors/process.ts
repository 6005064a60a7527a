import path from 'node:path';

/**
 * Node flags of every collector process, in one place (package.json's "collect" script repeats them); V8
 * reads them only at start-up. Measured on a 100,000-peer crawl (docs/performance.md, "Peer crawl"):
 * --max-semi-space-size=8: the young generation stays at 16 MB instead of growing to 128 MB (~110 MB less);
 * --optimize-for-size: V8 collects the old generation sooner instead of letting garbage grow it.
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--optimize-for-size'];

const BIN = path.join(import.meta.dirname, '..', 'bin', 'fedipulse.js');

/** The command line of a collector run on this Node: `node <flags> bin/fedipulse.js collect <args>`. */
export function collectorCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...COLLECTOR_NODE_FLAGS, BIN, 'collect', ...args] };
}
