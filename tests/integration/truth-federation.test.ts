/**
 * Federation numbers proven against the simulator's own model: the peer catalog (sim/peers/catalog.ts)
 * knows which domains the own server's peers list names (junk entries with what each normalises to), how
 * each peer answers on a day (ok or its failure), its real user counts, whether it lies, and which peers
 * list our domain in their public block lists; the own server's world knows which domains it blocks
 * (Mastodon leaves those out of /api/v1/instance/peers). Two crawls a week apart, collected by the real
 * collectors, read back through /data/federation/<metric>.json. Every expected value is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../../bench/pages.ts';
import { closeWriter, openWriter } from '../../collectors/store/database.ts';
import { rollupFederationDay } from '../../collectors/store/peers.ts';
import { FLOOD_NODEINFO } from '../../sim/peers/serve.ts';
import type { Sim } from '../../sim/index.ts';
import { activeBlocks } from '../../sim/own-server/world.ts';
import { collectFromSim, type Truth } from '../helpers/truth.ts';

const DAY = 86_400_000;
const HOOK = 300_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type Row = Record<string, number | string | null>;
type Rows = { rows: Row[] };

interface CrawlTruth {
  day: string;
  known: number;
  reachable: number;
  users: number;
  active: number;
  limiting: { suspend: number; silence: number };
  /** Reachable, non-suspect peers by software. */
  mix: Map<string, number>;
}

/**
 * What a crawl at `at` should find, from the model alone (the simulator's clock must be at `at`). `seen`:
 * peers an earlier crawl reached. A peer whose numbers jump is a lie the model marks, but a jump is a change
 * from the previous answer: on a peer's first answer there is nothing to compare with, so no crawler can
 * know, and its numbers count (they are what the peer says).
 */
function truthAt(sim: Sim, at: number, seen: Set<string>): CrawlTruth {
  const cat = sim.peers;
  const blocked = new Set(activeBlocks(sim.own.world(), at).map((b) => b.block.domain));
  const junk = new Map(cat.junk().map((j) => [j.entry, j]));
  const known = new Set<string>();
  const flood = new Set<string>();
  for (const e of cat.peersListEntries()) {
    if (blocked.has(e)) continue;
    const j = junk.get(e);
    if (!j) known.add(e);
    else if (j.normalizesTo) known.add(j.normalizesTo);
    else if (j.kind === 'flood') {
      known.add(e);
      flood.add(e);
    }
  }
  const t: CrawlTruth = {
    day: iso(at),
    known: known.size,
    reachable: 0,
    users: 0,
    active: 0,
    limiting: { suspend: 0, silence: 0 },
    mix: new Map()
  };
  for (const d of known) {
    // The flood's hosts all serve one NodeInfo document (sim/peers/serve.ts).
    const x = flood.has(d)
      ? {
          outcome: 'ok',
          suspect: false,
          software: FLOOD_NODEINFO.software.name,
          usersTotal: FLOOD_NODEINFO.usage.users.total,
          activeMonth: FLOOD_NODEINFO.usage.users.activeMonth
        }
      : cat.expected(d, new Date(at))!;
    if (x.outcome !== 'ok') continue;
    t.reachable++;
    const first = !seen.has(d);
    seen.add(d);
    if (x.suspect && !(first && 'behaviour' in x && x.behaviour === 'jumps')) continue;
    t.users += x.usersTotal ?? 0;
    t.active += x.activeMonth ?? 0;
    const sw = x.software ?? 'unknown';
    t.mix.set(sw, (t.mix.get(sw) ?? 0) + 1);
  }
  for (const l of cat.limitingOwn(new Date(at))) if (known.has(l.peer)) t.limiting[l.severity]++;
  return t;
}

