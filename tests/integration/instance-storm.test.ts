import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCollection } from '../../collectors/run.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import type { Progress } from '../../collectors/progress.ts';
import type { Sim } from '../../sim/index.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { startTrustedSim, tempDir } from '../helpers/index.ts';

/** A 429 storm on the simulated server (Mastodon's shapes: ISO reset, no Retry-After), with shrunk windows. */
let sim: Sim;
beforeAll(async () => {
  sim = await startTrustedSim({
    own: { rateLimit: { perToken: 40, perIp: 40, paging: 40, windowMs: 1500, pagingWindowMs: 1500 } }
  });
});
afterAll(async () => {
  await sim?.stop();
  delete process.env.FEDIPULSE_TOKEN;
});

it('waits out a 429 storm and the limits, says why it waits, and still collects everything', async () => {
  const dbPath = path.join(tempDir(), 'storm.duckdb');
  process.env.FEDIPULSE_TOKEN = sim.own.tokens.admin;
  process.env.FEDIPULSE_TOP_PEERS = '3';
  const said: string[] = [];
  const progress: Progress = {
    status: (t) => said.push(t),
    line: (t) => said.push(t),
    warn: (t) => said.push(t),
    done() {}
  };
  sim.own.storm(2500);
  const summary = await runCollection('instance', {
    config: loadConfig(sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin })),
    progress
  });
  delete process.env.FEDIPULSE_TOP_PEERS;
  expect(summary.sources.filter((s) => s.status !== 'ok' && s.status !== 'skipped')).toEqual([]);
  expect(said.some((t) => /waiting \d+ s before .* — .*(429|limit)/i.test(t))).toBe(true);
  const db = await openReadOnly(summary.snapshot!);
  try {
    const row = await db.one<{ days: number }>(
      `SELECT count(*)::INTEGER AS days FROM daily_metrics WHERE metric = 'new_users'`
    );
    expect(row!.days).toBeGreaterThan(365);
  } finally {
    db.close();
  }
});
