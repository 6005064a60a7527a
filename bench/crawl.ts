/**
 * Peer-crawl benchmarks (npm run bench:crawl). The simulator runs in one child process, the crawler in
 * another, the bare-undici baseline in a third, so that none steals the others' event loop.
 *
 *   A  zero latency: hosts/s of the whole pipeline (fetch, parse, store) and its speed relative to bare
 *      undici requests of the same count to the same hosts, in the same run.
 *   B  realistic latency and failures: wall time against the ideal (requests × mean latency ÷ concurrency).
 *   C  100,000 peers: peak RSS of the crawler process.
 *   S  (only when asked) the crawl's database side alone: the same work-list pages, batched writes and
 *      rollup for N peers with synthetic observations and no network, to tune storage memory in seconds.
 *
 * Options: --only A,B,C,S  --peers-a N  --peers-b N  --peers-c N  --peers-s N
 * BENCH_TRACE=file: the crawler child writes RSS, V8 heap spaces and active handles every 500 ms
 * (BENCH_TRACE_MS=n: every n ms) to file, with marks where the crawl ends, the rollup runs and the snapshot
 * is published.
 * The crawler child runs with COLLECTOR_NODE_FLAGS and COLLECTOR_ENV (collectors/process.ts), as
 * `npm run collect` does; BENCH_CRAWLER_FLAGS="..." replaces the flags (empty: none), and a
 * DUCKDB_JE_MALLOC_CONF in the environment replaces the allocator setting.
 */
import { fork, type ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { Agent, request } from 'undici';
import { COLLECTOR_NODE_FLAGS, collectorEnv } from '../collectors/process.ts';
import type { PeerObservation } from '../collectors/store/peers.ts';

const SELF = fileURLToPath(import.meta.url);

interface SimInfo {
  env: Record<string, string>;
  connectTo: string[];
  domains: string[];
}

// ---------------------------------------------------------------------------------------------- children

async function simChild(opts: {
  peers: number;
  latencyMedianMs: number;
  failureRate: number;
}): Promise<void> {
  const { startSim } = await import('../sim/index.ts');
  const { gzipBomb } = await import('../sim/peers/failures.ts');
  const sim = await startSim({
    peers: opts.peers,
    latencyMedianMs: opts.latencyMedianMs,
    failureRate: opts.failureRate
  });
  if (opts.failureRate > 0) await gzipBomb();
  const domains = sim.peers
    .peers()
    .filter((p) => p.behaviour === 'ok')
    .map((p) => p.domain);
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'stats') process.send!({ requests: sim.stats.requests });
    if (m.cmd === 'stop') void sim.stop().then(() => process.exit(0));
  });
  const info: SimInfo = { env: sim.env(), connectTo: sim.connectTo, domains };
  process.send!({ ready: info });
}

async function crawlChild(env: Record<string, string>): Promise<void> {
  Object.assign(process.env, env);
  // Sum of request durations (create → end/error), for the ideal of benchmark B.
  const started = new WeakMap<object, number>();
  let sumMs = 0;
  let count = 0;
  const end = (m: unknown) => {
    const req = (m as { request: object }).request;
    const t = started.get(req);
    if (t !== undefined) {
      sumMs += performance.now() - t;
      count++;
      started.delete(req);
    }
  };
  diagnostics.subscribe('undici:request:create', (m) =>
    started.set((m as { request: object }).request, performance.now())
  );
  diagnostics.subscribe('undici:request:trailers', end);
  diagnostics.subscribe('undici:request:error', end);
  const { loadConfig } = await import('../src/lib/server/config.ts');
  const { runCollection } = await import('../collectors/run.ts');
  const { silentProgress } = await import('../collectors/progress.ts');
  const t0 = performance.now();
  const trace = process.env.BENCH_TRACE;
  const samples: string[] = [];
  const at = () => ((performance.now() - t0) / 1000).toFixed(1);
  // Phase marks in the trace (crawl end, rollup, publish), so a spike can be put down to one of them.
  // The kernel's high-water mark (VmHWM) catches a spike shorter than the sampling interval.
  const hwm = () => /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const mark = (what: string) =>
    samples.push(
      `${at()} mark ${what} rss ${(process.memoryUsage.rss() / 1048576).toFixed(0)} hwm ${Math.round(Number(hwm()) / 1024)}`
    );
  const progress = trace
    ? {
        ...silentProgress,
        status: (text: string) => {
          if (!text.includes('in flight')) mark(text);
        },
        line: (text: string) => mark(text),
        done: () => mark('run recorded; publishing the snapshot')
      }
    : silentProgress;
  const sampler = trace
    ? setInterval(
        () => {
          const m = process.memoryUsage();
          const mb = (n: number) => (n / 1048576).toFixed(0);
          samples.push(
            `${at()} rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)} ` +
              v8
                .getHeapSpaceStatistics()
                .map(
                  (x) => `${x.space_name.replace('_space', '')} ${mb(x.space_used_size)}/${mb(x.space_size)}`
                )
                .join(' ') +
              ` handles ${(process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length}` +
              ` hwm ${Math.round(Number(hwm()) / 1024)}`
          );
        },
        Number(process.env.BENCH_TRACE_MS ?? 500)
      )
    : null;
  const s = await runCollection('peers', { config: loadConfig(process.env), progress });
  const wallMs = performance.now() - t0;
  if (trace) mark('snapshot published, database closed');
  if (sampler) {
    clearInterval(sampler);
    (await import('node:fs')).writeFileSync(trace!, samples.join('\n'));
  }
  await sendAndWait({
    done: {
      wallMs,
      hosts: s.sources[0]?.items ?? 0,
      message: s.sources[0]?.message,
      requestMs: sumMs,
      requests: count,
      maxRssMb: peakRssMb()
    }
  });
}

