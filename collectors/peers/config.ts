import { normalizeDomain } from './domains.ts';

/** Crawler settings from the environment (docs/crawler.md lists them). */
export interface PeerCrawlConfig {
  /** Hosts crawled at once (FEDIPULSE_PEER_CONCURRENCY, default 64). */
  concurrency: number;
  /** Minimum gap between two requests to one host, ms (FEDIPULSE_PEER_MIN_INTERVAL_MS, default 250). */
  minIntervalMs: number;
  /** Deadline of one request including redirects and body, ms (FEDIPULSE_PEER_TIMEOUT_MS, default 20000). */
  timeoutMs: number;
  /** Body cap after decompression, bytes (FEDIPULSE_PEER_MAX_BYTES, default 1 MiB; domain_blocks get 4×). */
  maxBytes: number;
  /** Domains (and their subdomains) never crawled (FEDIPULSE_OPT_OUT, comma or space separated). */
  optOut: string[];
  /** Domains crawled in addition to the peers list (FEDIPULSE_SEED_PEERS). */
  seeds: string[];
  /** Cap on a robots.txt Crawl-delay, ms (FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS, default 10000). */
  maxCrawlDelayMs: number;
  /** Observations per database transaction. */
  batchSize: number;
  /** A batch is written earlier once its observations hold this many characters of peer text (8 MiB). */
  batchChars: number;
}

function int(v: string | undefined, def: number, min: number, max: number, name: string): number {
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}="${v}" must be a whole number from ${min} to ${max}`);
  return n;
}

export function domainList(v: string | undefined): string[] {
  const out = new Set<string>();
  for (const part of (v ?? '').split(/[\s,]+/)) {
    const d = normalizeDomain(part);
    if (d.ok) out.add(d.domain);
  }
  return [...out];
}

export function peerCrawlConfig(env: NodeJS.ProcessEnv = process.env): PeerCrawlConfig {
  return {
    concurrency: int(env.FEDIPULSE_PEER_CONCURRENCY, 64, 1, 1024, 'FEDIPULSE_PEER_CONCURRENCY'),
    minIntervalMs: int(env.FEDIPULSE_PEER_MIN_INTERVAL_MS, 250, 0, 60_000, 'FEDIPULSE_PEER_MIN_INTERVAL_MS'),
    timeoutMs: int(env.FEDIPULSE_PEER_TIMEOUT_MS, 20_000, 100, 300_000, 'FEDIPULSE_PEER_TIMEOUT_MS'),
    maxBytes: int(env.FEDIPULSE_PEER_MAX_BYTES, 1 << 20, 1024, 64 << 20, 'FEDIPULSE_PEER_MAX_BYTES'),
    maxCrawlDelayMs: int(
      env.FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS,
      10_000,
      0,
      600_000,
      'FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS'
    ),
    optOut: domainList(env.FEDIPULSE_OPT_OUT),
    seeds: domainList(env.FEDIPULSE_SEED_PEERS),
    batchSize: 500,
    batchChars: 8 << 20
  };
}

/** Opted out: the domain itself or any parent named in the list. */
export function optOutMatcher(list: string[]): (domain: string) => boolean {
  const set = new Set(list);
  return (domain) => {
    if (set.size === 0) return false;
    const labels = domain.split('.');
    for (let i = 0; i < labels.length - 1; i++) if (set.has(labels.slice(i).join('.'))) return true;
    return false;
  };
}
