import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { collectorCommand } from '../../collectors/process.ts';
import { startSim, type Sim, type SimOptions } from '../../sim/index.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export function tempDir(prefix = 'fedipulse-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A simulator whose CA this process trusts (as NODE_EXTRA_CA_CERTS does for a child process). */
export async function startTrustedSim(opts: SimOptions = {}): Promise<Sim> {
  const sim = await startSim({ peers: 200, ...opts });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  return sim;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The collector CLI as a user runs it, on the pinned Node (process.execPath under npm/vitest). */
export function spawnCollect(args: string[], env: Record<string, string>): ChildProcess {
  const cmd = collectorCommand(args);
  return spawn(cmd.command, cmd.args, {
    cwd: ROOT,
    env: { ...process.env, FEDIPULSE_TOKEN: '', FEDIPULSE_INSTANCE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  );
}

export const runCollect = (args: string[], env: Record<string, string>) => finished(spawnCollect(args, env));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface Dashboard {
  url: string;
  stop(): Promise<void>;
}

/** The built dashboard (npm run build) serving a database's snapshots. */
export async function startDashboard(env: Record<string, string>): Promise<Dashboard> {
  if (!existsSync(path.join(ROOT, 'build', 'index.js')))
    throw new Error('build/ is missing: run npm run build');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [path.join(ROOT, 'build', 'index.js')], {
    cwd: ROOT,
    // adapter-node assumes https without ORIGIN, and SvelteKit then refuses every form POST as cross-site.
    env: { ...process.env, FEDIPULSE_TOKEN: '', ORIGIN: url, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (child.exitCode !== null) throw new Error(`dashboard exited: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      })
  };
}
