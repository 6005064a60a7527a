/**
 * Growth numbers proven against the simulator's own model (sim/own-server/history.ts: every member with
 * sign-up time, confirmation and sign-ins), collected by the real collectors and read back through the
 * dashboard's /data/<page>/<metric>.json — never from the dashboard's SQL.
 *
 * Every expected value is exact: each figure is what the server said at a collection (06:00 UTC), and the
 * model answers "as of" that same moment (a partial day counts up to 06:00, as Mastodon's does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadOnly } from '../../collectors/store/database.ts';
import { dayOf, dayStart } from '../../sim/own-server/dates.ts';
import {
  localStatusesAt,
  loginAt,
  uniqueLogins,
  userCount,
  type History
} from '../../sim/own-server/history.ts';
import { atLeast, stackAt } from '../../sim/own-server/versions.ts';
import { onDay } from '../../sim/own-server/world.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

const DAY = 86_400_000;
const HOOK = 300_000;
const END = Date.UTC(2026, 5, 15);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type Rows = { rows: Record<string, number | string | null>[] };
const byDay = (r: Rows) => new Map(r.rows.map((x) => [String(x.day), x]));

/** MAU as Mastodon's v2 instance and NodeInfo report it at `t`: unique sign-ins of the 28 days before today. */
const mauAt = (h: History, t: number) => uniqueLogins(h, dayOf(t) - 28, dayOf(t), t);

/** Did the member sign in on a day in [from, to] (days), by `t`? */
function signedInWithin(h: History, i: number, from: number, to: number, t: number): boolean {
  const m = h.members[i];
  for (const d of m.loginDays) {
    if (d < from || d > to) continue;
    if (d < dayOf(t) || loginAt(m, d) <= t) return true;
  }
  return false;
}

