import { request } from 'undici';
import type { CollectorContext } from '../context.ts';
import { ScopedAgent } from '../net/dispatcher.ts';
import { HostGate } from '../net/gate.ts';
import { utcDay } from '../store/metrics.ts';
import {
  countDue,
  knownPeersCount,
  loadSeeds,
  ObservationBatch,
  rollupFederationDay,
  seedKnownPeers,
  workPage,
  writeObservationsOrFail,
  type PeerObservation,
  type WorkItem
} from '../store/peers.ts';
import type { SourceResult } from '../store/runs.ts';
import { optOutMatcher, peerCrawlConfig, type PeerCrawlConfig } from './config.ts';
import { crawlHost, failedObservation, type CrawlEnv } from './crawl.ts';
import { normalizeDomain, normalizeDomainList } from './domains.ts';

/** Our own domain: the configured instance URL's host, or settings.own_domain when that is an address. */
async function ownDomain(ctx: CollectorContext): Promise<string | null> {
  if (ctx.config.instanceUrl) {
    const d = normalizeDomain(new URL(ctx.config.instanceUrl).hostname);
    if (d.ok) return d.domain;
  }
  const row = await ctx.db
    .one<{ value: string }>(`SELECT value FROM settings WHERE key = 'own_domain'`)
    .catch(() => undefined);
  const d = normalizeDomain(row?.value);
  return d.ok ? d.domain : null;
}

