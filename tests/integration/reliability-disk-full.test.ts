import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import { latestSnapshot, listSnapshots, snapshotDir } from '../../collectors/store/snapshots.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

/**
 * Disk full: the database lives on a small tmpfs. The collector stops with a clear message, and both the
 * database and the snapshot the dashboard serves stay whole. Needs `mount` (root, as in CI); skipped with a
 * message otherwise.
 */
const mountDir = path.join(tempDir('fedipulse-diskfull-'), 'disk');
let mounted = false;
let mountError = '';
try {
  mkdirSync(mountDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountDir], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  mountError = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
}
if (!mounted) {
  process.stderr.write(
    `reliability-disk-full: SKIPPED — cannot mount a tmpfs here (${mountError}); run the suite as root to cover it\n`
  );
}

/** Fills the disk until `leave` bytes are free (0 = completely). */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 16, 1);
  try {
    for (;;) {
      const s = statfsSync(path.dirname(file));
      const free = s.bavail * s.bsize - leave;
      if (free <= 0) break;
      writeSync(fd, chunk, 0, Math.min(chunk.length, free));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mounted)('disk full (tmpfs)', () => {
  let sim: Sim;
  let env: Record<string, string>;
  let dbPath: string;
  let dashboard: Dashboard;
  let served: string;
  const filler = path.join(mountDir, 'filler');

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 30 });
    dbPath = path.join(mountDir, 'fedipulse.duckdb');
    env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
    const first = await runCollect(['instance', '--quiet'], env);
    expect(first.code, first.stderr).toBe(0);
    served = latestSnapshot(dbPath)!;
    dashboard = await startDashboard(env);
  });

  afterAll(async () => {
    await dashboard?.stop();
    await sim?.stop();
    if (mounted) {
      try {
        execFileSync('umount', [mountDir]);
      } catch {
        execFileSync('umount', ['-l', mountDir]);
      }
    }
  });

  async function expectIntact(): Promise<void> {
    // The published snapshots are unchanged: no new one, no leftover temp copy.
    expect(listSnapshots(dbPath)).toEqual([served]);
    expect(readdirSync(snapshotDir(dbPath)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The served snapshot opens and answers; the dashboard still serves it.
    const snap = await openReadOnly(served);
    try {
      const m = await snap.one<{ v: number }>(
        "SELECT value AS v FROM daily_metrics WHERE metric = 'user_count' LIMIT 1"
      );
      expect(m?.v).toBeGreaterThan(0);
    } finally {
      snap.close();
    }
    const health = (await (await fetch(`${dashboard.url}/healthz`)).json()) as { snapshot: string };
    expect(health.snapshot).toBe(path.basename(served)); // a file name: /healthz shows no paths
    // The collector's own database opens (read-only: nothing is written) and holds the first run whole.
    const db = await openReadOnly(dbPath);
    try {
      const runs = await db.all<{ status: string }>('SELECT status FROM collection_runs ORDER BY run_id');
      expect(runs[0].status).toBe('ok');
      const dupes = await db.all(
        'SELECT instance, day, metric FROM daily_metrics GROUP BY ALL HAVING count(*) > 1'
      );
      expect(dupes).toEqual([]);
    } finally {
      db.close();
    }
  }

  for (const [label, leave] of [
    ['completely full', 0],
    ['room for the writes but not for the snapshot copy', 1.5 * 2 ** 20]
  ] as const) {
    it(`${label}: exit 1 with "disk full" and what to do; database and served snapshot intact`, async () => {
      fill(filler, leave);
      try {
        const r = await runCollect(['instance', '--quiet'], env);
        expect(r.code, r.stderr).toBe(1);
        const last = r.stderr.trim().split('\n').at(-1)!;
        expect(last).toMatch(/^fedipulse collect instance: disk full: no space left on the disk holding /);
        expect(last).toMatch(/free some space .*then run the collection again/);
        await expectIntact();
      } finally {
        rmSync(filler, { force: true });
      }
    });
  }

  it('with space again, the next collection succeeds and publishes', async () => {
    const r = await runCollect(['instance', '--quiet'], env);
    expect(r.code, r.stderr).toBe(0);
    const now = latestSnapshot(dbPath)!;
    expect(now).not.toBe(served);
    const db = await openReadOnly(now);
    try {
      const runs = await db.all<{ status: string }>('SELECT status FROM collection_runs ORDER BY run_id');
      expect(runs.at(-1)!.status).toMatch(/ok|partial/);
      expect(runs.some((x) => x.status === 'running')).toBe(false);
    } finally {
      db.close();
    }
  });
});