function sendAndWait(msg: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(msg, () => resolve()));
}

/** Kernel high-water mark of this process's RSS, in MB (catches spikes between samples). */
function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** S: what the crawler does to the database for `peers` hosts, without fetching anything. */
async function storeChild(o: { peers: number; file: string }): Promise<void> {
  const { openWriter, closeWriter } = await import('../collectors/store/database.ts');
  const store = await import('../collectors/store/peers.ts');
  const { peerCrawlConfig } = await import('../collectors/peers/config.ts');
  const { batchSize } = peerCrawlConfig({});
  const t0 = performance.now();
  const db = await openWriter(o.file, 'peers');
  await db.run(`SET memory_limit = '96MB'`); // as collectPeers does
  const now = new Date();
  const day = now.toISOString().slice(0, 10);
  const domains = Array.from(
    { length: o.peers },
    (_, i) => `peer-${i.toString(36)}.example-${i % 97}.social`
  );
  await store.seedKnownPeers(db, domains, now);
  domains.length = 0;
  await store.loadSeeds(db, []);
  let after = '';
  let n = 0;
  for (;;) {
    const page = await store.workPage(db, after, now, day, 1000);
    if (page.length === 0) break;
    after = page[page.length - 1].domain;
    for (let b = 0; b < page.length; b += batchSize) {
      await store.writeObservations(
        db,
        1,
        page.slice(b, b + batchSize).map((w) => syntheticObservation(w.domain, n++, now, day))
      );
    }
  }
  await store.rollupFederationDay(db, day, 1);
  closeWriter(db);
  await sendAndWait({ done: { wallMs: performance.now() - t0, hosts: n, maxRssMb: peakRssMb() } });
}

/** One host in seven failing; the others serve a NodeInfo document of the simulator's average size. */
function syntheticObservation(domain: string, i: number, now: Date, day: string): PeerObservation {
  const ok = i % 7 !== 0;
  const users = i * 3 + 10;
  const raw = JSON.stringify({
    version: '2.0',
    software: { name: 'mastodon', version: `4.3.${i % 9}` },
    protocols: ['activitypub'],
    services: { inbound: [], outbound: [] },
    openRegistrations: i % 3 === 0,
    usage: { users: { total: users, activeMonth: i % 500, activeHalfyear: i % 900 }, localPosts: i * 40 },
    metadata: { nodeName: `Server ${domain}`, nodeDescription: `A friendly place on ${domain}. `.repeat(4) }
  });
  return {
    domain,
    observedAt: now,
    crawlDay: day,
    outcome: ok ? 'ok' : 'timeout',
    httpStatus: ok ? 200 : null,
    software: ok ? 'mastodon' : null,
    softwareVersion: ok ? `4.3.${i % 9}` : null,
    usersTotal: ok ? users : null,
    usersActiveMonth: ok ? i % 500 : null,
    usersActiveHalfyear: ok ? i % 900 : null,
    localPosts: ok ? i * 40 : null,
    openRegistrations: ok ? i % 3 === 0 : null,
    suspectReasons: [],
    nodeinfoVersion: ok ? '2.0' : null,
    nodeinfoUrl: ok ? `https://${domain}/nodeinfo/2.0` : null,
    nodeName: ok ? `Server ${domain}` : null,
    quirks: i % 5 === 0 ? ['numbers_as_strings'] : [],
    error: ok ? null : 'no answer within 5000 ms',
    raw: ok ? raw : null,
    prevRawHash: null,
    instanceApi: ok ? 'v2' : null,
    instanceTitle: ok ? `Server ${domain}` : null,
    instanceVersion: ok ? '4.3.1' : null,
    instanceUserCount: ok ? users : null,
    instanceActiveMonth: ok ? i % 500 : null,
    limit: i % 400 === 0 ? { severity: 'silence', matchedBy: 'domain', comment: 'spam' } : null,
    hostState: ok ? 'ok' : 'failing',
    consecutiveFailures: ok ? 0 : 1,
    nextAttemptAt: null
  };
}

