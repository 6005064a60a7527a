import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportParquet, readSql } from '../../collectors/export/parquet.ts';
import { createDispatcher } from '../../collectors/net/dispatcher.ts';
import { silentProgress } from '../../collectors/progress.ts';
import { runCollection, type RunSummary } from '../../collectors/run.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import { MAX_QUIRK_CHARS, MAX_QUIRKS } from '../../collectors/store/peers.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { loadConfig, parseConnectTo } from '../../src/lib/server/config.ts';
import type { Sim } from '../../sim/index.ts';
import { gzipBomb, HUGE_STRING_CHARS } from '../../sim/peers/failures.ts';
import type { Behaviour } from '../../sim/peers/index.ts';
import { startTrustedSim, tempDir } from '../helpers/index.ts';

/**
 * Issue 14 against the simulated fediverse: hostile peers (nesting 200,000 levels deep, a lone surrogate,
 * bloating strings, NodeInfo links to another host or port) and a Pleroma server that publishes its whole
 * MRF block list, our own domain among others. The truth is the simulator's model of what each peer serves.
 */
const HOSTILE: Behaviour[] = [
  'deep_links',
  'deep_metadata',
  'lone_surrogate',
  'huge_strings',
  'nodeinfo_other_host',
  'nodeinfo_other_port'
];

const FAST = {
  FEDIPULSE_PEER_TIMEOUT_MS: '2500',
  FEDIPULSE_PEER_MIN_INTERVAL_MS: '0',
  FEDIPULSE_PEER_MAX_CRAWL_DELAY_MS: '0',
  FEDIPULSE_PEER_CONCURRENCY: '32'
};

interface Obs {
  domain: string;
  outcome: string;
  error: string | null;
  quirks: string | null;
  node_name: string | null;
  software: string | null;
}

