/**
 * Load: autocannon against the overview (/) and /federation of the built dashboard while a peer crawl runs
 * against the simulator (the crawl writes, checkpoints and publishes a snapshot the server swaps in under
 * load). Reports requests per second, p99 latency and errors (connection errors, timeouts, non-2xx).
 *
 *   npm run build && npm run bench:load -- [--duration 15] [--connections 10] [--peers 1500]
 */
import autocannon from 'autocannon';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  finished,
  runCollect,
  spawnCollect,
  startDashboard,
  startTrustedSim,
  tempDir
} from '../tests/helpers/index.ts';

interface PathResult {
  path: string;
  phase: string;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
  timeouts: number;
  requests: number;
}

async function hammer(
  url: string,
  p: string,
  phase: string,
  duration: number,
  connections: number
): Promise<PathResult> {
  const r = await autocannon({ url: url + p, duration, connections, timeout: 10 });
  return {
    path: p,
    phase,
    requests_per_s: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors,
    non_2xx: r.non2xx,
    timeouts: r.timeouts,
    requests: r.requests.total
  };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '15' },
      connections: { type: 'string', default: '10' },
      peers: { type: 'string', default: '1500' }
    }
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const log = (s: string) => process.stdout.write(s + '\n');
  // Peers answer with realistic latency, so the crawl is still running while the pages are loaded.
  const sim = await startTrustedSim({ peers: Number(values.peers), latencyMedianMs: 60 });
  const dbPath = path.join(tempDir('fedipulse-load-'), 'fedipulse.duckdb');
  const env = {
    ...sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin }),
    // The pages under test are published so the load is the page itself, not a redirect to sign-in.
    FEDIPULSE_PUBLIC_PAGES: 'overview,federation'
  };
  const results: PathResult[] = [];
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | null = null;
  try {
    const first = await runCollect(['instance', '--quiet'], env);
    if (first.code !== 0) throw new Error(`instance collection failed: ${first.stderr}`);
    dashboard = await startDashboard(env);
    for (const p of ['/', '/federation']) {
      const s = (await fetch(dashboard.url + p, { redirect: 'manual' })).status;
      if (s !== 200) log(`warning: ${p} answers ${s} before the load (counted as errors below)`);
    }
    const crawl = spawnCollect(['peers', '--quiet'], env);
    const crawlDone = finished(crawl);
    let crawling = true;
    void crawlDone.then(() => (crawling = false));
    const t0 = Date.now();
    for (const p of ['/', '/federation']) {
      const r = await hammer(
        dashboard.url,
        p,
        crawling ? 'during peer crawl' : 'crawl already finished',
        duration,
        connections
      );
      results.push(r);
      log(
        `${p}: ${r.requests_per_s} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors + r.timeouts + r.non_2xx} (${r.phase})`
      );
    }
    const c = await crawlDone;
    log(`peer crawl: exit ${c.code} after ${((Date.now() - t0) / 1000).toFixed(0)} s of the load phase`);
    // The same pages once the crawl has published, for comparison.
    for (const p of ['/', '/federation']) {
      const r = await hammer(dashboard.url, p, 'after the crawl', duration, connections);
      results.push(r);
      log(
        `${p}: ${r.requests_per_s} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors + r.timeouts + r.non_2xx} (${r.phase})`
      );
    }
    log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}`,
          duration_s: duration,
          connections,
          peers: Number(values.peers),
          crawl_exit: c.code,
          results
        },
        null,
        2
      )
    );
    return results.every((r) => r.errors + r.timeouts + r.non_2xx === 0) ? 0 : 1;
  } finally {
    await dashboard?.stop();
    await sim.stop();
  }
}

if (import.meta.main) process.exitCode = await main();
