import { copyFileSync, openSync, closeSync, statSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { latestSnapshot, snapshotDir } from '../../collectors/store/snapshots.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

/** /healthz: file names only (no paths, no error texts: those are on /status, for staff). */
interface Health {
  snapshot: string;
  rejected_snapshot: string | null;
}
const METRICS_TOKEN = 'snapshot-test-metrics-token';

/**
 * A broken newest snapshot (truncated by a crash of the disk, or overwritten with garbage): the dashboard
 * keeps serving the previous one and says so on /healthz (and /status, which reads the same state).
 */
describe('a corrupted or truncated newest snapshot', () => {
  let sim: Sim;
  let dbPath: string;
  let good: string;
  let dashboard: Dashboard;
  let seq = 0;

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 30 });
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    const env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
    const r = await runCollect(['instance', '--quiet'], env);
    expect(r.code, r.stderr).toBe(0);
    good = latestSnapshot(dbPath)!;
    dashboard = await startDashboard({ ...env, FEDIPULSE_METRICS_TOKEN: METRICS_TOKEN });
    expect(((await (await fetch(`${dashboard.url}/healthz`)).json()) as Health).snapshot).toBe(
      path.basename(good)
    );
  });
  afterAll(async () => {
    await dashboard?.stop();
    await sim?.stop();
  });

  /** A copy of the good snapshot under a newer name, damaged by `damage`. */
  function newerBroken(damage: (file: string) => void): string {
    const file = path.join(snapshotDir(dbPath), `29991231T23595${seq++}000Z-run9${seq}.duckdb`);
    copyFileSync(good, file);
    damage(file);
    return file;
  }

  async function health(until: (h: Health) => boolean): Promise<Health> {
    let h: Health | null = null;
    for (let i = 0; i < 60; i++) {
      h = (await (await fetch(`${dashboard.url}/healthz`)).json()) as Health;
      if (until(h)) return h;
      await new Promise((r) => setTimeout(r, 100));
    }
    return h!;
  }

  const cases: [string, (f: string) => void][] = [
    ['truncated to half', (f) => truncateSync(f, Math.floor(statSync(f).size / 2))],
    ['truncated to nothing', (f) => truncateSync(f, 0)],
    [
      'its header overwritten',
      (f) => {
        const fd = openSync(f, 'r+');
        writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 0);
        closeSync(fd);
      }
    ]
  ];
  for (const [label, damage] of cases) {
    it(`${label}: the previous snapshot keeps serving, and /healthz names the rejected one`, async () => {
      const bad = newerBroken(damage);
      const h = await health((x) => x.rejected_snapshot === path.basename(bad));
      expect(h.rejected_snapshot).toBe(path.basename(bad));
      expect(h.snapshot).toBe(path.basename(good));
      // Data endpoints still answer from the good snapshot.
      const metrics = await fetch(`${dashboard.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` }
      });
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('fedipulse_snapshot_rejected 1');
      expect(text).toMatch(/fedipulse_members\{instance="[^"]+"\} [1-9]/);
    });
  }
});
