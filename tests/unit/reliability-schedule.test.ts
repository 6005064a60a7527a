import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scheduleConfig } from '../../src/lib/server/schedule/config.ts';
import { startScheduler } from '../../src/lib/server/schedule/index.ts';
import { scheduleStatus } from '../../src/lib/server/schedule/status.ts';
import { tempDir } from '../helpers/index.ts';

describe('schedule settings', () => {
  it('is off without an own server, on with one, and FEDIPULSE_SCHEDULE decides when set', () => {
    expect(scheduleConfig({}).enabled).toBe(false);
    const on = scheduleConfig({ FEDIPULSE_INSTANCE_URL: 'https://social.example' });
    expect(on.enabled).toBe(true);
    expect(on.cron).toEqual({ instance: '7 * * * *', peers: '23 3 * * *' });
    expect(on.jitterMs.peers).toBe(30 * 60_000);
    expect(on.jitterMs.instance).toBe(0);
    expect(
      scheduleConfig({ FEDIPULSE_INSTANCE_URL: 'https://social.example', FEDIPULSE_SCHEDULE: 'off' }).enabled
    ).toBe(false);
    expect(scheduleConfig({ FEDIPULSE_SCHEDULE: 'on' }).enabled).toBe(true);
  });

  it('takes cron expressions (with seconds too), "off" per kind, and refuses nonsense with the variable named', () => {
    const c = scheduleConfig({
      FEDIPULSE_SCHEDULE: 'on',
      FEDIPULSE_SCHEDULE_INSTANCE: '*/5 * * * * *',
      FEDIPULSE_SCHEDULE_PEERS: 'off'
    });
    expect(c.cron).toEqual({ instance: '*/5 * * * * *', peers: null });
    expect(() => scheduleConfig({ FEDIPULSE_SCHEDULE_PEERS: 'every day' })).toThrow(
      /FEDIPULSE_SCHEDULE_PEERS/
    );
    expect(() => scheduleConfig({ FEDIPULSE_SCHEDULE: 'sometimes' })).toThrow(/FEDIPULSE_SCHEDULE /);
    expect(() => scheduleConfig({ FEDIPULSE_SCHEDULE_JITTER_MINUTES: '-1' })).toThrow(/JITTER/);
  });
});

/**
 * A stand-in for bin/fedipulse.js: logs start/end, sleeps, exits with the code asked for. Its settings are
 * written into the script: collectors get a filtered environment (collectorChildEnv), not the test's.
 */
function fakeBin(dir: string, o: { log: string; ms?: number; codes?: Record<string, number> }): string {
  const file = path.join(dir, 'fake-bin.mjs');
  writeFileSync(
    file,
    `import { appendFileSync } from 'node:fs';
const settings = ${JSON.stringify({ ms: 150, codes: {}, ...o })};
const kind = process.argv[3];
const log = settings.log;
appendFileSync(log, 'start ' + kind + ' ' + Date.now() + '\\n');
const code = settings.codes[kind] ?? 0;
process.on('SIGTERM', () => { appendFileSync(log, 'term ' + kind + '\\n'); process.exit(130); });
setTimeout(() => {
  appendFileSync(log, 'end ' + kind + ' ' + Date.now() + '\\n');
  if (code) process.stderr.write('fedipulse collect ' + kind + ': disk full: no space left\\n');
  process.exit(code);
}, settings.ms);
`
  );
  return file;
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('scheduler', () => {
  it('runs collections as child processes one at a time, queueing the rest, and records them', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const log = path.join(dir, 'log');
    writeFileSync(log, '');
    const after: string[] = [];
    const s = startScheduler({
      dbPath,
      config: scheduleConfig({ FEDIPULSE_SCHEDULE: 'on' }),
      bin: fakeBin(dir, { log, codes: { peers: 1 } }),
      log: () => {},
      afterRun: async (kind) => {
        after.push(kind);
      }
    });
    try {
      const status0 = scheduleStatus(dbPath)!;
      expect(status0.active).toBe(true);
      expect(status0.enabled).toBe(true);
      expect(Date.parse(status0.kinds.instance.next_at!)).toBeGreaterThan(Date.now());
      s.runNow('instance');
      s.runNow('peers');
      s.runNow('peers'); // already queued: not twice
      s.runNow('instance'); // instance is running: one more queued behind peers
      await until(() => after.length === 3);
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
        'start instance',
        'end instance',
        'start peers',
        'end peers',
        'start instance',
        'end instance'
      ]);
      const st = scheduleStatus(dbPath)!;
      expect(st.running).toBeNull();
      expect(st.kinds.instance.last?.outcome).toBe('ok');
      expect(st.kinds.instance.last_ok_at).not.toBeNull();
      expect(st.kinds.peers.last).toMatchObject({ outcome: 'failed', exit_code: 1 });
      expect(st.kinds.peers.last?.message).toMatch(/disk full/);
      expect(st.kinds.peers.consecutive_failures).toBe(1);
    } finally {
      await s.stop();
    }
    // The file outlives the scheduler, marked inactive, with no next runs promised.
    const gone = scheduleStatus(dbPath)!;
    expect(gone.kinds.instance.next_at).toBeNull();
  });

  it('stop() asks a running collection to stop and waits for it', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const log = path.join(dir, 'log');
    writeFileSync(log, '');
    const s = startScheduler({
      dbPath,
      config: scheduleConfig({ FEDIPULSE_SCHEDULE: 'on' }),
      bin: fakeBin(dir, { log, ms: 20_000 }),
      log: () => {}
    });
    s.runNow('peers');
    await until(() => readFileSync(log, 'utf8').includes('start peers'));
    await s.stop();
    expect(readFileSync(log, 'utf8')).toContain('term peers');
    const st = scheduleStatus(dbPath)!;
    expect(st.kinds.peers.last?.outcome).toBe('stopped');
    expect(st.kinds.peers.consecutive_failures).toBe(0);
  });

  it('a collection past its time limit is stopped and recorded as a timeout', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const log = path.join(dir, 'log');
    writeFileSync(log, '');
    const config = { ...scheduleConfig({ FEDIPULSE_SCHEDULE: 'on' }), timeoutMs: 300 };
    const done: string[] = [];
    const s = startScheduler({
      dbPath,
      config,
      bin: fakeBin(dir, { log, ms: 20_000 }),
      log: () => {},
      afterRun: async (k) => {
        done.push(k);
      }
    });
    try {
      s.runNow('instance');
      await until(() => done.length === 1);
      expect(scheduleStatus(dbPath)!.kinds.instance.last).toMatchObject({ outcome: 'timeout' });
    } finally {
      await s.stop();
    }
  });

  it('fires on its cron (a seconds field here) by itself', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const log = path.join(dir, 'log');
    writeFileSync(log, '');
    const s = startScheduler({
      dbPath,
      config: scheduleConfig({
        FEDIPULSE_SCHEDULE: 'on',
        FEDIPULSE_SCHEDULE_INSTANCE: '* * * * * *',
        FEDIPULSE_SCHEDULE_PEERS: 'off'
      }),
      bin: fakeBin(dir, { log, ms: 10 }),
      log: () => {}
    });
    try {
      await until(() => scheduleStatus(dbPath)!.kinds.instance.last?.outcome === 'ok');
      expect(scheduleStatus(dbPath)!.kinds.peers.next_at).toBeNull();
    } finally {
      await s.stop();
    }
  });
});
