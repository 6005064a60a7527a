import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollection, type RunSummary } from '../../collectors/run.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { dumpOwnTables } from './instance-helpers.ts';

/** The own-server collector against the simulated co-op server (Mastodon's shapes, auth, limits). */
let sim: Sim;
let dir: string;
const ROOT = path.resolve(import.meta.dirname, '../..');
const TOP_PEERS = '5';

beforeAll(async () => {
  sim = await startSim({ peers: 200, ownLatencyMs: 5 });
  // Freeze the simulated server's world: the runs compared below must all see the same server
  const frozen = sim.clock.now();
  sim.clock.now = () => new Date(frozen);
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-instance-'));
  process.env.FEDIPULSE_TOP_PEERS = TOP_PEERS;
});

afterAll(async () => {
  await sim?.stop();
  delete process.env.FEDIPULSE_TOKEN;
  delete process.env.FEDIPULSE_TOP_PEERS;
  rmSync(dir, { recursive: true, force: true });
});

function envFor(db: string, token?: string): Record<string, string> {
  return sim.env({ FEDIPULSE_DB: path.join(dir, db), ...(token ? { FEDIPULSE_TOKEN: token } : {}) });
}

async function collect(db: string, token?: string): Promise<RunSummary> {
  // the token is read from the process environment only, as in the CLI
  if (token) process.env.FEDIPULSE_TOKEN = token;
  else delete process.env.FEDIPULSE_TOKEN;
  return runCollection('instance', { config: loadConfig(envFor(db, token)), now: () => sim.clock.now() });
}

const source = (s: RunSummary, name: string) => s.sources.find((x) => x.source === name)!;

async function query<T>(db: string, sql: string): Promise<T[]> {
  const h = await openReadOnly(path.join(dir, db));
  try {
    return await h.all<T>(sql);
  } finally {
    h.close();
  }
}