describe('federation against the simulator: peers known and reachable, reach, limits, software mix', () => {
  let t: Truth;
  let served: Served;
  const crawls: CrawlTruth[] = [];
  const seen = new Set<string>();
  const json = async (p: string) =>
    (await (
      await fetch(`${served.url}${p}`, { headers: { cookie: served.staffCookie, 'accept-language': 'en' } })
    ).json()) as Rows;
  const byDay = async (metric: string) =>
    new Map((await json(`/data/federation/${metric}.json`)).rows.map((r) => [String(r.day), r]));

  beforeAll(async () => {
    t = await collectFromSim({ days: 1, kindOf: () => 'all', serve: false });
    crawls.push(truthAt(t.sim, t.times[0], seen));
    // A week later (the default crawl rhythm of the harness): peers have been born, died, changed.
    const next = t.times[0] + 7 * DAY;
    await t.collect('all', next);
    crawls.push(truthAt(t.sim, next, seen));
    served = await serve(t.file, { buildDir: process.env.FEDIPULSE_BUILD_DIR });
  }, HOOK);
  afterAll(async () => {
    await served?.stop();
    await t?.stop();
  });

  it('peers known (the peers list, junk normalised, our blocks left out) and reachable, per crawl day', async () => {
    const rows = await byDay('peers');
    for (const c of crawls) {
      expect(c.reachable).toBeGreaterThan(0);
      expect(c.reachable).toBeLessThan(c.known); // the catalog has failing peers
      expect(rows.get(c.day), c.day).toMatchObject({ known: c.known, reachable: c.reachable });
    }
    // Days between the crawls are gaps, not zeros.
    expect(rows.get(iso(t.times[0] + 3 * DAY))).toMatchObject({ known: null, reachable: null });
  });

  it('reach sums the real users and monthly actives of reachable peers, lying ones left out', async () => {
    const rows = await byDay('reach');
    for (const c of crawls)
      expect(rows.get(c.day), c.day).toMatchObject({ users: c.users, active: c.active });
  });

  it('peers limiting us, by the severity they chose, on each crawl day', async () => {
    const rows = await byDay('limiting_us');
    for (const c of crawls) {
      expect(c.limiting.suspend + c.limiting.silence).toBeGreaterThan(0);
      expect(rows.get(c.day), c.day).toEqual({ day: c.day, ...c.limiting, other: 0 });
    }
  });

  it('the software mix over time has every crawl, and the latest crawl’s mix by servers', async () => {
    const hist = (await json('/data/federation/software_mix_history.json')).rows;
    expect(hist.map((r) => r.day)).toEqual(crawls.map((c) => c.day));
    for (const [i, c] of crawls.entries()) {
      const row = hist[i];
      let total = 0;
      for (const [k, v] of Object.entries(row)) if (k !== 'day') total += v as number;
      // Named programs are exact; the rest is summed as "other".
      expect(total, c.day).toBe([...c.mix.values()].reduce((a, b) => a + b, 0));
      for (const [sw, n] of c.mix) {
        const key = `sw_${sw.replace(/[^a-z0-9]+/g, '_')}`;
        if (key in row) expect(row[key], `${sw} on ${c.day}`).toBe(n);
      }
      expect(row.sw_mastodon).toBe(c.mix.get('mastodon'));
    }
    const latest = (await json('/data/federation/software_by_servers.json')).rows;
    const last = crawls[crawls.length - 1];
    expect(new Map(latest.map((r) => [r.software, r.servers]))).toEqual(last.mix);
  });

  it('one roll-up rule: rolled up again later (as the generated data does) a crawl day keeps its numbers, and matches the peers list count', async () => {
    const db = await openWriter(t.file, 'test');
    try {
      const before = await db.all<Row>(
        `SELECT CAST(day AS VARCHAR) AS day, run_id, peers_known, peers_reachable, reach_users, reach_active_month
         FROM federation_days ORDER BY day`
      );
      expect(before.map((r) => r.day)).toEqual(crawls.map((c) => c.day));
      // The first crawl day, rolled up after the second crawl re-read the peers list.
      await rollupFederationDay(db, String(before[0].day), Number(before[0].run_id));
      const after = await db.all<Row>(
        `SELECT CAST(day AS VARCHAR) AS day, run_id, peers_known, peers_reachable, reach_users, reach_active_month
         FROM federation_days ORDER BY day`
      );
      expect(after).toEqual(before);
      // peers_count, the length of the normalised peers list the instance collector stores, is peers_known.
      const counts = await db.all<{ day: string; v: number }>(
        `SELECT CAST(day AS VARCHAR) AS day, value AS v FROM daily_metrics WHERE metric = 'peers_count' ORDER BY day`
      );
      expect(counts.map((r) => [r.day, r.v])).toEqual(crawls.map((c) => [c.day, c.known]));
    } finally {
      closeWriter(db);
    }
  });
});
