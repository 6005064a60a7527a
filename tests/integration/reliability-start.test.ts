import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { scheduleStatus } from '../../src/lib/server/schedule/status.ts';
import { ROOT, freePort, startTrustedSim, tempDir } from '../helpers/index.ts';

/**
 * A systemd-style run: the built dashboard started as `npm start` does (node scripts/start.js), with a fast
 * schedule, collects from the simulator by itself, and /metrics shows the collections.
 */
describe('npm start with a schedule', () => {
  let sim: Sim;
  let server: ChildProcess;
  let url: string;
  let dbPath: string;
  let log = '';
  const token = 'scrape-me-7d1f';

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'build', 'index.js')))
      throw new Error('build/ is missing: run npm run build');
    sim = await startTrustedSim({ peers: 30 });
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin }),
        FEDIPULSE_SCHEDULE_INSTANCE: '*/3 * * * * *',
        FEDIPULSE_SCHEDULE_PEERS: '*/4 * * * * *',
        FEDIPULSE_SCHEDULE_JITTER_MINUTES: '0',
        FEDIPULSE_METRICS_TOKEN: token,
        PORT: String(port),
        HOST: '127.0.0.1'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    server.stdout?.on('data', (d) => (log += d));
    server.stderr?.on('data', (d) => (log += d));
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.on('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await sim?.stop();
  });

  it('collects on its own and /metrics (behind its token) shows it', async () => {
    const metrics = async () => {
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      return res.ok ? res.text() : '';
    };
    let text = '';
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      try {
        text = await metrics();
      } catch {
        text = ''; // not listening yet
      }
      if (
        /fedipulse_collection_runs_total\{kind="instance",status="(ok|partial)"\} [1-9]/.test(text) &&
        /fedipulse_collection_runs_total\{kind="peers",status="\w+"\} [1-9]/.test(text)
      )
        break;
      if (server.exitCode !== null) throw new Error(`npm start exited: ${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(text, log).toMatch(
      /fedipulse_collection_runs_total\{kind="instance",status="(ok|partial)"\} [1-9]/
    );
    expect(text).toMatch(/fedipulse_collection_runs_total\{kind="peers",status="\w+"\} [1-9]/);
    expect(text).toMatch(/fedipulse_members\{instance="[^"]+"\} [1-9]/);
    expect(text).toContain('fedipulse_schedule_enabled 1');
    expect(text).toMatch(/fedipulse_schedule_next_run_timestamp_seconds\{kind="instance"\} \d+/);
    expect(log).toMatch(/scheduled collections on/);

    // Without the token: refused; /healthz stays public.
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // What /status reads: next and last runs, from the scheduler's status file.
    const st = scheduleStatus(dbPath)!;
    expect(st.active).toBe(true);
    expect(st.kinds.instance.last?.outcome).toMatch(/ok|busy/);
    expect(st.kinds.instance.last_ok_at).not.toBeNull();
    expect(Date.parse(st.kinds.peers.next_at!)).toBeGreaterThan(Date.now() - 5000);
  });

  it('stops cleanly on SIGTERM (as systemd stops it), collections included', async () => {
    const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
    server.kill('SIGTERM');
    const code = await exited;
    expect(code, log).toBe(0);
    const st = scheduleStatus(dbPath)!;
    expect(st.running).toBeNull();
    expect(st.active).toBe(false);
    expect(existsSync(`${dbPath}.collector.json`)).toBe(false);
  });
});