describe('own-server collector against the simulator', () => {
  let first: RunSummary;

  it('backfills everything on the first run', async () => {
    first = await collect('full.duckdb', sim.own.tokens.admin);
    expect(first.sources.filter((s) => s.status !== 'ok')).toEqual([]);
    const metrics = await query<{ metric: string; days: number; first: string }>(
      'full.duckdb',
      `SELECT metric, count(*)::INTEGER AS days, min(day)::VARCHAR AS first FROM daily_metrics GROUP BY metric ORDER BY metric`
    );
    const by = Object.fromEntries(metrics.map((m) => [m.metric, m]));
    for (const m of ['new_users', 'opened_reports', 'resolved_reports'])
      expect(by[m].days).toBeGreaterThan(365);
    for (const m of ['user_count', 'active_month', 'peers_count', 'storage_media_bytes'])
      expect(by[m].days).toBe(1);
    const reports = await query<{ open: number; resolved: number }>(
      'full.duckdb',
      `SELECT count(*) FILTER (resolved_at IS NULL)::INTEGER AS open, count(*) FILTER (resolved_at IS NOT NULL)::INTEGER AS resolved FROM reports`
    );
    expect(reports[0].open).toBeGreaterThan(0);
    expect(reports[0].resolved).toBeGreaterThan(200); // more than one page of the resolved pass
    const cohorts = await query<{ frequency: string; n: number }>(
      'full.duckdb',
      `SELECT frequency, count(DISTINCT cohort)::INTEGER AS n FROM retention_cohorts GROUP BY 1 ORDER BY 1`
    );
    expect(cohorts.map((c) => c.frequency)).toEqual(['day', 'month']);
    const peers = await query<{ n: number }>(
      'full.duckdb',
      `SELECT count(DISTINCT domain)::INTEGER AS n FROM peer_measure_days`
    );
    expect(peers[0].n).toBe(Number(TOP_PEERS));
    expect((await query('full.duckdb', 'SELECT * FROM own_domain_blocks')).length).toBeGreaterThan(0);
  });

  it('a re-run duplicates nothing and leaves the same data', async () => {
    const snapshot = await openReadOnly(path.join(dir, 'full.duckdb'));
    const before = await dumpOwnTables(snapshot);
    snapshot.close();
    const again = await collect('full.duckdb', sim.own.tokens.admin);
    expect(again.status).toBe('ok');
    expect(source(again, 'admin.measures').message).toMatch(/last 30 days/);
    const h = await openReadOnly(path.join(dir, 'full.duckdb'));
    try {
      expect(await dumpOwnTables(h)).toEqual(before);
    } finally {
      h.close();
    }
  });

  it('a token without admin scope: public data, and the fix for the rest', async () => {
    const s = await collect('user.duckdb', sim.own.tokens.user);
    expect(s.status).toBe('partial');
    expect(source(s, 'instance').status).toBe('ok');
    for (const a of s.sources.filter((x) => x.source.startsWith('admin.'))) {
      expect(a.status).toBe('failed');
      expect(a.message).toMatch(/lacks admin:read.*Preferences → Development/);
    }
  });

  it('a revoked token: public data without it, admin failed with what to do', async () => {
    const s = await collect('revoked.duckdb', sim.own.tokens.revoked);
    expect(s.status).toBe('partial');
    expect(source(s, 'peers').status).toBe('ok');
    expect(source(s, 'admin.measures').message).toMatch(/revoked or expired/);
    const runs = await query<{ source: string; message: string }>(
      'revoked.duckdb',
      `SELECT source, message FROM run_sources WHERE status = 'failed'`
    );
    expect(runs.length).toBe(6);
    for (const r of runs) expect(r.message).not.toContain(sim.own.tokens.revoked);
  });

  it('hidden peers list and activity are recorded as not published', async () => {
    sim.own.settings.peersApi = false;
    sim.own.settings.activityApi = false;
    try {
      const s = await collect('hidden.duckdb');
      expect(s.status).toBe('ok');
      expect(source(s, 'peers')).toMatchObject({
        status: 'skipped',
        message: expect.stringMatching(/does not publish its peers/)
      });
      expect(source(s, 'activity').status).toBe('skipped');
      expect(source(s, 'admin.measures').message).toMatch(/no FEDIPULSE_TOKEN/);
    } finally {
      sim.own.settings.peersApi = true;
      sim.own.settings.activityApi = true;
    }
  });

  it('an unreachable server: nothing collected, one reason with the fix, non-zero exit', async () => {
    const code = await cli(
      { ...envFor('down.duckdb'), FEDIPULSE_INSTANCE_URL: 'http://127.0.0.1:9', FEDIPULSE_CONNECT_TO: '' },
      null
    );
    expect(code.code).toBe(1);
    expect(code.stderr.trim().split('\n')).toHaveLength(1);
    expect(code.stderr).toMatch(/cannot connect to 127\.0\.0\.1:9.*FEDIPULSE_INSTANCE_URL/);
  });

  it('kill -9 at random points, then a re-run: the same database as one uninterrupted run', async () => {
    const env = (db: string) => envFor(db, sim.own.tokens.admin);
    expect((await cli(env('reference.duckdb'), null)).code).toBe(0);
    const kills = [400, 900, 1600];
    for (const ms of kills) await cli(env('killed.duckdb'), ms + Math.floor(Math.random() * 300));
    const last = await cli(env('killed.duckdb'), null);
    expect(last.code).toBe(0);
    const runs = await query<{ status: string }>(
      'killed.duckdb',
      `SELECT status FROM collection_runs ORDER BY run_id`
    );
    expect(runs.at(-1)!.status).toBe('ok');
    expect(runs.some((r) => r.status === 'failed')).toBe(true); // at least one kill landed mid-run
    const ref = await openReadOnly(path.join(dir, 'reference.duckdb'));
    const killed = await openReadOnly(path.join(dir, 'killed.duckdb'));
    try {
      expect(await dumpOwnTables(killed)).toEqual(await dumpOwnTables(ref));
    } finally {
      ref.close();
      killed.close();
    }
  });
});

/** The CLI as a user runs it; killAfterMs sends SIGKILL mid-run. */
function cli(
  env: Record<string, string>,
  killAfterMs: number | null
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/fedipulse.js'), 'collect', 'instance', '--quiet'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', FEDIPULSE_TOP_PEERS: TOP_PEERS, ...env },
        stdio: ['ignore', 'ignore', 'pipe']
      }
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        stderr: stderr
          .split('\n')
          .filter((l) => !l.startsWith('instance: '))
          .join('\n')
      });
    });
  });
}
