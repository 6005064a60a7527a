import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadOnly } from '../../collectors/store/database.ts';
import { FOUNDED } from '../../sim/own-server/dates.ts';
import { currentSignInAt, type Member } from '../../sim/own-server/history.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

/**
 * Retention against the simulator's own members (sign-up time and every sign-in). Mastodon's cell for cohort C
 * and period P, asked at time X, is the number of C's members whose last sign-in at X falls in P or later
 * (app/lib/admin/metrics/retention.rb); the expected cells are computed from the model that way.
 *
 * The server runs the security release 4.5.14, which answers only the 12 months of cohorts before end_at: on
 * 31 October from October 2025, on 1 November from November 2025. So the October 2025 cohort was last reported
 * on 31 October and must be shown as "last seen on 2026-10-31", and the start of history must come from the
 * measures, not from the cohorts. (Three daily collections: the fewest that show a month end and a cohort
 * dropping out.) An unpatched server (4.5.13) is checked in truth-moderation.test.ts.
 */

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1);

type Cell = string | number | null;
interface Data {
  range: { start: string; end: string };
  rows: Record<string, Cell>[];
}

let t: Truth;
let members: Member[];

const data = (metric: string) => t.json<Data>(`/data/retention/${metric}.json?range=90d`);
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
const monthStart = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};
const monthsBetween = (a: number, b: number) =>
  (new Date(b).getUTCFullYear() - new Date(a).getUTCFullYear()) * 12 +
  new Date(b).getUTCMonth() -
  new Date(a).getUTCMonth();

/** Mastodon's cells at time `at` for cohorts [from, to] (period starts), periods up to `at`'s period. */
function cells(at: number, frequency: 'month' | 'day', from: number, to: number) {
  const trunc = frequency === 'month' ? monthStart : (ms: number) => Math.floor(ms / DAY) * DAY;
  const step = frequency === 'month' ? nextMonth : (ms: number) => ms + DAY;
  const last = trunc(at);
  const out: { cohort: number; period: number; users: number; rate: number }[] = [];
  for (let c = trunc(from); c <= to; c = step(c)) {
    const cohort = members.filter((m) => m.createdMs >= c && m.createdMs < step(c) && m.createdMs <= at);
    const seen = cohort.map((m) => currentSignInAt(m, at) ?? -Infinity);
    for (let p = c, i = 0; p <= last; p = step(p), i++) {
      const users = seen.filter((s) => trunc(s) >= p).length;
      out.push({ cohort: c, period: i, users, rate: cohort.length ? users / cohort.length : 0 });
    }
  }
  return out;
}

describe('retention against the simulator’s members', () => {
  beforeAll(async () => {
    t = await collectFromSim({
      days: 3,
      end: END,
      kindOf: () => 'instance', // the peer crawl adds nothing to retention
      sim: { own: { version: '4.5.14' } }
    });
    members = t.world().h.members;
  }, 300_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('finds the start of history from the measures, although the server caps retention', async () => {
    const db = await openReadOnly(t.file);
    try {
      const started = await db.one<{ value: string }>(
        `SELECT value FROM settings WHERE key LIKE 'instance.started:%'`
      );
      expect(started?.value).toBe(month(FOUNDED) + '-01');
      const first = await db.one<{ d: string }>(
        `SELECT CAST(min(day) AS VARCHAR) AS d FROM daily_metrics WHERE metric = 'new_users' AND value > 0`
      );
      expect(first?.d).toBe(new Date(FOUNDED).toISOString().slice(0, 10));
      // while Mastodon itself never reported a cohort older than 12 months
      const cohorts = await db.one<{ c: string }>(
        `SELECT CAST(min(cohort) AS VARCHAR) AS c FROM retention_cohorts WHERE frequency = 'month'`
      );
      expect(cohorts?.c).toBe('2025-10-01');
    } finally {
      db.close();
    }
  });

  it('Mastodon’s monthly cells: current cohorts as of the last collection, older ones as last seen', async () => {
    const d = await data('retention_monthly');
    const T = t.times[t.times.length - 1];
    // 31 October: cohorts from October 2025; 1 November: from November 2025
    const oct31 = t.times[1];
    const capStart = Date.UTC(2025, 10, 1);
    expect(firstCohortShown(d)).toBeLessThan(Date.UTC(2025, 9, 1));
    const stale = cells(oct31, 'month', Date.UTC(2025, 9, 1), capStart - 1);
    const current = cells(T, 'month', capStart, T);
    const lastSeen = '2026-10-31';
    const expected = [
      ...stale.map((c) => ({ ...c, last_seen: lastSeen as string | null })),
      ...current.map((c) => ({ ...c, last_seen: null }))
    ];
    expect(stale.length).toBeGreaterThan(0);
    expect(d.rows.map((r) => [r.cohort, r.period, r.users, r.last_seen])).toEqual(
      expected.map((c) => [
        c.last_seen ? `${month(c.cohort)} (last seen on ${c.last_seen})` : month(c.cohort),
        c.period,
        c.users,
        c.last_seen
      ])
    );
    d.rows.forEach((r, i) => expect(r.rate as number).toBeCloseTo(expected[i].rate, 9));
  });

  it('monthly cells as seen at each month’s end: the last collection before it ended, none before collection began', async () => {
    const d = await data('retention_monthly_period_end');
    // Only October 2026 has ended since collection began (30 October); its last collection was 31 October
    const octEnd = Date.UTC(2026, 10, 1);
    const lastBefore = Math.max(...t.times.filter((x) => x < octEnd));
    // The cohorts Mastodon reported then: from October 2025 (12 months before 31 October)
    const expected = cells(lastBefore, 'month', Date.UTC(2025, 9, 1), Date.UTC(2026, 9, 1)).filter(
      (c) => c.period === monthsBetween(c.cohort, Date.UTC(2026, 9, 1))
    );
    expect(expected.length).toBe(13);
    expect(d.rows.map((r) => [r.cohort, r.period, r.users])).toEqual(
      expected.map((c) => [month(c.cohort), c.period, c.users])
    );
    d.rows.forEach((r, i) => expect(r.rate as number).toBeCloseTo(expected[i].rate, 9));
    // The definition says which way Mastodon's cells move
    const def = (await t.json<{ definition: string }>('/data/retention/retention_monthly.json')).definition;
    expect(def).toContain('only ever rises');
  });

  it('Mastodon’s daily cells of the last 30 days', async () => {
    const d = await data('retention_daily');
    const T = t.times[t.times.length - 1];
    const from = Date.parse(`${addDaysIso(d.range.end, -30)}T00:00:00Z`);
    const expected = cells(T, 'day', from, T);
    expect(d.rows.map((r) => [r.cohort, r.period, r.users, r.last_seen])).toEqual(
      expected.map((c) => [new Date(c.cohort).toISOString().slice(0, 10), c.period, c.users, null])
    );
  });
});

/** The page shows monthly cohorts starting 730 days or less before the range end. */
function firstCohortShown(d: Data): number {
  const first = Date.parse(`${addDaysIso(d.range.end, -730)}T00:00:00Z`);
  return monthStart(first) < first ? nextMonth(first) : first;
}

function addDaysIso(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}
