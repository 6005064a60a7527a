import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { serve, type Served } from '../../bench/pages.ts';
import { runCollection, type Kind, type RunSummary } from '../../collectors/run.ts';
import { startSim, type Sim, type SimOptions } from '../../sim/index.ts';
import type { World } from '../../sim/own-server/world.ts';
import { loadConfig } from '../../src/lib/server/config.ts';

const DAY = 86_400_000;

export interface TruthOptions {
  /** Simulated days of daily collections before `end` (inclusive of both ends). */
  days: number;
  /** The last collection's day (UTC midnight ms); default: today. Collections run at 06:00 UTC. */
  end?: number;
  /** Which collection runs on day index i (0 = oldest): default `instance`, `all` every 7th and last day. */
  kindOf?: (i: number, last: boolean) => Kind | null;
  sim?: SimOptions;
  /** Environment for the collections (merged over the simulator's own). */
  env?: Record<string, string>;
  /** Environment for the dashboard server. */
  serverEnv?: Record<string, string>;
  /** Serve the built dashboard on the result (default true; needs `npm run build`). */
  serve?: boolean;
  /** Awaited before the collection of day index i, e.g. to upgrade the simulated server or look at the file. */
  onDay?: (i: number, sim: Sim, file: string) => void | Promise<void>;
}

/**
 * The ground-truth harness: the simulator (whose model knows every account, sign-in, report and peer),
 * the real collectors run against it day by day on its clock, and the built dashboard serving what they
 * stored. Tests compare `/data/<page>/<metric>.json` with values computed from `world()`, not from SQL.
 */
export interface Truth {
  sim: Sim;
  /** The simulated server's model as of the simulator's clock (set to the last collection). */
  world(): World;
  file: string;
  runs: RunSummary[];
  /** Collection times (ms), oldest first. */
  times: number[];
  served: Served | null;
  /** GET a dashboard path as signed-in staff. */
  get(p: string): Promise<Response>;
  json<T>(p: string): Promise<T>;
  /** Run one more collection at `at` (ms), e.g. after changing the simulator's settings. */
  collect(kind: Kind, at: number): Promise<RunSummary>;
  stop(): Promise<void>;
}

export async function collectFromSim(o: TruthOptions): Promise<Truth> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-truth-'));
  const file = path.join(dir, 'fp.duckdb');
  const sim = await startSim({
    peers: 150,
    dir: path.join(dir, 'sim'),
    // Simulated days pass in seconds: Mastodon's real limits would stall the history (as in the demo).
    own: {
      rateLimit: { perToken: 1e6, perIp: 1e6, paging: 1e6, windowMs: 300_000, pagingWindowMs: 900_000 }
    },
    ...o.sim
  });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  const env: Record<string, string> = {
    ...sim.env({ FEDIPULSE_TOKEN: sim.own.tokens.admin }),
    FEDIPULSE_DB: file,
    FEDIPULSE_PEER_TIMEOUT_MS: '4000',
    FEDIPULSE_PEER_MIN_INTERVAL_MS: '0',
    FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS: '200',
    ...o.env
  };
  // Collections read their settings (and the token) from the environment, as the CLI does.
  Object.assign(process.env, env);
  const config = loadConfig(process.env);
  const collect = async (kind: Kind, at: number) => {
    sim.clock.set(new Date(at));
    return runCollection(kind, { config, now: () => sim.clock.now() });
  };

  const today = Math.floor(Date.now() / DAY) * DAY;
  const end = o.end ?? today;
  const kindOf = o.kindOf ?? ((i: number, last: boolean) => (last || i % 7 === 0 ? 'all' : 'instance'));
  const runs: RunSummary[] = [];
  const times: number[] = [];
  for (let i = 0; i < o.days; i++) {
    const at = end - (o.days - 1 - i) * DAY + 6 * 3600_000;
    const kind = kindOf(i, i === o.days - 1);
    if (!kind) continue;
    await o.onDay?.(i, sim, file);
    runs.push(await collect(kind, at));
    times.push(at);
  }

  const served =
    o.serve === false
      ? null
      : await serve(file, { buildDir: process.env.FEDIPULSE_BUILD_DIR, env: o.serverEnv });
  const get = (p: string) => {
    if (!served) throw new Error('collectFromSim({ serve: false }) has no dashboard');
    return fetch(`${served.url}${p}`, { headers: { cookie: served.staffCookie, 'accept-language': 'en' } });
  };
  return {
    sim,
    world: () => sim.own.world(),
    file,
    runs,
    times,
    served,
    get,
    json: async <T>(p: string) => {
      const res = await get(p);
      if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status}`);
      return (await res.json()) as T;
    },
    collect: async (kind, at) => {
      const r = await collect(kind, at);
      runs.push(r);
      times.push(at);
      return r;
    },
    stop: async () => {
      await served?.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
