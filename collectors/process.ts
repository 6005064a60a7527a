import path from 'node:path';
import { NO_DOTENV } from '../src/lib/server/config.ts';

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

/**
 * What a collector process may see of the environment it is started from: an allowlist, not a denylist.
 * `npm start` holds secrets a collection never needs (FEDIPULSE_SESSION_SECRET, the OAuth client secret,
 * FEDIPULSE_METRICS_TOKEN, FEDIPULSE_ALERT_WEBHOOK, whatever a host adds later); a child that cannot see
 * them cannot leak them, through a crash dump, a log line or /proc/<pid>/environ. A denylist fails open
 * for every secret nobody listed; an allowlist fails closed, and tests/unit/security-server-env.test.ts
 * fails when a collector starts reading a setting that is not passed here.
 */
const CHILD_ENV_NAMES = new Set([
  // The system and Node: finding programs, locale and time zone, temp files, trusted CAs, proxies.
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'SYSTEMROOT',
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_USE_ENV_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  // The collectors' own settings (docs/configuration.md). FEDIPULSE_TOKEN is the admin token they use.
  'FEDIPULSE_DB',
  'FEDIPULSE_INSTANCE_URL',
  'FEDIPULSE_TOKEN',
  'FEDIPULSE_CONTACT',
  'FEDIPULSE_CONNECT_TO',
  'FEDIPULSE_SEED_PEERS',
  'FEDIPULSE_OPT_OUT',
  'FEDIPULSE_TOP_PEERS',
  'FEDIPULSE_LEDGER',
  'FEDIPULSE_FX_RATES',
  'FEDIPULSE_BASE_CURRENCY',
  'FEDIPULSE_OPENCOLLECTIVE_SLUG',
  'FEDIPULSE_OPENCOLLECTIVE_URL',
  'FEDIPULSE_PUBLISH_FINANCES',
  'FEDIPULSE_RESERVE_MONTHS',
  'FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH',
  // Not a secret; read by loadConfig, which the collectors share with the server.
  'FEDIPULSE_METRICS_PUBLIC'
]);
/** Whole families: locale categories, DuckDB's own settings, the crawler's limits. */
const CHILD_ENV_PREFIXES = ['LC_', 'DUCKDB_', 'FEDIPULSE_PEER_'];

/**
 * The environment of a collector child process: the allowlisted part of `env`, COLLECTOR_ENV, and NO_DOTENV
 * (the parent has read `.env` already; the child reading it again would get back what was filtered out).
 */
export function collectorChildEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (CHILD_ENV_NAMES.has(k) || CHILD_ENV_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  return { ...out, ...collectorEnv(env), [NO_DOTENV]: '1' };
}