/** First run with an empty crawl list: read the own server's peers list ourselves (same rules as the instance collector). */
async function fetchOwnPeersList(ctx: CollectorContext): Promise<string[] | string> {
  const base = ctx.config.instanceUrl;
  if (!base) return 'FEDIPULSE_INSTANCE_URL is not set and the crawl list is empty';
  try {
    const res = await request(`${base}/api/v1/instance/peers`, {
      dispatcher: ctx.ownDispatcher,
      headers: { accept: 'application/json', 'user-agent': ctx.userAgent },
      signal: AbortSignal.timeout(60_000)
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return `own peers list: HTTP ${res.statusCode}`;
    }
    const body = (await res.body.json()) as unknown;
    if (!Array.isArray(body)) return 'own peers list is not a JSON array';
    return normalizeDomainList(body).domains;
  } catch (err) {
    return `own peers list: ${(err as Error).message}`;
  }
}

/** Serialises database work: one DuckDB connection, used by the page reader and the batch writer. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => {});
    return p;
  }
}

export interface PeerCrawlStats {
  due: number;
  crawled: number;
  ok: number;
  failed: number;
  byOutcome: Record<string, number>;
  skippedOptOut: number;
  stopped: boolean;
}

/**
 * Peer crawl (docs/crawler.md). Streams the work list in pages, crawls up to `concurrency` hosts at once (each
 * host's requests one at a time), writes observations in batched transactions, and rolls up federation_daily
 * for the crawl day at the end. A run after an interrupted one continues the same crawl day: hosts already
 * observed that day are not due, so nothing is observed twice.
 */
export async function collectPeers(
  ctx: CollectorContext,
  override: Partial<PeerCrawlConfig> = {}
): Promise<SourceResult[]> {
  let cfg: PeerCrawlConfig;
  try {
    cfg = { ...peerCrawlConfig(), ...override };
  } catch (err) {
    return [{ source: 'peers', status: 'failed', items: 0, errors: 1, message: (err as Error).message }];
  }
  const db = ctx.db;
  // DuckDB would cache up to 80% of RAM; the crawl streams, so a small buffer pool keeps RSS flat.
  await db.run(`SET memory_limit = '96MB'`).catch(() => {});
  const started = ctx.now();
  const crawlDay = utcDay(started);
  const own = await ownDomain(ctx);

  if ((await knownPeersCount(db)) === 0) {
    ctx.progress.status('peers: crawl list empty, reading the own server’s peers list…');
    const list = await fetchOwnPeersList(ctx);
    if (typeof list === 'string' && cfg.seeds.length === 0)
      return [{ source: 'peers', status: 'failed', items: 0, errors: 1, message: list }];
    if (typeof list !== 'string') await seedKnownPeers(db, list, started);
  }
  await loadSeeds(db, cfg.seeds);

  const isOptedOut = optOutMatcher(cfg.optOut);
  const skip = (d: string) => d === own || isOptedOut(d);
  const due = await countDue(db, started, crawlDay);
  const stats: PeerCrawlStats = {
    due,
    crawled: 0,
    ok: 0,
    failed: 0,
    byOutcome: {},
    skippedOptOut: 0,
    stopped: false
  };
  const serial = new Serial();
  const gate = new HostGate(cfg.minIntervalMs);
  const peerAgent = ctx.peerDispatcher;
  const env: CrawlEnv = {
    dispatcher: peerAgent,
    hostDispatcher: peerAgent instanceof ScopedAgent ? () => peerAgent.scope() : undefined,
    userAgent: ctx.userAgent,
    gate,
    cfg,
    ownDomain: own,
    crawlDay,
    now: ctx.now,
    isOptedOut
  };

  // Work list: pages of domains read on demand, so at most a page or two sits in memory.
  const PAGE = 1000;
  let after = '';
  let buffer: WorkItem[] = [];
  let exhausted = false;
  let refill: Promise<void> | null = null;
  const next = async (): Promise<WorkItem | null> => {
    for (;;) {
      if (ctx.signal.aborted) {
        stats.stopped = true;
        return null;
      }
      const item = buffer.pop();
      if (item) {
        if (skip(item.domain)) {
          stats.skippedOptOut++;
          continue;
        }
        return item;
      }
      if (exhausted) return null;
      refill ??= serial
        .run(() => workPage(db, after, started, crawlDay, PAGE))
        .then((rows) => {
          if (rows.length < PAGE) exhausted = true;
          if (rows.length) after = rows[rows.length - 1].domain;
          buffer = rows.reverse();
        })
        .finally(() => {
          refill = null;
        });
      await refill;
    }
  };

  const pending = new ObservationBatch(cfg.batchSize, cfg.batchChars);
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown = null;
  // A host's observation the database refuses is stored as that host's `invalid` outcome instead.
  const store = (batch: PeerObservation[]) =>
    writeObservationsOrFail(db, ctx.runId, batch, (o, err) => {
      const prior = o.hostState === 'failing' ? o.consecutiveFailures - 1 : 0;
      const item = { domain: o.domain, failures: prior, lastUsersTotal: null, inPeersList: true };
      return failedObservation(item, env, new Error(`not stored: ${(err as Error).message}`));
    });
  const flush = () => {
    if (pending.rows.length === 0) return writing;
    const batch = pending.take();
    writing = serial
      .run(() => store(batch))
      .catch((err: unknown) => {
        writeError ??= err;
      });
    return writing;
  };
  const flushTimer = setInterval(() => void flush(), 1000);

  const t0 = Date.now();
  let inFlight = 0;
  const report = () => {
    const secs = (Date.now() - t0) / 1000;
    const rate = stats.crawled / Math.max(secs, 0.001);
    const left = Math.max(due - stats.crawled, 0);
    const eta = rate > 0 ? Math.round(left / rate) : 0;
    ctx.progress.status(
      `peers: ${stats.crawled.toLocaleString('en')}/${due.toLocaleString('en')} · ok ${stats.ok} · failed ${stats.failed}` +
        ` · ${inFlight} in flight · ${rate.toFixed(0)} hosts/s · eta ${Math.floor(eta / 60)}m${eta % 60}s`
    );
  };
  const progressTimer = setInterval(report, 250);

  const worker = async () => {
    for (;;) {
      if (writeError) return;
      const item = await next();
      if (!item) return;
      inFlight++;
      let obs: PeerObservation;
      try {
        obs = await crawlHost(item, env);
      } catch (err) {
        // crawlHost records its own failures; this is the last line, so one host never ends the crawl.
        obs = failedObservation(item, env, err);
      } finally {
        inFlight--;
      }
      stats.crawled++;
      stats.byOutcome[obs.outcome] = (stats.byOutcome[obs.outcome] ?? 0) + 1;
      if (obs.outcome === 'ok') stats.ok++;
      else stats.failed++;
      // Backpressure: a worker waits for the writer rather than letting batches pile up in memory.
      if (pending.add(obs)) await flush();
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, cfg.concurrency) }, worker));
  } finally {
    clearInterval(flushTimer);
    clearInterval(progressTimer);
    await flush();
    await writing;
  }
  if (writeError) {
    return [
      {
        source: 'peers',
        status: stats.crawled > 0 ? 'partial' : 'failed',
        items: stats.crawled,
        errors: stats.failed,
        message: `could not store observations: ${(writeError as Error).message}`
      }
    ];
  }
  ctx.progress.status('peers: crawl done, rolling up federation_daily');
  await rollupFederationDay(db, crawlDay, ctx.runId);
  const outcomes = Object.entries(stats.byOutcome)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const msg = stats.stopped
    ? `stopped after ${stats.crawled} of ${due} hosts; the next run continues the crawl day ${crawlDay}`
    : `${stats.crawled} hosts in ${secs} s${outcomes ? ` (${outcomes})` : ''}`;
  ctx.progress.line(`peers: ${msg}`);
  return [
    {
      source: 'peers',
      status: stats.stopped ? 'partial' : 'ok',
      items: stats.crawled,
      errors: stats.failed,
      message: msg
    }
  ];
}
