import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../collectors/progress.ts';
import { runCollection } from '../../collectors/run.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { startReplayServer, type ReplayServer } from './fixture-replay-server.ts';

/** A 429 storm: the collector waits for the reset (or Retry-After), says why, and still collects it all. */
let server: ReplayServer;
let dir: string;

beforeAll(async () => {
  server = await startReplayServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-429-'));
  process.env.FEDIPULSE_TOKEN = 'replay-token';
});

afterAll(async () => {
  delete process.env.FEDIPULSE_TOKEN;
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function recorder(): Progress & { statuses: string[] } {
  const statuses: string[] = [];
  return { statuses, status: (t) => statuses.push(t), line() {}, warn() {}, done() {} };
}

async function collect(db: string, progress: Progress) {
  const config = loadConfig({
    FEDIPULSE_INSTANCE_URL: server.url,
    FEDIPULSE_TOKEN: 'replay-token',
    FEDIPULSE_DB: path.join(dir, db)
  });
  return runCollection('instance', { config, now: () => new Date('2022-09-22T12:00:00Z'), progress });
}

describe('rate limits', () => {
  it('waits until X-RateLimit-Reset after each 429 and collects everything', async () => {
    // A first backfill without a storm counts the requests a run makes; each 429 adds one retry.
    const start = server.requests.length;
    expect((await collect('calm.duckdb', recorder())).status).toBe('ok');
    const calm = server.requests.length - start;
    server.storm(4, 400);
    const before = server.requests.length;
    const p = recorder();
    const s = await collect('storm.duckdb', p);
    expect(s.status).toBe('ok');
    expect(server.requests.length - before).toBe(calm + 4);
    expect(
      p.statuses.filter((t) =>
        /waiting \d+ s before .* HTTP 429 too many requests: waiting for the limit to reset/.test(t)
      )
    ).toHaveLength(4);
  });

  it('honours Retry-After when a proxy sends one', async () => {
    server.storm(1, 60_000, 1);
    const p = recorder();
    const started = Date.now();
    const s = await collect('retry-after.duckdb', p);
    expect(s.status).toBe('ok');
    expect(p.statuses.some((t) => /Retry-After 1 s/.test(t))).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000); // not the 60 s reset
  });
});
