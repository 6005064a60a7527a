import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../bench/dataset.ts';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { tempDir } from '../helpers/index.ts';

/**
 * The generated dataset holds only states Mastodon and the collector can produce. Each rule below is
 * Mastodon's (app/models/report.rb, app/lib/admin/metrics/retention.rb, the measures) or the crawler's, checked
 * on the published snapshot, not on the generator's own bookkeeping.
 */

const dir = tempDir('fedipulse-dataset-');
let db: Db;

beforeAll(async () => {
  const file = path.join(dir, 'd.duckdb');
  await generateDataset({ file, days: 120, crawls: 12, peers: 120, seed: 11, end: '2026-11-30' });
  db = await openReadOnly(latestSnapshot(file)!);
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = async (sql: string) => (await db.all<{ n: number }>(sql))[0].n;

describe('generated data', () => {
  it('reports: resolved exactly when action_taken; an assignment time only with an assignee', async () => {
    expect(await count(`SELECT count(*) AS n FROM reports`)).toBeGreaterThan(100);
    expect(
      await count(`SELECT count(*) AS n FROM reports WHERE action_taken <> (resolved_at IS NOT NULL)`)
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM report_records WHERE first_assigned_seen_at IS NOT NULL AND assigned_account_id IS NULL`
      )
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM reports WHERE resolved_at < created_at OR first_assigned_seen_at < created_at`
      )
    ).toBe(0);
    // Only a member's report about a remote account is forwarded; a report from another server is about ours.
    expect(
      await count(
        `SELECT count(*) AS n FROM reports WHERE forwarded AND (target_origin <> 'remote' OR reporter_domain IS NOT NULL)`
      )
    ).toBe(0);
    // Mastodon's opened/resolved measures count the same reports.
    const mismatched = await count(
      `WITH r AS (SELECT CAST(timezone('UTC', created_at) AS DATE) AS day, count(*) AS n FROM reports GROUP BY 1)
       SELECT count(*) AS n FROM daily_metrics m LEFT JOIN r USING (day)
       WHERE m.metric = 'opened_reports' AND m.value <> coalesce(r.n, 0)`
    );
    expect(mismatched).toBe(0);
    const resolvedMismatch = await count(
      `WITH r AS (SELECT CAST(timezone('UTC', resolved_at) AS DATE) AS day, count(*) AS n FROM reports
                  WHERE resolved_at IS NOT NULL GROUP BY 1)
       SELECT count(*) AS n FROM daily_metrics m LEFT JOIN r USING (day)
       WHERE m.metric = 'resolved_reports' AND m.day < (SELECT max(day) FROM daily_metrics) AND m.value <> coalesce(r.n, 0)`
    );
    expect(resolvedMismatch).toBe(0);
  });

  it('retention: rates in [0, 1], cohort sizes from the sign-ups, cells fall with the period and never fall over time', async () => {
    expect(
      await count(`SELECT count(*) AS n FROM retention_observations WHERE rate < 0 OR rate > 1 OR users < 0`)
    ).toBe(0);
    // users / rate is the cohort's size: the sign-ups (new_users) of that month.
    const sizes = await db.all<{ cohort: string; size: number; signups: number }>(
      `WITH c AS (SELECT cohort, max(round(users / rate)) AS size FROM retention_cohorts
                  WHERE frequency = 'month' AND rate > 0 GROUP BY cohort)
       SELECT CAST(c.cohort AS VARCHAR) AS cohort, c.size, sum(m.value) AS signups
       FROM c JOIN daily_metrics m ON m.metric = 'new_users' AND date_trunc('month', m.day) = c.cohort
       GROUP BY ALL`
    );
    expect(sizes.length).toBeGreaterThan(2);
    for (const s of sizes) expect(s.size, s.cohort).toBe(s.signups);
    // Latest values: members whose last sign-in is in period p or later, so no more in p + 1 than in p.
    expect(
      await count(
        `SELECT count(*) AS n FROM retention_cohorts a JOIN retention_cohorts b
           ON a.frequency = b.frequency AND a.cohort = b.cohort AND b.period_index = a.period_index + 1
         WHERE b.users > a.users`
      )
    ).toBe(0);
    // A member's last sign-in only moves forward, so a cell never falls between observations.
    expect(
      await count(
        `SELECT count(*) AS n FROM (
           SELECT users, lag(users) OVER (PARTITION BY frequency, cohort, period_index ORDER BY observed_at) AS before
           FROM retention_observations) WHERE users < before`
      )
    ).toBe(0);
  });

  it('peers: every observation has its crawl day, reach counts ok observations, limits only from answers', async () => {
    expect(await count(`SELECT count(*) AS n FROM peer_observations WHERE crawl_day IS NULL`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM federation_daily`)).toBe(12);
    const wrong = await count(
      `WITH o AS (SELECT crawl_day AS day, count(*) FILTER (WHERE outcome = 'ok') AS ok FROM peer_observations GROUP BY 1)
       SELECT count(*) AS n FROM federation_daily f JOIN o USING (day) WHERE f.peers_reachable <> o.ok`
    );
    expect(wrong).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM peer_limit_obs l JOIN peer_obs o ON o.run_id = l.run_id AND o.domain = l.peer_domain
         WHERE o.outcome <> 'ok'`
      )
    ).toBe(0);
    // Suspect numbers carry the crawler's reason; a server claiming more active than registered users is one.
    expect(
      await count(`SELECT count(*) AS n FROM peer_observations WHERE suspect AND suspect_reasons IS NULL`)
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM peer_observations WHERE users_active_month > users_total AND NOT suspect`
      )
    ).toBe(0);
  });

  it('runs: each finished with its sources; the failed source is named in the run', async () => {
    expect(await count(`SELECT count(*) AS n FROM collection_runs WHERE status = 'running'`)).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM runs r WHERE NOT EXISTS (SELECT 1 FROM run_sources s WHERE s.run_id = r.run_id)`
      )
    ).toBe(0);
    const failed = await db.all<{ message: string }>(
      `SELECT r.message FROM runs r JOIN run_sources s USING (run_id) WHERE s.status = 'failed'`
    );
    expect(failed.length).toBe(1);
    expect(failed[0].message).toContain('admin.measures');
  });
});
