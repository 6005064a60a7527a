import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadOnly } from '../../collectors/store/database.ts';
import type { Report } from '../../sim/own-server/moderation.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

/**
 * Moderation page numbers against the simulator's own model: every report with its filing, assignment and
 * resolution times and both parties' servers (world().mod.reports). Collections run daily at 06:00 on the
 * simulator's clock (three of them, 1–3 November 2026): the first two against Mastodon 4.5.13, the last after an
 * upgrade to 4.6.4. Before 4.6 `resolved=false` lists resolved reports (ReportFilter), from 4.6 open ones: the
 * collector must ask for open reports differently on each. Expected values are
 * computed here from the model, never from the dashboard's SQL.
 */

const DAY = 86_400_000;
const H = 3_600_000;
/** A collection's reports step starts a little after the collection itself (earlier steps run first). */
const STEP_SLACK_H = 0.25;
const END = Date.UTC(2026, 10, 3);

type Cell = string | number | null;
interface Data {
  range: { start: string; end: string };
  definition: string;
  rows: Record<string, Cell>[];
}

let t: Truth;
let reports: Report[];
/** The last collection: what the dashboard can know. */
let T: number;
/** What the database held after the collections on 4.5.13 (read just before the upgrade). */
let before46: { n: number; open: number; firstCohort: string } | null = null;

beforeAll(async () => {
  // Instance collections only: the peer crawl adds nothing to moderation
  t = await collectFromSim({
    days: 3,
    end: END,
    kindOf: () => 'instance',
    sim: { own: { version: '4.5.13' } },
    onDay: async (i, sim, file) => {
      if (i !== 2) return;
      const db = await openReadOnly(file);
      try {
        const r = await db.one<{ n: number; open: number }>(
          `SELECT count(*) AS n, count(*) FILTER (resolved_at IS NULL) AS open FROM reports`
        );
        const c = await db.one<{ c: string }>(
          `SELECT CAST(min(cohort) AS VARCHAR) AS c FROM retention_cohorts WHERE frequency = 'month'`
        );
        before46 = { n: Number(r?.n), open: Number(r?.open), firstCohort: c?.c ?? '' };
      } finally {
        db.close();
      }
      sim.own.settings.version = '4.6.4';
    }
  });
  T = t.times[t.times.length - 1];
  reports = t.world().mod.reports.filter((r) => r.createdMs <= T);
}, 300_000);

afterAll(async () => {
  await t?.stop();
});

const data = (metric: string, range = '90d') =>
  t.json<Data>(`/data/moderation/${metric}.json?range=${range}`);
const bounds = (d: Data) => ({ S: Date.parse(d.range.start), E: Date.parse(d.range.end) + DAY });
const resolvedBy = (r: Report, ms: number) => r.resolvedMs <= T && r.resolvedMs < ms;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);
function mondayOf(ms: number): string {
  const d = Math.floor(ms / DAY) * DAY;
  return dayOf(d - ((new Date(d).getUTCDay() + 6) % 7) * DAY);
}
/** DuckDB's quantile_cont: linear interpolation between the two nearest ranks. */
function quantile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
const count = <K>(keys: K[]) => {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};
const remoteDomain = (ref: Report['reporter']) => ('remote' in ref ? ref.remote.domain : null);

