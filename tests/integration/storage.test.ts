import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { closeWriter, openReadOnly, openWriter } from '../../collectors/store/database.ts';
import { latestSnapshot, listSnapshots } from '../../collectors/store/snapshots.ts';
import {
  runCollect,
  spawnCollect,
  finished,
  startDashboard,
  startTrustedSim,
  tempDir
} from '../helpers/index.ts';

/** The storage rules of docs/architecture.md: one writer, readers on snapshots, nothing half-written served. */
describe('storage: one writer, published snapshots', () => {
  let sim: Sim;
  let env: Record<string, string>;
  let dbPath: string;

  beforeAll(async () => {
    // Latency on the own server stretches a run so that the tests can act while it is under way.
    sim = await startTrustedSim({ ownLatencyMs: 40 });
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
    const first = await runCollect(['instance', '--quiet'], env);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
  });
  afterAll(async () => sim?.stop());

  it('a second collection exits at once with a non-zero status, naming the running one', async () => {
    const holder = await openWriter(dbPath, 'peers');
    try {
      const second = await runCollect(['instance'], env);
      expect(second.code).toBe(75);
      expect(second.stderr).toMatch(new RegExp(`"peers" collection \\(PID ${process.pid}, started `));
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      closeWriter(holder);
    }
  });

  it('the dashboard keeps serving while a collection runs, and the collection succeeds', async () => {
    const dashboard = await startDashboard(env);
    try {
      const before = listSnapshots(dbPath).at(-1);
      const child = spawnCollect(['instance', '--quiet'], env);
      const done = finished(child);
      const statuses: number[] = [];
      let running = true;
      void done.then(() => (running = false));
      while (running) {
        statuses.push((await fetch(`${dashboard.url}/`)).status);
      }
      const result = await done;
      expect(result.code).toBe(0);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200)).toBe(true);
      const after = latestSnapshot(dbPath);
      expect(after).not.toBe(before);
      // The server picks up the new snapshot by itself.
      let served = '';
      const want = path.basename(after!); // /healthz names the file, never its path
      for (let i = 0; i < 50 && served !== want; i++) {
        served = ((await (await fetch(`${dashboard.url}/healthz`)).json()) as { snapshot: string }).snapshot;
        if (served !== want) await new Promise((r) => setTimeout(r, 100));
      }
      expect(served).toBe(want);
    } finally {
      await dashboard.stop();
    }
  });

  it('kill -9 mid-run publishes nothing; the re-run marks it interrupted and leaves a consistent database', async () => {
    const snapshotsBefore = listSnapshots(dbPath);
    const requestsBefore = sim.stats.requests;
    const child = spawnCollect(['instance', '--quiet'], env);
    const done = finished(child);
    // Wait until it holds the database and has begun fetching (so its run is recorded), then kill it
    // without warning at a random point of the fetching.
    const target = requestsBefore + 2 + Math.floor(Math.random() * 20);
    while (
      (!existsSync(`${dbPath}.collector.json`) || sim.stats.requests < target) &&
      child.exitCode === null
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    const killed = await done;
    if (killed.signal === 'SIGKILL') {
      // Nothing of the killed run reached the readers.
      expect(listSnapshots(dbPath)).toEqual(snapshotsBefore);
    }
    const rerun = await runCollect(['instance', '--quiet'], env);
    expect(rerun.code).toBe(0);

    const db = await openReadOnly(latestSnapshot(dbPath)!);
    try {
      const runs = await db.all<{ status: string; message: string | null }>(
        'SELECT status, message FROM collection_runs ORDER BY run_id'
      );
      expect(runs.some((r) => r.status === 'running')).toBe(false);
      if (killed.signal === 'SIGKILL') {
        expect(runs.some((r) => r.status === 'failed' && /interrupted/.test(r.message ?? ''))).toBe(true);
      }
      const dupes = await db.all(
        'SELECT instance, day, metric, count(*) AS n FROM daily_metrics GROUP BY ALL HAVING count(*) > 1'
      );
      expect(dupes).toEqual([]);
      const members = await db.one<{ v: number }>(
        "SELECT value AS v FROM daily_metrics WHERE metric = 'user_count' ORDER BY day DESC LIMIT 1"
      );
      expect(members?.v).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(readdirSync(path.dirname(dbPath)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
