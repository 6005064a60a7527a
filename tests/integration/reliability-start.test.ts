import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
  /** Secrets of the server process that no collection needs (collectors/process.ts collectorChildEnv). */
  const serverSecrets = {
    FEDIPULSE_SESSION_SECRET: 'start-test-session-secret-0123456789',
    FEDIPULSE_OAUTH_CLIENT_ID: 'start-test-client-id',
    FEDIPULSE_OAUTH_CLIENT_SECRET: 'start-test-client-secret',
    // Port 9 (discard): nothing listens, so each send fails and is retried; only the environment matters here.
    FEDIPULSE_ALERT_WEBHOOK: 'http://127.0.0.1:9/hooks/start-test-webhook-secret'
  };

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
        ...serverSecrets,
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

  it("a scheduled collection's process holds none of the server's secrets (/proc/<pid>/environ)", async () => {
    let environ: Record<string, string> | null = null;
    const deadline = Date.now() + 60_000;
    while (!environ && Date.now() < deadline) {
      const pid = scheduleStatus(dbPath)?.running?.pid;
      if (pid) {
        try {
          const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
          environ = Object.fromEntries(
            raw
              .split('\0')
              .filter(Boolean)
              .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
          );
        } catch {
          // It finished between the status file and /proc: catch the next one.
        }
      }
      if (!environ) await new Promise((r) => setTimeout(r, 10));
    }
    expect(environ, log).not.toBeNull();
    const text = JSON.stringify(environ);
    for (const [name, value] of Object.entries({ ...serverSecrets, FEDIPULSE_METRICS_TOKEN: token })) {
      expect(environ![name], name).toBeUndefined();
      expect(text).not.toContain(value);
    }
    // What it needs to collect is there: the admin token, the server, the simulator's CA and routes.
    expect(environ!.FEDIPULSE_TOKEN).toBe(sim.own.tokens.admin);
    expect(environ!.FEDIPULSE_INSTANCE_URL).toBe(sim.ownUrl);
    expect(environ!.NODE_EXTRA_CA_CERTS).toBe(sim.ca.certPath);
    expect(environ!.FEDIPULSE_CONNECT_TO).toBeTruthy();
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
