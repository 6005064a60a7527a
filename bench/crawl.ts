/**
 * Peer-crawl benchmarks (npm run bench:crawl). The simulator runs in one child process, the crawler in
 * another, the bare-undici baseline in a third, so that none steals the others' event loop.
 *
 *   A  zero latency: hosts/s of the whole pipeline (fetch, parse, store) and its speed relative to bare
 *      undici requests of the same count to the same hosts, in the same run.
 *   B  realistic latency and failures: wall time against the ideal (requests × mean latency ÷ concurrency).
 *   C  100,000 peers: peak RSS of the crawler process.
 *
 * Options: --only A,B,C  --peers-a N  --peers-b N  --peers-c N
 * BENCH_TRACE=file: the crawler child writes RSS, V8 heap spaces and active handles every 500 ms
 * (BENCH_TRACE_MS=n: every n ms) to file, with marks where the crawl ends, the rollup runs and the snapshot
 * is published.
 * The crawler child runs with COLLECTOR_NODE_FLAGS (collectors/process.ts), as `npm run collect` does;
 * BENCH_CRAWLER_FLAGS="..." replaces them (empty: none).
 */
import { fork, type ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { Agent, request } from 'undici';
import { COLLECTOR_NODE_FLAGS } from '../collectors/process.ts';

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
  const mark = (what: string) =>
    samples.push(`${at()} mark ${what} rss ${(process.memoryUsage.rss() / 1048576).toFixed(0)}`);
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
              ` handles ${(process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length}`
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
      maxRssMb: process.resourceUsage().maxRSS / 1024
    }
  });
}

function sendAndWait(msg: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(msg, () => resolve()));
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

async function crawl(info: SimInfo, extra: Record<string, string>): Promise<CrawlResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-bench-'));
  try {
    // NODE_EXTRA_CA_CERTS is read at start-up, so the environment goes in at fork time.
    // The crawler runs with the collector's own node flags (BENCH_CRAWLER_FLAGS="" to measure without).
    const flags = process.env.BENCH_CRAWLER_FLAGS?.split(/\s+/).filter(Boolean) ?? COLLECTOR_NODE_FLAGS;
    const c = child(
      ['--crawl-child'],
      { ...info.env, FEDIPULSE_DB: path.join(dir, 'bench.duckdb'), ...extra },
      flags
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

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--sim-child') {
    await simChild(JSON.parse(argv[1]) as { peers: number; latencyMedianMs: number; failureRate: number });
    return 0;
  }
  if (argv[0] === '--crawl-child') {
    await crawlChild({});
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
      'peers-c': { type: 'string', default: '100000' }
    }
  });
  const only = new Set(values.only.split(','));
  console.log(
    `peer-crawl bench on ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}`
  );
  if (only.has('A')) await benchA(Number(values['peers-a']));
  if (only.has('B')) await benchB(Number(values['peers-b']));
  if (only.has('C')) await benchC(Number(values['peers-c']));
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
