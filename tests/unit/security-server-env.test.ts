import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectorChildEnv } from '../../collectors/process.ts';
import { scheduleConfig } from '../../src/lib/server/schedule/config.ts';
import { startScheduler } from '../../src/lib/server/schedule/index.ts';
import { ROOT, tempDir } from '../helpers/index.ts';

const SECRETS = {
  FEDIPULSE_SESSION_SECRET: 'session-secret-0123456789abcdef',
  FEDIPULSE_OAUTH_CLIENT_ID: 'oauth-client-id-42',
  FEDIPULSE_OAUTH_CLIENT_SECRET: 'oauth-client-secret-42',
  FEDIPULSE_METRICS_TOKEN: 'metrics-token-42',
  FEDIPULSE_ALERT_WEBHOOK: 'https://hooks.example/services/T000/B000/webhook-secret'
};
const NEEDED = {
  FEDIPULSE_TOKEN: 'admin-read-token',
  FEDIPULSE_INSTANCE_URL: 'https://social.example',
  FEDIPULSE_DB: '/srv/fedipulse/data/fedipulse.duckdb',
  FEDIPULSE_PEER_CONCURRENCY: '7',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/private-ca.pem',
  TZ: 'Europe/Berlin'
};

/**
 * A stand-in for bin/fedipulse.js that starts as the real collector does (src/lib/server/config.ts's
 * loadDotEnv first), then reports what it can see: its environment as the kernel holds it
 * (/proc/self/environ) and process.env after `.env` was read.
 */
function envDumpBin(dir: string, out: string): string {
  const file = path.join(dir, 'env-dump.mjs');
  const config = pathToFileURL(path.join(ROOT, 'src', 'lib', 'server', 'config.ts')).href;
  writeFileSync(
    file,
    `import { readFileSync, writeFileSync } from 'node:fs';
const { loadDotEnv } = await import(${JSON.stringify(config)});
const kernel = Object.fromEntries(readFileSync('/proc/self/environ', 'utf8').split('\\0').filter(Boolean)
  .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
loadDotEnv();
writeFileSync(${JSON.stringify(out)}, JSON.stringify({ kernel, env: process.env }));
`
  );
  return file;
}

describe('collector child processes get only the environment a collection needs', () => {
  it('a scheduled collection sees no session secret, OAuth client, metrics token or webhook URL, from the environment or .env', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'env.json');
    // An operator's .env in the working directory holding the same secrets: the child must not read it.
    writeFileSync(
      path.join(dir, '.env'),
      Object.entries(SECRETS)
        .map(([k, v]) => `${k}=${v}-from-dotenv`)
        .join('\n') + '\n'
    );
    const s = startScheduler({
      dbPath: path.join(dir, 'fedipulse.duckdb'),
      config: scheduleConfig({ FEDIPULSE_SCHEDULE: 'on', FEDIPULSE_SCHEDULE_PEERS: 'off' }),
      bin: envDumpBin(dir, out),
      cwd: dir,
      env: { ...process.env, ...SECRETS, ...NEEDED },
      log: () => {}
    });
    try {
      s.runNow('instance');
      for (let i = 0; i < 500 && s.status().kinds.instance.last === null; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(s.status().kinds.instance.last?.outcome).toBe('ok');
    } finally {
      await s.stop();
    }
    const seen = JSON.parse(readFileSync(out, 'utf8')) as Record<'kernel' | 'env', Record<string, string>>;
    for (const view of [seen.kernel, seen.env]) {
      const text = JSON.stringify(view);
      for (const [name, value] of Object.entries(SECRETS)) {
        expect(view[name], name).toBeUndefined();
        expect(text).not.toContain(value);
      }
      // What a collection does need arrives.
      for (const [name, value] of Object.entries(NEEDED)) expect(view[name], name).toBe(value);
      expect(view.PATH).toBe(process.env.PATH);
      expect(view.DUCKDB_JE_MALLOC_CONF).toBeTruthy();
    }
  });

  /** Every setting a collector reads (a FEDIPULSE_ name in the code it runs) is let through. */
  it('the allowlist lets through every FEDIPULSE_ setting the collectors read', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = path.join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js)$/.test(name)) files.push(p);
      }
    };
    walk(path.join(ROOT, 'collectors'));
    files.push(path.join(ROOT, 'src', 'lib', 'server', 'config.ts'), path.join(ROOT, 'bin', 'fedipulse.js'));
    walk(path.join(ROOT, 'src', 'lib', 'server', 'annotations'));
    const names = new Set<string>();
    for (const f of files)
      for (const m of readFileSync(f, 'utf8').matchAll(/\bFEDIPULSE_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
    expect(names.size).toBeGreaterThan(10);
    const env = Object.fromEntries([...names].map((n) => [n, 'x']));
    const passed = collectorChildEnv(env);
    const dropped = [...names].filter((n) => !(n in passed)).sort();
    // Only the server's secrets may be named in collector code and still be dropped.
    expect(dropped.filter((n) => !(n in SECRETS))).toEqual([]);
  });
});