/** The same number of GETs to the same hosts, host by host, as bare undici with the same pool settings. */
async function bareChild(o: {
  domains: string[];
  requests: number;
  concurrency: number;
  connectTo: string[];
}): Promise<void> {
  const { parseConnectTo, applyConnectTo } = await import('../src/lib/server/config.ts');
  const { buildConnector } = await import('undici');
  const rules = o.connectTo.map(parseConnectTo);
  const base = buildConnector({});
  const agent = new Agent({
    connections: 1,
    keepAliveTimeout: 4000,
    connect: (opts, cb) => {
      const t = applyConnectTo(rules, opts.hostname, 443);
      return base({ ...opts, hostname: t.host, port: String(t.port) }, cb);
    }
  });
  const paths = [
    '/robots.txt',
    '/.well-known/nodeinfo',
    '/nodeinfo/2.0',
    '/api/v2/instance',
    '/api/v1/instance/domain_blocks'
  ];
  const perHost = Math.max(1, Math.round(o.requests / o.domains.length));
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < o.domains.length && done < o.requests) {
      const host = o.domains[next++];
      for (let i = 0; i < perHost && done < o.requests; i++) {
        const res = await request(`https://${host}${paths[i % paths.length]}`, {
          dispatcher: agent,
          headers: { accept: 'application/json', 'user-agent': 'bench' }
        });
        await res.body.arrayBuffer();
        done++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const wallMs = performance.now() - t0;
  await agent.close();
  await sendAndWait({ done: { wallMs, requests: done } });
}

// ----------------------------------------------------------------------------------------------- parent

function child(
  args: string[],
  env: Record<string, string> = {},
  nodeFlags: readonly string[] = []
): ChildProcess {
  return fork(SELF, args, {
    execArgv: [...process.execArgv, ...nodeFlags],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  });
}

function message<T>(c: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', on);
        resolve(m[key] as T);
      }
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before "${key}"`)));
  });
}

async function startSimChild(peers: number, latencyMedianMs: number, failureRate: number) {
  const c = child(['--sim-child', JSON.stringify({ peers, latencyMedianMs, failureRate })]);
  const info = await message<SimInfo>(c, 'ready');
  const requests = async () => {
    c.send({ cmd: 'stats' });
    return (await message<{ requests: number }>(c, 'requests')) as unknown as number;
  };
  const stop = async () => {
    c.send({ cmd: 'stop' });
    await new Promise((r) => c.once('exit', r));
  };
  return { info, requests, stop };
}

interface CrawlResult {
  wallMs: number;
  hosts: number;
  message?: string;
  requestMs: number;
  requests: number;
  maxRssMb: number;
}

/** The crawler runs with the collector's own node flags (BENCH_CRAWLER_FLAGS="" to measure without). */
const crawlerFlags = () =>
  process.env.BENCH_CRAWLER_FLAGS?.split(/\s+/).filter(Boolean) ?? COLLECTOR_NODE_FLAGS;

async function crawl(info: SimInfo, extra: Record<string, string>): Promise<CrawlResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-bench-'));
  try {
    // NODE_EXTRA_CA_CERTS is read at start-up, so the environment goes in at fork time.
    const c = child(
      ['--crawl-child'],
      { ...collectorEnv(), ...info.env, FEDIPULSE_DB: path.join(dir, 'bench.duckdb'), ...extra },
      crawlerFlags()
    );
    return await message<CrawlResult>(c, 'done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FAST = { FEDIPULSE_PEER_MIN_INTERVAL_MS: '0', FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS: '0' };

async function benchA(peers: number) {
  const sim = await startSimChild(peers, 0, 0);
  const before = await sim.requests();
  const r = await crawl(sim.info, FAST);
  const requests = (await sim.requests()) - before;
  const c = child(['--bare-child'], { NODE_EXTRA_CA_CERTS: sim.info.env.NODE_EXTRA_CA_CERTS });
  c.send({ bare: { domains: sim.info.domains, requests, concurrency: 64, connectTo: sim.info.connectTo } });
  const bare = await message<{ wallMs: number; requests: number }>(c, 'done');
  // The bare client needs the simulator's CA as well.
  await sim.stop();
  const out = {
    peers,
    hosts: r.hosts,
    requests,
    pipelineS: r.wallMs / 1000,
    hostsPerS: r.hosts / (r.wallMs / 1000),
    bareS: bare.wallMs / 1000,
    ratio: bare.wallMs / r.wallMs,
    crawlerPeakRssMb: r.maxRssMb,
    message: r.message
  };
  console.log(`A zero latency: ${JSON.stringify(out)}`);
  return out;
}

async function benchB(peers: number) {
  const median = 80;
  const sigma = 0.6; // the simulator's default
  const concurrency = 64;
  const sim = await startSimChild(peers, median, 0.15);
  const before = await sim.requests();
  const r = await crawl(sim.info, { ...FAST, FEDIPULSE_PEER_TIMEOUT_MS: '5000' });
  const requests = (await sim.requests()) - before;
  await sim.stop();
  const meanLatency = median * Math.exp((sigma * sigma) / 2);
  const idealFromModel = (requests * meanLatency) / concurrency / 1000;
  const idealMeasured = r.requestMs / concurrency / 1000;
  const out = {
    peers,
    hosts: r.hosts,
    requests,
    clientRequests: r.requests,
    wallS: r.wallMs / 1000,
    meanRequestMs: r.requestMs / Math.max(1, r.requests),
    idealS: idealMeasured,
    wallOverIdeal: r.wallMs / 1000 / idealMeasured,
    idealModelS: idealFromModel
  };
  console.log(`B latency+failures: ${JSON.stringify(out)}`);
  return out;
}

async function benchC(peers: number) {
  const sim = await startSimChild(peers, 0, 0.15);
  const r = await crawl(sim.info, { ...FAST, FEDIPULSE_PEER_TIMEOUT_MS: '5000' });
  await sim.stop();
  const out = {
    peers,
    hosts: r.hosts,
    wallS: r.wallMs / 1000,
    hostsPerS: r.hosts / (r.wallMs / 1000),
    peakRssMb: r.maxRssMb,
    message: r.message
  };
  console.log(`C scale: ${JSON.stringify(out)}`);
  return out;
}

async function benchS(peers: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-bench-'));
  try {
    const c = child(
      ['--store-child', JSON.stringify({ peers, file: path.join(dir, 'bench.duckdb') })],
      collectorEnv(),
      crawlerFlags()
    );
    const r = await message<{ wallMs: number; hosts: number; maxRssMb: number }>(c, 'done');
    const out = { peers, hosts: r.hosts, wallS: r.wallMs / 1000, peakRssMb: r.maxRssMb };
    console.log(`S storage only: ${JSON.stringify(out)}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--sim-child') {
    await simChild(JSON.parse(argv[1]) as { peers: number; latencyMedianMs: number; failureRate: number });
    return 0;
  }
  if (argv[0] === '--crawl-child') {
    await crawlChild({});
    process.exit(0);
  }
  if (argv[0] === '--store-child') {
    await storeChild(JSON.parse(argv[1]) as { peers: number; file: string });
    process.exit(0);
  }
  if (argv[0] === '--bare-child') {
    const { bare } = await new Promise<{ bare: Parameters<typeof bareChild>[0] }>((r) =>
      process.once('message', r as never)
    );
    await bareChild(bare);
    process.exit(0);
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: 'A,B,C' },
      'peers-a': { type: 'string', default: '5000' },
      'peers-b': { type: 'string', default: '3000' },
      'peers-c': { type: 'string', default: '100000' },
      'peers-s': { type: 'string', default: '100000' }
    }
  });
  const only = new Set(values.only.split(','));
  console.log(
    `peer-crawl bench on ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}`
  );
  if (only.has('A')) await benchA(Number(values['peers-a']));
  if (only.has('B')) await benchB(Number(values['peers-b']));
  if (only.has('C')) await benchC(Number(values['peers-c']));
  if (only.has('S')) await benchS(Number(values['peers-s']));
  return 0;
}

if (process.argv[1] === SELF) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (process.argv[2] !== '--sim-child') process.exit(code);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    }
  );
}