describe('moderation numbers against the simulator’s reports', () => {
  it('collected every report source', () => {
    for (const run of t.runs)
      expect(run.sources.find((s) => s.source === 'admin.reports')?.status, String(run.runId)).toBe('ok');
  });

  it('reports opened and resolved per week', async () => {
    const d = await data('reports_weekly');
    const { S, E } = bounds(d);
    const opened = count(
      reports.filter((r) => r.createdMs >= S && r.createdMs < E).map((r) => mondayOf(r.createdMs))
    );
    const resolved = count(
      reports
        .filter((r) => r.resolvedMs <= T && r.resolvedMs >= S && r.resolvedMs < E)
        .map((r) => mondayOf(r.resolvedMs))
    );
    const weeks = [...new Set([...opened.keys(), ...resolved.keys()])].sort();
    expect(weeks.length).toBeGreaterThan(10);
    expect(d.rows).toEqual(
      weeks.map((week) => ({ week, opened: opened.get(week) ?? 0, resolved: resolved.get(week) ?? 0 }))
    );
  });

  it('backlog at the end of each day, and open reports by age at the end of the range', async () => {
    const d = await data('backlog');
    const { S, E } = bounds(d);
    const expected = [];
    for (let day = S; day < E; day += DAY) {
      const end = day + DAY;
      expected.push({
        day: dayOf(day),
        open: reports.filter((r) => r.createdMs < end && !resolvedBy(r, end)).length
      });
    }
    expect(d.rows).toEqual(expected);
    expect(expected[expected.length - 1].open).toBeGreaterThan(0);

    const age = await data('backlog_age');
    const open = reports.filter((r) => !resolvedBy(r, E));
    // DuckDB's date_diff('hour') counts hour boundaries crossed; the range ends on one
    const hours = open.map((r) => Math.floor(E / H) - Math.floor(r.createdMs / H));
    const buckets: [string, number, number][] = [
      ['under 1 day', 0, 24],
      ['1–3 days', 24, 72],
      ['3–7 days', 72, 168],
      ['1–4 weeks', 168, 672],
      ['over 4 weeks', 672, 1e9]
    ];
    expect(age.rows).toEqual(
      buckets.map(([bucket, lo, hi]) => ({
        age: bucket,
        open: hours.filter((h) => h >= lo && h < hi).length
      }))
    );
  });

  it('time to resolve, p50 and p90 per month resolved', async () => {
    const d = await data('time_to_resolve', '12mo');
    const { S, E } = bounds(d);
    const byMonth = new Map<string, number[]>();
    for (const r of reports)
      if (r.resolvedMs <= T && r.resolvedMs >= S && r.resolvedMs < E) {
        const m = monthOf(r.resolvedMs);
        byMonth.set(m, [...(byMonth.get(m) ?? []), (r.resolvedMs - r.createdMs) / H]);
      }
    const months = [...byMonth.keys()].sort();
    expect(d.rows.map((r) => r.month)).toEqual(months);
    for (const row of d.rows) {
      const hs = byMonth.get(row.month as string)!;
      expect(row.resolved).toBe(hs.length);
      expect(row.p50 as number).toBeCloseTo(quantile(hs, 0.5), 6);
      expect(row.p90 as number).toBeCloseTo(quantile(hs, 0.9), 6);
    }
  });

  it('time to first assignment: seen at collection times; reports assigned before fedipulse saw them are left out and counted', async () => {
    const d = await data('time_to_assign', '12mo');
    const { S, E } = bounds(d);
    const c = t.times;
    const firstAtOrAfter = (ms: number) => c.findIndex((x) => ms <= x);
    // Mastodon keeps no assignment time: fedipulse sees an assignee at the first collection after it happened.
    // A report already assigned when first seen has a known time only when filed after the previous collection.
    const seen = new Map<string, number[]>();
    const truth = new Map<string, number[]>();
    const leftOut = new Map<string, number>();
    for (const r of reports) {
      if (r.createdMs < S || r.createdMs >= E || r.assignedMs > T) continue;
      const m = monthOf(r.createdMs);
      const j = firstAtOrAfter(r.createdMs);
      if (r.assignedMs <= c[j] && j === 0) {
        leftOut.set(m, (leftOut.get(m) ?? 0) + 1);
        continue;
      }
      const at = c[firstAtOrAfter(r.assignedMs)];
      seen.set(m, [...(seen.get(m) ?? []), (at - r.createdMs) / H]);
      truth.set(m, [...(truth.get(m) ?? []), (r.assignedMs - r.createdMs) / H]);
    }
    const months = [...new Set([...seen.keys(), ...leftOut.keys()])].sort();
    expect(d.rows.map((r) => r.month)).toEqual(months);
    // Collection started after most of these reports were filed: nearly all were assigned before it
    expect([...leftOut.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    for (const row of d.rows) {
      const m = row.month as string;
      expect(row.left_out, m).toBe(leftOut.get(m) ?? 0);
      const hs = seen.get(m);
      if (!hs) {
        expect(row.assigned, m).toBe(0);
        continue;
      }
      expect(row.assigned, m).toBe(hs.length);
      for (const [key, p] of [
        ['p50', 0.5],
        ['p90', 0.9]
      ] as const) {
        const v = row[key] as number;
        // The reports step runs a few minutes into a collection at most
        expect(v, `${m} ${key}`).toBeGreaterThanOrEqual(quantile(hs, p) - 1e-6);
        expect(v, `${m} ${key}`).toBeLessThanOrEqual(quantile(hs, p) + STEP_SLACK_H);
        // Against the true assignment times: never early, and late by less than one day between collections
        const real = quantile(truth.get(m)!, p);
        expect(v).toBeGreaterThanOrEqual(real);
        expect(v).toBeLessThanOrEqual(real + 24 + STEP_SLACK_H);
      }
    }
    // No p90 of months or years from reports older than the installation
    for (const row of d.rows) if (row.p90 !== null) expect(row.p90 as number).toBeLessThan(24 * 60);
  });

  it('the page says how many reports were left out of time to first assignment', async () => {
    const d = await data('time_to_assign');
    const n = d.rows.reduce((a, r) => a + Number(r.left_out), 0);
    expect(n).toBeGreaterThan(0);
    const html = await (await t.get('/moderation?range=90d')).text();
    expect(html).toMatch(new RegExp(`leaves out\\s+${n}\\s+reports`));
  });

  it('category by origin in one cross-tab; reports from other servers are all “other”', async () => {
    const d = await data('report_categories');
    const { S, E } = bounds(d);
    const inRange = reports.filter((r) => r.createdMs >= S && r.createdMs < E);
    const cats = [...new Set(inRange.map((r) => r.category))];
    const expected = cats
      .map((category) => {
        const of = inRange.filter((r) => r.category === category);
        return {
          category,
          members_local: of.filter((r) => 'local' in r.reporter && 'local' in r.target).length,
          members_remote: of.filter((r) => 'local' in r.reporter && 'remote' in r.target).length,
          received: of.filter((r) => 'remote' in r.reporter).length,
          total: of.length
        };
      })
      .sort((a, b) => b.total - a.total || (a.category < b.category ? -1 : 1));
    expect(d.rows).toEqual(expected);
    const received = d.rows.filter((r) => Number(r.received) > 0);
    expect(received.map((r) => r.category)).toEqual(['other']);
  });

  it('sending domains (the reporter’s server) and the domains of reported accounts', async () => {
    const top = (pairs: [string, Report][]) =>
      [...count(pairs.map(([d]) => d))]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 20)
        .map(([domain, n]) => ({ domain, n, of: pairs.filter(([x]) => x === domain).map(([, r]) => r) }));

    const sending = await data('sending_domains');
    const { S, E } = bounds(sending);
    const inRange = reports.filter((r) => r.createdMs >= S && r.createdMs < E);
    const bySender = top(
      inRange.flatMap((r) => (remoteDomain(r.reporter) ? [[remoteDomain(r.reporter)!, r]] : []))
    );
    expect(bySender.length).toBeGreaterThan(0);
    expect(sending.rows).toEqual(
      bySender.map((x) => ({
        domain: x.domain,
        reports: x.n,
        resolved: x.of.filter((r) => r.resolvedMs <= T).length,
        about_members: x.of.filter((r) => 'local' in r.target).length
      }))
    );

    const reported = await data('reported_domains');
    const byTarget = top(
      inRange.flatMap((r) => (remoteDomain(r.target) ? [[remoteDomain(r.target)!, r]] : []))
    );
    expect(reported.rows).toEqual(
      byTarget.map((x) => ({
        domain: x.domain,
        reports: x.n,
        resolved: x.of.filter((r) => r.resolvedMs <= T).length
      }))
    );
    // The two rankings answer different questions: who sends reports is not whose accounts are reported
    expect(sending.rows.map((r) => r.domain)).not.toEqual(reported.rows.map((r) => r.domain));
  });
});

describe('Mastodon before 4.6 (4.5.13, unpatched)', () => {
  it('open reports are listed without `resolved`: every report stored once, open ones as open', () => {
    const at = t.times[1];
    const all = t.world().mod.reports.filter((r) => r.createdMs <= at);
    expect(before46).toMatchObject({ n: all.length, open: all.filter((r) => r.resolvedMs > at).length });
    expect(before46!.open).toBeGreaterThan(0);
  });

  it('retention is not capped: every monthly cohort since the first sign-up', () => {
    expect(before46?.firstCohort).toBe('2023-10-01');
  });
});
