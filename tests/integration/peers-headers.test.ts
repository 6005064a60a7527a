import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { userAgent, VERSION } from '../../collectors/context.ts';
import { createDispatcher, type ScopedAgent } from '../../collectors/net/dispatcher.ts';
import { HostGate } from '../../collectors/net/gate.ts';
import { peerCrawlConfig } from '../../collectors/peers/config.ts';
import { crawlHost } from '../../collectors/peers/crawl.ts';
import { createCa, issue } from '../../sim/tls.ts';
import { parseConnectTo } from '../../src/lib/server/config.ts';
import { tempDir } from '../helpers/index.ts';

const HOST = 'headers.example';
const CONTACT = 'mailto:ops@coop.example';
const seen: { path: string; headers: Record<string, string | string[] | undefined> }[] = [];
let server: https.Server;
let dispatcher: ScopedAgent;

const NODEINFO = {
  version: '2.0',
  software: { name: 'mastodon', version: '4.3.0' },
  protocols: ['activitypub'],
  usage: { users: { total: 10, activeMonth: 5 }, localPosts: 100 },
  openRegistrations: false,
  metadata: {}
};

beforeAll(async () => {
  const ca = await createCa(tempDir());
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), ca.cert]);
  const leaf = await issue(ca, [HOST]);
  // A bare peer that records what arrives on the wire: one host, real TLS, the crawler's own dispatcher.
  server = https.createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/nodeinfo')
      return json(200, {
        links: [
          { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `https://${HOST}/nodeinfo/2.0` }
        ]
      });
    if (req.url === '/nodeinfo/2.0') return json(200, NODEINFO);
    if (req.url === '/api/v2/instance') return json(200, { domain: HOST, title: 'H', version: '4.3.0' });
    if (req.url === '/api/v1/instance/domain_blocks') return json(200, []);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  dispatcher = createDispatcher({
    connectTo: [parseConnectTo(`${HOST}:443:127.0.0.1:${port}`)],
    allowPrivate: false,
    connections: 1
  });
});
afterAll(async () => {
  await dispatcher?.close();
  await new Promise((r) => server?.close(r));
});

it('every request reaches the peer with the fedipulse User-Agent and Accept: application/json', async () => {
  const cfg = { ...peerCrawlConfig({}), minIntervalMs: 0, maxCrawlDelayMs: 0, timeoutMs: 5000 };
  const obs = await crawlHost(
    { domain: HOST, failures: 0, lastUsersTotal: null, inPeersList: true },
    {
      dispatcher,
      hostDispatcher: () => dispatcher.scope(),
      userAgent: userAgent(CONTACT),
      gate: new HostGate(0),
      cfg,
      ownDomain: 'coop.example',
      crawlDay: '2026-11-26',
      now: () => new Date(),
      isOptedOut: () => false
    }
  );
  expect(obs.outcome).toBe('ok');
  expect(seen.map((s) => s.path)).toEqual([
    '/robots.txt',
    '/.well-known/nodeinfo',
    '/nodeinfo/2.0',
    '/api/v2/instance',
    '/api/v1/instance/domain_blocks'
  ]);
  for (const s of seen) {
    expect(s.headers['user-agent']).toBe(`fedipulse/${VERSION} (+${CONTACT})`);
    expect(s.headers.accept).toBe('application/json');
  }
  expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
});
