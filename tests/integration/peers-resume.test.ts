import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openReadOnly } from '../../collectors/store/database.ts';
import type { Sim } from '../../sim/index.ts';
import { finished, runCollect, spawnCollect, startTrustedSim, tempDir } from '../helpers/index.ts';

let sim: Sim;
beforeAll(async () => {
  // Latency so that the crawl is still running when it is killed.
  sim = await startTrustedSim({ peers: 600, seed: 11, latencyMedianMs: 40 });
});
afterAll(async () => {
  await sim?.stop();
});

it('kill -9 mid-crawl, then re-run: the crawl day completes with no duplicate observations', async () => {
  const dbPath = path.join(tempDir(), 'resume.duckdb');
  const env = sim.env({
    FEDIPULSE_DB: dbPath,
    FEDIPULSE_PEER_TIMEOUT_MS: '2000',
    FEDIPULSE_PEER_MIN_INTERVAL_MS: '0',
    FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS: '0',
    FEDIPULSE_PEER_CONCURRENCY: '16'
  });
  const child = spawnCollect(['peers', '--quiet'], env);
  const done = finished(child);
  const start = sim.stats.requests;
  // Past the first batch flush (every second) but far from the end.
  while (sim.stats.requests - start < 1200 && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 50));
  expect(child.exitCode).toBeNull();
  child.kill('SIGKILL');
  expect((await done).signal).toBe('SIGKILL');

  const second = await runCollect(['peers', '--quiet'], env);
  expect(second.code, second.stderr).toBe(0);

  const db = await openReadOnly(dbPath);
  try {
    const runs = await db.all<{ run_id: number; status: string }>(
      `SELECT run_id, status FROM collection_runs ORDER BY run_id`
    );
    expect(runs.map((r) => r.status)).toEqual(['failed', 'ok']);
    const perRun = await db.all<{ run_id: number; n: number }>(
      'SELECT run_id, count(*) AS n FROM peer_obs GROUP BY run_id ORDER BY run_id'
    );
    expect(perRun.length).toBe(2); // the killed run had committed batches, and they were kept
    const [dupes] = await db.all<{ n: number }>(
      'SELECT count(*) AS n FROM (SELECT domain FROM peer_obs GROUP BY domain, crawl_day HAVING count(*) > 1)'
    );
    expect(dupes.n).toBe(0);
    // Every domain of the crawl list was observed exactly once that day.
    const [missing] = await db.all<{ n: number }>(
      `SELECT count(*) AS n FROM known_peers k WHERE k.in_peers_list
         AND k.domain <> $1 AND NOT EXISTS (SELECT 1 FROM peer_obs o WHERE o.domain = k.domain)`,
      [new URL(sim.ownUrl).hostname]
    );
    expect(missing.n).toBe(0);
    const [fd] = await db.all<{ peers_reachable: number }>('SELECT * FROM federation_daily');
    const [ok] = await db.all<{ n: number }>(`SELECT count(*) AS n FROM peer_obs WHERE outcome = 'ok'`);
    expect(fd.peers_reachable).toBe(ok.n);
  } finally {
    db.close();
  }
});
