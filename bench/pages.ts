/**
 * Page benchmark: generates the big dataset (3 years of daily metrics, 365 crawls x 30,000 peers), starts
 * the built dashboard on it, requests each page N times as signed-in staff, and reports the median and p95
 * server time per page and the overview's JavaScript + CSS, gzipped. Figures go to docs/performance.md.
 *
 *   npm run build && npm run bench:pages [-- --n 30 --db /tmp/fp-bench.duckdb --reuse]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BENCH, generateDataset } from './dataset.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { newSession, seal } from '../src/lib/server/auth/session.ts';
import { listSnapshots } from '../collectors/store/snapshots.ts';

export const ALL_PAGES = ['/', '/growth', '/retention', '/federation', '/moderation', '/capacity', '/status'];
const SECRET = 'fedipulse-bench-session-secret';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Served {
  url: string;
  /** A session cookie for a staff member, as the sign-in flow would set it. */
  staffCookie: string;
  stop(): Promise<void>;
}

export async function serve(
  db: string,
  opts: { buildDir?: string; env?: Record<string, string>; publicPages?: boolean } = {}
): Promise<Served> {
  const port = await freePort();
  const entry = path.join(opts.buildDir ?? path.resolve('build'), 'index.js');
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      FEDIPULSE_DB: db,
      PORT: String(port),
      HOST: '127.0.0.1',
      ORIGIN: `http://127.0.0.1:${port}`,
      FEDIPULSE_SESSION_SECRET: SECRET,
      FEDIPULSE_DISK_BYTES: '2000000000000',
      ...(opts.publicPages === false
        ? {}
        : { FEDIPULSE_PUBLIC_PAGES: 'overview,growth,retention,federation,moderation,capacity,status' }),
      ...opts.env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`dashboard exited: ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).status < 500) break;
    } catch {
      /* not listening yet */
    }
    if (i > 150) throw new Error(`dashboard did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const session = newSession(
    { id: '1', acct: 'admin@coop.social.example', displayName: 'Bench Admin', role: 'Admin', via: 'role' },
    3600
  );
  const staffCookie = `fedipulse_session=${seal(Buffer.from(SECRET, 'utf8'), 'session', session)}`;
  return {
    url,
    staffCookie,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })
  };
}

const arg = (args: string[], name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
};

/** JS and CSS the overview loads: what its HTML references, plus everything its page and layout import. */
export async function overviewAssets(url: string, cookie: string, buildDir: string) {
  const html = await (await fetch(`${url}/`, { headers: { cookie } })).text();
  const client = path.join(buildDir, 'client');
  const seen = new Set<string>();
  const queue = [...html.matchAll(/["'(](?:\.{0,2}\/)*(_app\/immutable\/[^"')]+\.(?:js|css))/g)].map(
    (m) => `/${m[1]}`
  );
  // The page's own nodes (layout, page) are loaded by the entry from the ids in SvelteKit's inline start script.
  const ids =
    /node_ids:\s*\[([\d,\s]+)\]/
      .exec(html)?.[1]
      .split(',')
      .map((x) => x.trim()) ?? [];
  const nodeDir = path.join(client, '_app/immutable/nodes');
  for (const f of readdirSync(nodeDir))
    if (f.endsWith('.js') && ids.includes(f.split('.')[0])) queue.push(`/_app/immutable/nodes/${f}`);
  while (queue.length) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    if (!p.endsWith('.js')) continue;
    const code = readFileSync(path.join(client, p), 'utf8');
    // The app entry lazily imports every route; follow lazy imports only from the overview's own nodes.
    const follow = /\/nodes\/|\/chunks\//.test(p) && !/\/entry\//.test(p);
    const re = follow
      ? /(?:from|import)\s*\(?\s*["'`](\.{1,2}\/[^"'`]+)["'`]/g
      : /(?:from|import)\s*["'](\.{1,2}\/[^"']+)["']/g;
    for (const m of code.matchAll(re)) queue.push(path.posix.join(path.posix.dirname(p), m[1]));
  }
  let js = 0;
  let css = 0;
  for (const p of seen) {
    const gz = gzipSync(readFileSync(path.join(client, p)), { level: 9 }).length;
    if (p.endsWith('.css')) css += gz;
    else js += gz;
  }
  return { files: seen.size, js, css };
}

export async function main(args: string[]): Promise<number> {
  const n = Number(arg(args, 'n') ?? 30);
  const db = arg(args, 'db') ?? path.join(os.tmpdir(), 'fedipulse-bench-pages.duckdb');
  const buildDir = path.resolve(arg(args, 'build') ?? 'build');
  if (!existsSync(path.join(buildDir, 'index.js'))) {
    process.stderr.write(`no build at ${buildDir}: run npm run build first\n`);
    return 1;
  }
  if (!args.includes('--reuse') || listSnapshots(db).length === 0) {
    const t = performance.now();
    await generateDataset({ ...BENCH, file: db });
    process.stdout.write(
      `dataset: ${BENCH.days} days, ${BENCH.crawls} crawls x ${BENCH.peers} peers in ${((performance.now() - t) / 1000).toFixed(0)} s\n`
    );
  }
  const server = await serve(db, { buildDir, publicPages: false });
  const results: { page: string; first: number; median: number; p95: number }[] = [];
  try {
    for (const page of ALL_PAGES) {
      const times: number[] = [];
      let first = 0;
      for (let i = 0; i <= n; i++) {
        const t = performance.now();
        const res = await fetch(`${server.url}${page}`, { headers: { cookie: server.staffCookie } });
        await res.text();
        const ms = performance.now() - t;
        if (res.status !== 200) throw new Error(`${page}: HTTP ${res.status}`);
        if (i === 0) first = ms;
        else times.push(ms);
      }
      results.push({ page, first, median: q(times, 0.5), p95: q(times, 0.95) });
    }
    const assets = await overviewAssets(server.url, server.staffCookie, buildDir);
    const date = new Date().toISOString().slice(0, 10);
    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const lines = [
      `Measured ${date} on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.versions.node};`,
      `${n} requests per page after one warm-up, signed in as staff, 30-day default range.`,
      '',
      '| page | first request (ms) | median (ms) | p95 (ms) |',
      '|---|---:|---:|---:|',
      ...results.map(
        (r) => `| \`${r.page}\` | ${r.first.toFixed(0)} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} |`
      ),
      '',
      `Overview JavaScript + CSS, gzipped (HTML-referenced files and everything the page imports, including the lazily loaded Chart.js chunk): **${((assets.js + assets.css) / 1024).toFixed(1)} KB** (JS ${(assets.js / 1024).toFixed(1)} KB, CSS ${(assets.css / 1024).toFixed(1)} KB, ${assets.files} files).`
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const slow = results.filter((r) => r.median > 150);
    const heavy = assets.js + assets.css > 200 * 1024;
    if (slow.length || heavy)
      process.stdout.write(
        `over target: ${slow.map((r) => r.page).join(', ')}${heavy ? ' overview size' : ''}\n`
      );
    return slow.length || heavy ? 1 : 0;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