describe('growth against the simulator: members, sign-ups, MAU, returning, statuses per active user', () => {
  // Collections on day 0, after a 40-day outage on day 40, and on day 68 (28 days later): three runs are
  // enough for every figure below and keep the harness fast (days without a run only move the clock).
  const RUNS = new Set([0, 40, 68]);
  let t: Truth;
  let h: History;
  let last: number;

  beforeAll(async () => {
    t = await collectFromSim({
      days: 69,
      end: END,
      kindOf: (i) => (RUNS.has(i) ? 'instance' : null)
    });
    h = t.world().h;
    last = t.times[t.times.length - 1];
  }, HOOK);
  afterAll(async () => t?.stop(), HOOK);

  /** The dashboard moves to a new snapshot within a second of a collection: ask until it shows `day`. */
  async function newest(p: string, day: string): Promise<Rows> {
    for (let i = 0; ; i++) {
      const r = await t.json<Rows & { range: { end: string } }>(p);
      if (r.range.end === day || i === 40) return r;
      await new Promise((ok) => setTimeout(ok, 250));
    }
  }

  it('members on each collection day are the confirmed, unsuspended accounts at that moment', async () => {
    const rows = byDay(await t.json<Rows>('/data/growth/members.json?range=90d&compare=none'));
    for (const at of t.times) expect(rows.get(iso(at))?.members).toBe(userCount(h, at));
  });

  it('sign-ups are complete for every day, across an outage longer than the 30 re-read days', async () => {
    const rows = byDay(await t.json<Rows>('/data/growth/new_users.json?range=90d&compare=none'));
    const first = dayOf(t.times[0]);
    let days = 0;
    for (let d = first; d <= dayOf(last); d++) {
      // Days 1–9 of the outage are only reachable by re-reading back to the last stored day
      expect(rows.get(iso(dayStart(d)))?.new_users, iso(dayStart(d))).toBe(
        onDay(t.world().signupTimes, d, last)
      );
      days++;
    }
    expect(days).toBe(69);
  });

  it('monthly active users are the unique sign-ins of the 4 weeks before each collection', async () => {
    const rows = byDay(await t.json<Rows>('/data/growth/active_users.json?range=90d&compare=none'));
    for (const at of t.times) {
      expect(rows.get(iso(at))?.mau).toBe(mauAt(h, at));
      expect(rows.get(iso(at))?.mau_source).toBe('instance API');
    }
  });

  it('returning active users: members who joined before the window and signed in within it, even when sign-ups never sign in', async () => {
    const rows = byDay(await t.json<Rows>('/data/growth/active_users.json?range=90d&compare=none'));
    for (const at of t.times) {
      const today = dayOf(at);
      const from = today - 28;
      let returning = 0;
      let silent = 0;
      for (let i = 0; i < h.members.length; i++) {
        const m = h.members[i];
        if (m.signupDay >= today) break; // today is not in Mastodon's window yet
        if (m.signupDay < from) {
          if (signedInWithin(h, i, from, today - 1, at)) returning++;
        } else if (!signedInWithin(h, i, from, today - 1, at)) silent++;
      }
      // The case that broke "MAU − sign-ups": accounts created in the window that never signed in
      expect(silent, `sign-ups without a sign-in in the window ending ${iso(at)}`).toBeGreaterThan(0);
      expect(rows.get(iso(at))?.returning, iso(at)).toBe(returning);
    }
  });

  it('statuses per monthly active user: statuses of the 28 days before a collection over its MAU', async () => {
    const rows = byDay(await t.json<Rows>('/data/growth/posts_per_active.json?range=90d&compare=none'));
    const before = last - 28 * DAY;
    const written = localStatusesAt(h, last) - localStatusesAt(h, before);
    const row = rows.get(iso(last))!;
    expect(row.statuses_28d).toBe(written);
    expect(row.mau).toBe(mauAt(h, last));
    expect(row.per_active).toBeCloseTo(written / mauAt(h, last), 12);
    // No run 28 days before the other collections: no number rather than a wrong one
    expect(rows.get(iso(t.times[1]))?.per_active).toBeNull();
  });

  it('overview key figures: members and MAU on the last day, sign-ups summed over the 30-day range', async () => {
    const k = await t.json<{ rows: { key: string; value: number | null }[] }>('/data/overview/kpis.json');
    const v = new Map(k.rows.map((r) => [r.key, r.value]));
    expect(v.get('members')).toBe(userCount(h, last));
    expect(v.get('mau')).toBe(mauAt(h, last));
    let signups = 0;
    for (let d = dayOf(last) - 29; d <= dayOf(last); d++) signups += onDay(t.world().signupTimes, d, last);
    expect(v.get('signups')).toBe(signups);
  });
  // 4.4+ answers usage.users.active_month = 0 in limited federation mode (instance_serializer.rb); 4.3 still
  // counted. Two more collections in that mode: the co-op's own version, then the server pinned to 4.3.6.
  it(
    'limited federation mode: MAU from NodeInfo on 4.4+, from the instance API on 4.3, and the page says which',
    async () => {
      const day1 = END + DAY + 6 * 3600_000;
      const day2 = END + 2 * DAY + 6 * 3600_000;
      const modern = stackAt(day1).mastodon;
      expect(atLeast(modern, '4.4')).toBe(true);
      t.sim.own.settings.limitedFederation = true;
      await t.collect('instance', day1);
      t.sim.own.settings.version = '4.3.6';
      await t.collect('instance', day2);
      const rows = byDay(await newest('/data/growth/active_users.json?range=7d&compare=none', iso(day2)));
      const h2 = t.world().h;
      const a = rows.get(iso(day1))!;
      expect(a.mau).toBe(mauAt(h2, day1));
      expect(a.mau).toBeGreaterThan(0);
      expect(a.mau_source).toBe('NodeInfo (limited federation)');
      const b = rows.get(iso(day2))!;
      expect(b.mau).toBe(mauAt(h2, day2));
      expect(b.mau_source).toBe('instance API');
    },
    HOOK
  );

  it('records the server version of every collection, and never measures our own domain as a top peer', async () => {
    const db = await openReadOnly(t.file);
    try {
      // servers_dimension.rb names our own statuses by our domain: the biggest row, and not a peer
      const own = t.sim.own.domain;
      const dim = await db.all<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM dimension_days WHERE dimension = 'servers' AND key = $1`,
        [own]
      );
      expect(dim[0].n).toBeGreaterThan(0);
      const measured = await db.all<{ domain: string }>('SELECT DISTINCT domain FROM peer_measure_days');
      expect(measured.length).toBeGreaterThan(0);
      expect(measured.map((r) => r.domain)).not.toContain(own);
      const v = await db.all<{ version: string; source: string }>(
        'SELECT version, source FROM server_versions ORDER BY observed_at'
      );
      expect(v).toEqual([
        ...t.times.slice(0, 4).map((at) => ({ version: stackAt(at).mastodon, source: 'instance' })),
        { version: '4.3.6', source: 'instance' }
      ]);
    } finally {
      db.close();
    }
  });
});