describe('hostile and private peers in a crawl (issue 14)', () => {
  let sim: Sim;
  let dbPath: string;
  let summary: RunSummary;
  let listed: Set<string>;
  const pinned = new Map<Behaviour, string>();
  const read = async <T>(sql: string, params: (string | number)[] = []): Promise<T[]> => {
    const db = await openReadOnly(dbPath);
    try {
      return await db.all<T>(sql, params);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 300, seed: 14 });
    // The simulator builds its 512 MB gzip bomb on first use; build it now, not inside a crawl deadline.
    await gzipBomb();
    dbPath = path.join(tempDir(), 'peers.duckdb');
    const own = createDispatcher({ connectTo: sim.connectTo.map(parseConnectTo), allowPrivate: true });
    const res = await request(`${sim.ownUrl}/api/v1/instance/peers`, { dispatcher: own });
    listed = new Set((await res.body.json()) as string[]);
    await own.close();
    const healthy = sim.peers
      .peers()
      .filter((p) => p.behaviour === 'ok' && p.alive && p.software === 'mastodon' && listed.has(p.domain))
      .map((p) => p.domain);
    const limiting = new Set(sim.peers.limitingOwn().map((l) => l.peer));
    const free = healthy.filter((d) => !limiting.has(d));
    HOSTILE.forEach((b, i) => {
      sim.peers.pin(free[i], b);
      pinned.set(b, free[i]);
    });
    Object.assign(process.env, FAST);
    const config = loadConfig(sim.env({ FEDIPULSE_DB: dbPath }));
    summary = await runCollection('peers', { config, progress: silentProgress, now: () => sim.clock.now() });
  });
  afterAll(async () => {
    for (const k of Object.keys(FAST)) delete process.env[k];
    await sim?.stop();
  });

  it('finishes the crawl with every listed peer recorded; the deeply nested ones are invalid', async () => {
    expect(summary.status).toBe('ok');
    const rows = await read<Obs>('SELECT domain, outcome, error FROM peer_observations');
    const seen = new Map(rows.map((r) => [r.domain, r]));
    const peers = sim.peers.peers().filter((p) => listed.has(p.domain));
    expect(peers.length).toBeGreaterThan(250);
    const missing = peers.filter((p) => !seen.has(p.domain)).map((p) => p.domain);
    expect(missing).toEqual([]);
    for (const b of ['deep_links', 'deep_metadata'] as const) {
      const r = seen.get(pinned.get(b)!)!;
      expect(r.outcome, b).toBe('invalid');
      expect(r.error, b).toMatch(/nested deeper than 64 levels/);
    }
    // Every other host ends as the simulator says it should.
    const wrong = peers
      .map((p) => ({ p, e: sim.peers.expected(p.domain)!, got: seen.get(p.domain)! }))
      .filter(
        ({ e, got }) =>
          got.outcome !== e.outcome &&
          !(got.outcome === 'robots_disallowed' && e.actual.software === 'gotosocial')
      )
      .map(
        ({ p, e, got }) => `${p.domain} ${e.behaviour}: want ${e.outcome}, got ${got.outcome} (${got.error})`
      );
    expect(wrong).toEqual([]);
  });

  it('refuses a NodeInfo link to another host or another port, and never fetches it', async () => {
    for (const [b, why] of [
      ['nodeinfo_other_host', /another host/],
      ['nodeinfo_other_port', /non-default port \(8443\)/]
    ] as const) {
      const [r] = await read<Obs>('SELECT outcome, error FROM peer_observations WHERE domain = $1', [
        pinned.get(b)!
      ]);
      expect(r.outcome, b).toBe('redirect_refused');
      expect(r.error, b).toMatch(why);
    }
    expect(sim.peers.lured()).toEqual([]);
  });

  it('stores capped values for a peer that serves huge strings', async () => {
    const [r] = await read<Obs & { raw: string }>(
      `SELECT o.outcome, o.quirks, o.node_name, r.raw::VARCHAR AS raw
       FROM peer_obs o JOIN peer_obs_raw r USING (run_id, domain) WHERE o.domain = $1`,
      [pinned.get('huge_strings')!]
    );
    expect(r.outcome).toBe('ok');
    const quirks = r.quirks!.split('; ');
    expect(quirks.length).toBeLessThanOrEqual(MAX_QUIRKS + 1);
    for (const q of quirks) expect(q.length).toBeLessThanOrEqual(MAX_QUIRK_CHARS);
    expect(quirks.some((q) => q.startsWith('openRegistrations is "open open'))).toBe(true);
    expect(r.node_name!.length).toBeLessThanOrEqual(200);
    // The stored document keeps the name cut, not the 300,000 characters served.
    expect(r.raw.length).toBeLessThan(HUGE_STRING_CHARS / 10);
  });

  it('stores a document with a lone surrogate (it used to fail the whole batch)', async () => {
    const [r] = await read<Obs & { raw: string }>(
      `SELECT o.outcome, o.node_name, r.raw::VARCHAR AS raw
       FROM peer_obs o JOIN peer_obs_raw r USING (run_id, domain) WHERE o.domain = $1`,
      [pinned.get('lone_surrogate')!]
    );
    expect(r.outcome).toBe('ok');
    expect((JSON.parse(r.raw) as { metadata: { nodeName: string } }).metadata.nodeName).toMatch(/\ufffd$/);
  });

  it('records that a Pleroma server limits us, and none of the other domains of its lists, in any table or the Parquet export', async () => {
    const mrf = sim.peers
      .limitingOwn()
      .filter((l) => ['pleroma', 'akkoma'].includes(sim.peers.get(l.peer)!.software) && listed.has(l.peer));
    expect(mrf.length).toBeGreaterThan(0);
    const peer = mrf[0].peer;
    const rows = await read<{ peer_domain: string; severity: string; matched_by: string }>(
      'SELECT peer_domain, severity, matched_by FROM peers_limiting_us WHERE peer_domain = $1',
      [peer]
    );
    expect(rows).toEqual([{ peer_domain: peer, severity: mrf[0].severity, matched_by: 'domain' }]);

    // What the peer served: every domain of its MRF lists and quarantine (the simulator's documents).
    const served = new Set<string>();
    for (const d of sim.peers.nodeinfoDocuments(peer)) {
      const fed = (d.body as { metadata: { federation: Record<string, unknown> } }).metadata.federation;
      const simple = fed.mrf_simple as Record<string, string[]>;
      for (const list of Object.values(simple)) list.forEach((x) => served.add(x));
      (fed.quarantined_instances as string[]).forEach((x) => served.add(x));
    }
    const own = new URL(sim.ownUrl).hostname;
    expect(served.has(own)).toBe(true);
    // Third parties: not us, not the flood pattern, not a server we know from our own peers list.
    const known = (d: string) => [...listed].some((l) => l === d || l.endsWith(`.${d}`));
    const third = [...served].filter((d) => d !== own && !d.startsWith('*.') && !known(d));
    expect(third.length).toBeGreaterThan(0);

    const found: string[] = [];
    const db = await openReadOnly(dbPath);
    try {
      const tables = await db.all<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'`
      );
      expect(tables.map((t) => t.t)).toContain('peer_raw_docs');
      for (const { t } of tables)
        for (const d of third) {
          const [n] = await db.all<{ n: number }>(
            `SELECT count(*) AS n FROM "${t}" x WHERE contains(lower(CAST(x AS VARCHAR)), $1)`,
            [d]
          );
          if (n.n > 0) found.push(`${t}: ${d}`);
        }
      // The peer's document is stored, redacted: the policy names, not the domains.
      const [doc] = await db.all<{ raw: string }>(
        'SELECT raw::VARCHAR AS raw FROM peer_obs_raw WHERE domain = $1',
        [peer]
      );
      expect(doc.raw).toContain('"mrf_policies"');
      expect(doc.raw).not.toContain('mrf_simple');
      expect(doc.raw).not.toContain(own);
    } finally {
      db.close();
    }

    const snapshot = latestSnapshot(dbPath);
    expect(snapshot).not.toBeNull();
    const out = path.join(tempDir(), 'export');
    const manifest = await exportParquet(snapshot!, out);
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      for (const { table, rows: n } of manifest.tables) {
        if (n === 0) continue;
        for (const d of third) {
          const r = await conn.runAndReadAll(
            `SELECT count(*) AS n FROM (${readSql(out, table)}) x WHERE contains(lower(CAST(x AS VARCHAR)), $1)`,
            [d]
          );
          if (Number(r.getRowObjectsJS()[0].n) > 0) found.push(`parquet ${table}: ${d}`);
        }
      }
      expect(manifest.tables.some((t) => t.table === 'peer_raw_docs' && t.rows > 0)).toBe(true);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    expect(found).toEqual([]);
  });
});
