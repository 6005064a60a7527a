import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { startSim } from '../sim/index.ts';
import { runCollection, type Kind } from '../collectors/run.ts';
import { closeWriter, openWriter } from '../collectors/store/database.ts';
import { setSetting } from '../collectors/store/runs.ts';
import { loadConfig } from '../src/lib/server/config.ts';

const DAY = 86_400_000;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Newest modification time under a folder (to know whether the build is stale). */
function newest(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))
    );
  });
}

/**
 * `npm run demo`: the simulated fediverse, collections over simulated time (so charts have history),
 * and the dashboard, all on this machine. Ctrl-C stops everything.
 */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      days: { type: 'string', default: '60' },
      peers: { type: 'string', default: '800' },
      seed: { type: 'string', default: '42' }
    }
  });
  const port = Number(process.env.PORT ?? 3000);
  const dbPath = path.resolve(process.env.FEDIPULSE_DB ?? 'data/demo/fedipulse.duckdb');
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const log = (s: string) => process.stdout.write(`${s}\n`);

  const sim = await startSim({
    seed: Number(values.seed),
    peers: Number(values.peers),
    dir: path.join(path.dirname(dbPath), 'sim'),
    // Simulated days pass in seconds here; Mastodon's real limits would stall the history.
    own: {
      rateLimit: {
        perToken: 100_000,
        perIp: 100_000,
        paging: 100_000,
        windowMs: 300_000,
        pagingWindowMs: 900_000
      }
    }
  });
  // The demo runs collections in this process, so it trusts the simulator's CA the way
  // NODE_EXTRA_CA_CERTS would for a separate collector process.
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  const env = { ...sim.env({ FEDIPULSE_TOKEN: sim.own.tokens.admin }), FEDIPULSE_DB: dbPath };
  // Fewer per-peer admin measures per run keep simulated days quick (the default is 50).
  process.env.FEDIPULSE_TOP_PEERS ??= '20';
  // Politeness delays and timeouts sized for loopback, so a demo crawl takes seconds, not minutes.
  process.env.FEDIPULSE_PEER_TIMEOUT_MS ??= '4000';
  process.env.FEDIPULSE_PEER_MIN_INTERVAL_MS ??= '50';
  process.env.FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS ??= '500';
  // Collections run in this process and read the token from its environment, as the CLI does.
  Object.assign(process.env, env);
  const config = loadConfig(process.env);

  const buildEntry = path.join(root, 'build', 'handler.js');
  if (!existsSync(buildEntry) || newest(path.join(root, 'src')) > statSync(buildEntry).mtimeMs) {
    log('Building the dashboard (first run only)…');
    await run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build']);
  }

  const db = await openWriter(dbPath, 'demo');
  await setSetting(db, 'simulated', 'true');
  closeWriter(db);

  let server: ChildProcess | null = spawn(process.execPath, [path.join(root, 'build', 'index.js')], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      FEDIPULSE_TOKEN: '', // the collector's admin token never reaches the dashboard
      ORIGIN: process.env.ORIGIN ?? `http://localhost:${port}`,
      // A browser cannot resolve the simulated server's name: send it to the simulator's plain-HTTP port.
      FEDIPULSE_OAUTH_BROWSER_URL: `http://127.0.0.1:${sim.httpPort}`,
      // 60 simulated days hold whole months, not yet a whole quarter.
      FEDIPULSE_TRANSPARENCY_PERIOD: process.env.FEDIPULSE_TRANSPARENCY_PERIOD ?? 'month',
      // The simulated server's disk, so capacity shows when it fills up.
      FEDIPULSE_DISK_BYTES: process.env.FEDIPULSE_DISK_BYTES ?? String(400e9)
    },
    stdio: ['ignore', 'ignore', 'inherit']
  });
  log(
    `\nfedipulse demo: http://localhost:${port}  (simulated data: a co-op server and ${values.peers} peers)\n`
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('\nStopping…');
    server?.kill('SIGTERM');
    server = null;
    await sim.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server.on('exit', (code) => {
    if (!stopping) {
      log(`The dashboard server exited (${code}).`);
      void stop();
    }
  });

  // History: one collection a simulated day, peers every week and on the last day.
  const days = Number(values.days);
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const collect = async (kind: Kind, at: number) => {
    sim.clock.set(new Date(at));
    const summary = await runCollection(kind, { config, now: () => sim.clock.now() });
    return summary;
  };
  for (let i = days; i >= 0 && !stopping; i--) {
    const at = today - i * DAY + 6 * 3600_000;
    const kind: Kind = i % 7 === 0 ? 'all' : 'instance';
    const t0 = Date.now();
    const s = await collect(kind, at);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    log(
      `  ${new Date(at).toISOString().slice(0, 10)}  ${kind.padEnd(8)} run ${s.runId} ${s.status} (${secs} s)`
    );
  }
  // The simulated co-op's books: three years of costs and income, as a treasurer's CSV export.
  process.env.FEDIPULSE_LEDGER ??= path.join(root, 'sim', 'ledger', 'demo-ledger.csv');
  process.env.FEDIPULSE_FX_RATES ??= path.join(root, 'sim', 'ledger', 'rates.csv');
  process.env.FEDIPULSE_STORAGE_PRICE_PER_GB_MONTH ??= '0.02';
  if (!stopping) {
    const s = await collect('finances', Date.now());
    log(`  ${new Date().toISOString().slice(0, 10)}  finances run ${s.runId} ${s.status}`);
  }
  sim.clock.set(new Date());
  log(`\nHistory collected. Dashboard: http://localhost:${port}  — Ctrl-C stops the demo.`);
  // Then live: the own server hourly, as a scheduled deployment would.
  while (!stopping) {
    await new Promise((r) => setTimeout(r, 3600_000).unref());
    if (!stopping) await collect('instance', Date.now());
  }
  return 0;
}
