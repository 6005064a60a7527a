import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollection } from '../../collectors/run.ts';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { OUTCOMES } from '../../collectors/store/peers.ts';
import { silentProgress } from '../../collectors/progress.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import type { Sim } from '../../sim/index.ts';
import { FAILURES, type Behaviour } from '../../sim/peers/index.ts';
import { gzipBomb } from '../../sim/peers/failures.ts';
import { createDispatcher } from '../../collectors/net/dispatcher.ts';
import { parseConnectTo } from '../../src/lib/server/config.ts';
import { request } from 'undici';
import { startTrustedSim, tempDir } from '../helpers/index.ts';

interface ObsRow {
  domain: string;
  outcome: string;
  software: string | null;
  software_version: string | null;
  users_total: number | null;
  users_active_month: number | null;
  suspect: boolean;
  error: string | null;
}

const DAY = 86_400_000;

/** Crawler settings for a test: short deadlines, no politeness waits (the sim is on loopback). */
const FAST = {
  FEDIPULSE_PEER_TIMEOUT_MS: '2500',
  FEDIPULSE_PEER_MIN_INTERVAL_MS: '0',
  FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS: '0',
  FEDIPULSE_PEER_CONCURRENCY: '32'
};

describe('peer crawl against the simulated fediverse', () => {
  let sim: Sim;
  let dbPath: string;
  const pinned = new Map<Behaviour, string>();
  const optedOut = { domain: '' };
  const crawl = async (extra: Record<string, string> = {}) => {
    Object.assign(process.env, FAST, extra);
    const config = loadConfig(sim.env({ FEDIPULSE_DB: dbPath }));
    return runCollection('peers', { config, progress: silentProgress, now: () => sim.clock.now() });
  };
  const read = async <T>(sql: string, params?: unknown[]): Promise<T[]> => {
    const db: Db = await openReadOnly(dbPath);
    try {
      return await db.all<T>(sql, params as never);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 400, seed: 7 });
    dbPath = path.join(tempDir(), 'peers.duckdb');
    // The simulator builds its 512 MB gzip bomb on first use; build it now, not inside a crawl deadline.
    await gzipBomb();
    // The own server's list leaves out the domains it blocks, as Mastodon does.
    const own = createDispatcher({ connectTo: sim.connectTo.map(parseConnectTo), allowPrivate: true });
    const res = await request(`${sim.ownUrl}/api/v1/instance/peers`, { dispatcher: own });
    const listed = new Set((await res.body.json()) as string[]);
    await own.close();
    // Every failure the simulator knows, pinned on a healthy host so that each is certainly crawled.
    const healthy = sim.peers
      .peers()
      .filter((p) => p.behaviour === 'ok' && p.alive && p.software === 'mastodon' && listed.has(p.domain))
      .map((p) => p.domain);
    FAILURES.forEach((b, i) => {
      sim.peers.pin(healthy[i], b);
      pinned.set(b, healthy[i]);
    });
    optedOut.domain = healthy[FAILURES.length];
    const summary = await crawl({ FEDIPULSE_OPT_OUT: optedOut.domain, FEDIPULSE_SEED_PEERS: '' });
    expect(summary.status).toBe('ok');
  });
  afterAll(async () => {
    for (const k of Object.keys(FAST)) delete process.env[k];
    await sim?.stop();
  });

  it('ends every failure and hostile case in the outcome the simulator expects', async () => {
    const rows = await read<ObsRow>('SELECT * FROM peer_observations');
    const byDomain = new Map(rows.map((r) => [r.domain, r]));
    const wrong: string[] = [];
    for (const [b, domain] of pinned) {
      const e = sim.peers.expected(domain)!;
      const got = byDomain.get(domain);
      if (!got) wrong.push(`${b}: ${domain} not observed`);
      else if (got.outcome !== e.outcome)
        wrong.push(`${b}: want ${e.outcome}, got ${got.outcome} (${got.error})`);
    }
    expect(wrong).toEqual([]);
  });

  it('records software, version, counts and suspect flags as served, for every host', async () => {
    const rows = await read<ObsRow>('SELECT * FROM peer_observations');
    expect(rows.length).toBeGreaterThan(300);
    const wrong: string[] = [];
    for (const r of rows) {
      const e = sim.peers.expected(r.domain);
      if (!e) continue; // flood subdomains: not peers of the model
      // The simulator does not model robots.txt in front of a redirect (GoToSocial default mode).
      if (r.outcome === 'robots_disallowed' && e.actual.software === 'gotosocial') continue;
      if (r.outcome !== e.outcome)
        wrong.push(`${r.domain} ${e.behaviour}: want ${e.outcome}, got ${r.outcome}`);
      else if (r.outcome === 'ok') {
        const got = [r.software, r.software_version, r.users_total, r.users_active_month];
        const want = [e.software, e.version, e.usersTotal, e.activeMonth];
        if (JSON.stringify(got) !== JSON.stringify(want))
          wrong.push(`${r.domain}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        // A ×100 jump is only visible against a previous observation; this is the first.
        if (r.suspect !== e.suspect && e.behaviour !== 'jumps')
          wrong.push(`${r.domain} ${e.behaviour}: suspect ${r.suspect}, want ${e.suspect}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps the database consistent: outcomes, host state, raw documents, reach', async () => {
    const bad = await read<{ n: number }>(
      `SELECT count(*) AS n FROM peer_observations WHERE outcome NOT IN (${OUTCOMES.map((o) => `'${o}'`).join(',')})`
    );
    expect(bad[0].n).toBe(0);
    const orphans = await read<{ n: number }>(
      `SELECT count(*) AS n FROM peer_obs o LEFT JOIN peer_hosts h USING (domain)
       WHERE h.domain IS NULL OR h.last_outcome <> o.outcome`
    );
    expect(orphans[0].n).toBe(0);
    const okWithoutRaw = await read<{ n: number }>(
      `SELECT count(*) AS n FROM peer_obs o LEFT JOIN peer_obs_raw r USING (run_id, domain)
       WHERE o.outcome = 'ok' AND (r.raw IS NULL OR o.software IS NULL)`
    );
    expect(okWithoutRaw[0].n).toBe(0);
    const gone = await read<{ state: string; next_attempt_at: unknown }>(
      `SELECT state, next_attempt_at FROM peer_hosts WHERE domain = $1`,
      [pinned.get('gone')]
    );
    expect(gone[0]).toEqual({ state: 'gone', next_attempt_at: null });
    const [fd] = await read<Record<string, number>>('SELECT * FROM federation_daily');
    const [sum] = await read<Record<string, number>>(
      `SELECT count(*) FILTER (WHERE outcome = 'ok') AS reachable,
              sum(users_total) FILTER (WHERE outcome = 'ok' AND NOT suspect) AS users
       FROM peer_observations`
    );
    expect(fd.peers_reachable).toBe(sum.reachable);
    expect(fd.reach_users).toBe(sum.users);
    expect(fd.peers_known).toBeGreaterThanOrEqual(fd.peers_reachable);
    // Suspect numbers are kept (raw and value) but never summed.
    const lie = await read<{ users_total: number; suspect: boolean; raw: string }>(
      `SELECT users_total, suspect, raw::VARCHAR AS raw FROM peer_obs JOIN peer_obs_raw USING (run_id, domain)
       WHERE domain = $1`,
      [pinned.get('negative_numbers')]
    );
    expect(lie[0].suspect).toBe(true);
    expect(lie[0].users_total).toBeLessThan(0);
    expect(lie[0].raw).toContain('"total":-');
  });

  it('finds the peers that limit us, by name and by digest, and keeps nothing else of their lists', async () => {
    const rows = await read<{ peer_domain: string; severity: string; matched_by: string }>(
      'SELECT peer_domain, severity, matched_by FROM peers_limiting_us ORDER BY peer_domain'
    );
    const want = sim.peers
      .limitingOwn()
      .map((l) => ({ peer_domain: l.peer, severity: l.severity, matched_by: l.matchedBy }))
      .sort((a, b) => a.peer_domain.localeCompare(b.peer_domain));
    expect(rows).toEqual(want);
    expect(rows.some((r) => r.matched_by === 'digest')).toBe(true);
    const tables = await read<{ n: number }>(
      `SELECT count(*) AS n FROM information_schema.columns WHERE column_name ILIKE '%block%' AND table_name LIKE 'peer%'`
    );
    expect(tables[0].n).toBe(0);
  });

  it('never visits an opted-out domain', async () => {
    const rows = await read('SELECT 1 FROM peer_obs WHERE domain = $1', [optedOut.domain]);
    expect(rows).toEqual([]);
  });

  it('crawls each host at most once a crawl day; the next day retries failures with backoff, never gone', async () => {
    const before = await read<{ n: number }>('SELECT count(*) AS n FROM peer_obs');
    const again = await crawl();
    expect(again.sources[0].items).toBe(0);
    const after = await read<{ n: number }>('SELECT count(*) AS n FROM peer_obs');
    expect(after[0].n).toBe(before[0].n);

    sim.clock.advance(DAY);
    await crawl({ FEDIPULSE_SEED_PEERS: 'seeded-extra.example' });
    const day2 = await read<{ domain: string; outcome: string; in_peers_list: boolean }>(
      `SELECT o.domain, o.outcome FROM peer_obs o WHERE o.crawl_day = (SELECT max(crawl_day) FROM peer_obs)`
    );
    const seen = new Set(day2.map((r) => r.domain));
    expect(seen.has(pinned.get('gone')!)).toBe(false);
    expect(seen.has(pinned.get('timeout')!)).toBe(true); // first failure: back the next day
    expect(seen.has('seeded-extra.example')).toBe(true); // the seed list is crawled too
    const seed = await read<{ in_peers_list: boolean }>(
      `SELECT in_peers_list FROM peer_latest WHERE domain = $1`,
      ['seeded-extra.example']
    );
    expect(seed[0].in_peers_list).toBe(false);

    sim.clock.advance(DAY);
    await crawl();
    const day3 = await read<{ domain: string }>(
      `SELECT domain FROM peer_obs WHERE crawl_day = (SELECT max(crawl_day) FROM peer_obs)`
    );
    const seen3 = new Set(day3.map((r) => r.domain));
    // Two failures in a row: next try two days later.
    expect(seen3.has(pinned.get('timeout')!)).toBe(false);
    expect(seen3.has(pinned.get('refused')!)).toBe(false);
    const dupes = await read<{ n: number }>(
      'SELECT count(*) AS n FROM (SELECT domain, crawl_day FROM peer_obs GROUP BY ALL HAVING count(*) > 1)'
    );
    expect(dupes[0].n).toBe(0);
    // Every day keeps its document, yet a host's unchanged document is stored once, under its own hash.
    const [docs] = await read<{ missing: number; stored: number; read: number; wrong: number }>(
      `SELECT (SELECT count(*) FROM peer_obs o LEFT JOIN peer_obs_raw r USING (run_id, domain)
               WHERE o.raw_hash IS NOT NULL AND r.raw IS NULL) AS missing,
              (SELECT count(*) FROM peer_raw_docs) AS stored,
              (SELECT count(*) FROM peer_obs WHERE raw_hash IS NOT NULL) AS read,
              (SELECT count(*) FROM peer_raw_docs WHERE left(sha256(raw::VARCHAR), 32) <> hash) AS wrong`
    );
    expect(docs.missing).toBe(0);
    expect(docs.wrong).toBe(0);
    expect(docs.stored).toBeLessThan(docs.read);
  });

  it('flags a ×100 jump against the previous observation', async () => {
    const domain = pinned.get('jumps')!;
    const rows = await read<{ users_total: number; suspect: boolean; crawl_day: string }>(
      `SELECT users_total, suspect, crawl_day::VARCHAR AS crawl_day FROM peer_obs WHERE domain = $1 ORDER BY crawl_day`,
      [domain]
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1].users_total;
      const b = rows[i].users_total;
      const jumped = Math.max(a, b) >= 100 && (b >= a * 100 || a >= b * 100);
      expect(rows[i].suspect).toBe(jumped);
    }
  });
});
