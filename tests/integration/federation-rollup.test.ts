/**
 * The federation page reads per-crawl-day rollups (federation_software_daily, federation_limits_daily) that
 * collectors/store/peers.ts rollupFederationDay writes and migration 010 backfills. Here they are checked
 * against the raw observations of crawls of the simulator, with the rule the page used to apply at read time
 * (each peer's latest observation of a crawl day; reachable, non-suspect peers by lower-cased software; peers
 * whose latest answer named our domain, by severity) worked out in plain code, not SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openWriter, type Db } from '../../collectors/store/database.ts';
import { rollupFederationDay } from '../../collectors/store/peers.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

const DAY = 86_400_000;
const HOOK = 300_000;

interface Obs {
  day: string;
  domain: string;
  t: number;
  run_id: number;
  outcome: string;
  suspect: boolean;
  software: string | null;
  users: number | null;
  active: number | null;
}

type Soft = { day: string; software: string; peers: number; users: number; active_month: number };
type Lim = { day: string; suspend: number; silence: number; other: number };

/** What the rollups should hold, from the raw observations of the rolled-up crawl days. */
async function expected(db: Db): Promise<{ soft: Soft[]; lim: Lim[] }> {
  const days = new Set(
    (await db.all<{ day: string }>('SELECT CAST(day AS VARCHAR) AS day FROM federation_days')).map(
      (r) => r.day
    )
  );
  const obs = await db.all<Obs>(
    `SELECT CAST(crawl_day AS VARCHAR) AS day, domain, epoch_ms(observed_at) AS t, run_id, outcome, suspect, software,
            users_total AS users, users_active_month AS active
     FROM peer_observations`
  );
  const limits = await db.all<{ run_id: number; peer_domain: string; severity: string }>(
    'SELECT run_id, peer_domain, severity FROM peer_limit_obs'
  );
  const latest = new Map<string, Obs>();
  for (const o of obs) {
    if (!days.has(o.day)) continue;
    const k = `${o.day} ${o.domain}`;
    const cur = latest.get(k);
    if (!cur || o.t > cur.t || (o.t === cur.t && o.run_id > cur.run_id)) latest.set(k, o);
  }
  const soft = new Map<string, Soft>();
  for (const o of latest.values()) {
    if (o.outcome !== 'ok' || o.suspect) continue;
    const software = o.software?.toLowerCase() ?? 'unknown';
    const k = `${o.day} ${software}`;
    const s = soft.get(k) ?? { day: o.day, software, peers: 0, users: 0, active_month: 0 };
    s.peers++;
    s.users += o.users ?? 0;
    s.active_month += o.active ?? 0;
    soft.set(k, s);
  }
  const lim = new Map<string, Lim>();
  const byRun = new Map(limits.map((l) => [`${l.run_id} ${l.peer_domain}`, l.severity]));
  for (const o of latest.values()) {
    const sev = byRun.get(`${o.run_id} ${o.domain}`);
    if (sev === undefined) continue;
    const l = lim.get(o.day) ?? { day: o.day, suspend: 0, silence: 0, other: 0 };
    if (sev === 'suspend') l.suspend++;
    else if (sev === 'silence') l.silence++;
    else l.other++;
    lim.set(o.day, l);
  }
  const byKey = (a: { day: string; software?: string }, b: { day: string; software?: string }) =>
    a.day.localeCompare(b.day) || (a.software ?? '').localeCompare(b.software ?? '');
  return { soft: [...soft.values()].sort(byKey), lim: [...lim.values()].sort(byKey) };
}

async function stored(db: Db): Promise<{ soft: Soft[]; lim: Lim[] }> {
  return {
    soft: await db.all<Soft>(
      `SELECT CAST(day AS VARCHAR) AS day, software, peers, users, active_month FROM federation_software_daily
       ORDER BY day, software`
    ),
    lim: await db.all<Lim>(
      'SELECT CAST(day AS VARCHAR) AS day, suspend, silence, other FROM federation_limits_daily ORDER BY day'
    )
  };
}

describe('federation rollups per crawl day equal the rule applied to the raw observations', () => {
  let t: Truth;
  beforeAll(async () => {
    t = await collectFromSim({ days: 1, kindOf: () => 'all', serve: false });
    // The same day again (a resumed or repeated crawl: two runs, the latest answer counts), then a week later.
    await t.collect('peers', t.times[0] + 6 * 3_600_000);
    await t.collect('all', t.times[0] + 7 * DAY);
  }, HOOK);
  afterAll(async () => {
    await t?.stop();
  });

  it('the crawler writes the software mix and the peers limiting us for every crawl day', async () => {
    const db = await openWriter(t.file, 'test');
    try {
      const want = await expected(db);
      expect(new Set(want.soft.map((r) => r.day)).size).toBe(2);
      expect(want.soft.find((r) => r.software === 'mastodon')?.peers).toBeGreaterThan(0);
      expect(want.lim.length).toBe(2);
      expect(await stored(db)).toEqual(want);
      // Rolled up again later (as generated data and resumed crawls do), a day keeps its rows.
      const day = (await db.one<{ day: string; run_id: number }>(
        'SELECT CAST(min(day) AS VARCHAR) AS day, arg_min(run_id, day) AS run_id FROM federation_days'
      ))!;
      await rollupFederationDay(db, day.day, day.run_id);
      expect(await stored(db)).toEqual(want);
    } finally {
      closeWriter(db);
    }
  });

  it('migration 010 backfills a database crawled before it by the same rule', async () => {
    let db = await openWriter(t.file, 'test');
    let want: Awaited<ReturnType<typeof expected>>;
    try {
      want = await expected(db);
      // The database as an earlier build left it: no rollup tables, 010 not applied.
      await db.run('DROP TABLE federation_software_daily');
      await db.run('DROP TABLE federation_limits_daily');
      await db.run('DELETE FROM schema_migrations WHERE version = 10');
    } finally {
      closeWriter(db);
    }
    db = await openWriter(t.file, 'test'); // migrates
    try {
      expect(await stored(db)).toEqual(want);
    } finally {
      closeWriter(db);
    }
  });
});
