import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { request, type Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../collectors/net/dispatcher.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { FLOOD_ZONE, sha256, type Behaviour } from '../../sim/peers/index.ts';
import { parseConnectTo } from '../../src/lib/server/config.ts';

let sim: Sim;
let agent: Agent;

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
type Failed = { error: string; code?: string };

/** One GET the way the crawler makes it; reads at most `limit` bytes, gives up after `ms`. */
async function get(
  url: string,
  o: { limit?: number; ms?: number; accept?: string } = {}
): Promise<Got | Failed> {
  try {
    const r = await request(url, {
      dispatcher: agent,
      headers: {
        accept: o.accept ?? 'application/json',
        'user-agent': 'fedipulse/0.1 (+https://fedipulse.example/contact)'
      },
      signal: AbortSignal.timeout(o.ms ?? 5000)
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of r.body) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (size > (o.limit ?? 1 << 20)) {
        r.body.destroy();
        break;
      }
    }
    return { status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { error: err.message, code: typeof err.code === 'string' ? err.code : err.name };
  }
}
const ok = (r: Got | Failed): Got => {
  if ('error' in r) throw new Error(`request failed: ${r.error}`);
  return r;
};
const host = (b: Behaviour) => {
  const h = sim.peers.byBehaviour(b);
  if (!h) throw new Error(`no peer with ${b}`);
  return h;
};

beforeAll(async () => {
  sim = await startSim({ seed: 42, peers: 2000, failureRate: 0.15, start: new Date('2026-03-01T12:00:00Z') });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  agent = createDispatcher({
    connectTo: sim.connectTo.map(parseConnectTo),
    allowPrivate: false,
    headersTimeoutMs: 1500,
    bodyTimeoutMs: 1500
  });
});
afterAll(async () => {
  await agent?.close();
  await sim?.stop();
});

describe('simulated peers on the wire', () => {
  it('a healthy Mastodon peer serves discovery, NodeInfo and its instance APIs', async () => {
    const h = host('ok');
    const expected = sim.peers.expected(h)!;
    const wk = JSON.parse(ok(await get(`https://${h}/.well-known/nodeinfo`)).body.toString());
    const link = wk.links.find((l: { rel: string }) => l.rel.endsWith('/schema/2.0'));
    const doc = JSON.parse(ok(await get(link.href)).body.toString());
    expect(doc.software).toEqual({ name: expected.software, version: expected.version });
    expect(doc.usage.users.total).toBe(expected.usersTotal);
    const v1 = JSON.parse(ok(await get(`https://${h}/api/v1/instance`)).body.toString());
    expect(v1.uri).toBe(h);
    expect(v1.stats.user_count).toBe(expected.usersTotal);
    const robots = ok(await get(`https://${h}/robots.txt`)).body.toString();
    expect(robots).toContain('Disallow: /media_proxy/');
  });

  it('refused hosts drop the connection before TLS completes', async () => {
    const r = await get(`https://${host('refused')}/.well-known/nodeinfo`);
    expect(r).toMatchObject({ code: 'ECONNRESET' });
  });

  it('bad certificates fail verification', async () => {
    expect(await get(`https://${host('tls_self_signed')}/.well-known/nodeinfo`)).toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED/)
    });
    expect(await get(`https://${host('tls_expired')}/.well-known/nodeinfo`)).toMatchObject({
      code: 'CERT_HAS_EXPIRED'
    });
    expect(await get(`https://${host('tls_wrong_host')}/.well-known/nodeinfo`)).toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID'
    });
  });

  it('timeouts: no headers at all, headers too late, a body that drips', async () => {
    expect(await get(`https://${host('timeout')}/.well-known/nodeinfo`)).toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT'
    });
    expect(await get(`https://${host('slow_headers')}/.well-known/nodeinfo`)).toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT'
    });
    // Each byte comes before the idle timeout; only an overall deadline stops it.
    expect(await get(`https://${host('slow_drip')}/.well-known/nodeinfo`, { ms: 2500 })).toMatchObject({
      code: 'TimeoutError'
    });
  });

  it('HTTP failures: HTML with 200, challenge, 410 Gone, 429 with Retry-After, 5xx', async () => {
    const login = ok(await get(`https://${host('html_login')}/.well-known/nodeinfo`));
    expect(login.status).toBe(200);
    expect(login.headers['content-type']).toMatch(/text\/html/);
    const challenge = ok(await get(`https://${host('html_challenge')}/.well-known/nodeinfo`));
    expect(challenge.body.toString()).toContain('Just a moment...');
    expect(ok(await get(`https://${host('gone')}/.well-known/nodeinfo`)).status).toBe(410);
    const limited = ok(await get(`https://${host('rate_limited')}/.well-known/nodeinfo`));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    for (const [b, s] of [
      ['http_401', 401],
      ['http_403', 403],
      ['http_404', 404],
      ['http_500', 500],
      ['http_503', 503]
    ] as const) {
      expect(ok(await get(`https://${host(b)}/.well-known/nodeinfo`)).status, b).toBe(s);
    }
  });

  it('discovery redirects: same host, another peer, a loop, loopback, an IP literal, plain http', async () => {
    const loc = async (b: Behaviour, url?: string) => {
      const r = ok(await get(url ?? `https://${host(b)}/.well-known/nodeinfo`));
      expect(r.status, b).toBeGreaterThanOrEqual(301);
      expect(r.status, b).toBeLessThanOrEqual(308);
      return String(r.headers.location);
    };
    const same = host('redirect_same_host');
    const to = await loc('redirect_same_host');
    expect(new URL(to).host).toBe(same);
    expect(ok(await get(to)).status).toBe(200);
    const cross = new URL(await loc('redirect_cross_host'));
    expect(cross.host).not.toBe(host('redirect_cross_host'));
    expect(sim.peers.get(cross.host)).toBeDefined();
    const first = await loc('redirect_loop');
    const second = await loc('redirect_loop', first);
    expect(await loc('redirect_loop', second)).toBe(first);
    expect(new URL(await loc('redirect_loopback')).hostname).toBe('127.0.0.1');
    expect(new URL(await loc('redirect_ip_literal')).hostname).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(new URL(await loc('redirect_http')).protocol).toBe('http:');
    // And a client that follows the loopback redirect is refused by the dispatcher.
    expect(await get('https://127.0.0.1/.well-known/nodeinfo')).toMatchObject({ code: 'E_REFUSED_ADDRESS' });
  });

  it('documents that are too large, a gzip bomb, not JSON, not NodeInfo', async () => {
    const docUrl = async (b: Behaviour) => {
      const wk = JSON.parse(ok(await get(`https://${host(b)}/.well-known/nodeinfo`)).body.toString());
      return wk.links[0].href as string;
    };
    const big = ok(await get(await docUrl('oversized'), { limit: 4 << 20 }));
    expect(big.status).toBe(200);
    expect(big.body.length).toBeGreaterThan(4 << 20);
    const bomb = ok(await get(await docUrl('gzip_bomb'), { limit: 4 << 20 }));
    expect(bomb.headers['content-encoding']).toBe('gzip');
    expect(bomb.body.length).toBeLessThan(2 << 20);
    expect(() => gunzipSync(bomb.body, { maxOutputLength: 64 << 20 })).toThrow(RangeError);
    const notJson = ok(await get(await docUrl('not_json')));
    expect(notJson.headers['content-type']).toMatch(/application\/json/);
    expect(() => JSON.parse(notJson.body.toString())).toThrow();
    const actor = JSON.parse(ok(await get(await docUrl('invalid_document'))).body.toString());
    expect(actor.software).toBeUndefined();
  });

  it('robots.txt: disallow all, disallow fedipulse, GoToSocial keeping crawlers off its stats', async () => {
    expect(ok(await get(`https://${host('robots_disallow_all')}/robots.txt`)).body.toString()).toMatch(
      /User-agent: \*\nDisallow: \/\n/
    );
    expect(ok(await get(`https://${host('robots_disallow_fedipulse')}/robots.txt`)).body.toString()).toMatch(
      /User-agent: fedipulse\nDisallow: \/\n/
    );
    const gts = sim.peers.find(
      (p) =>
        p.software === 'gotosocial' &&
        p.behaviour === 'ok' &&
        sim.peers.expected(p.domain)?.outcome === 'robots_disallowed'
    )!;
    expect(ok(await get(`https://${gts.domain}/robots.txt`)).body.toString()).toContain(
      'Disallow: /nodeinfo/'
    );
    expect(ok(await get(`https://${gts.domain}/api/v1/instance/peers`)).status).toBe(401);
    expect(ok(await get(`https://${gts.domain}/.well-known/nodeinfo`, { accept: 'text/html' })).status).toBe(
      406
    );
  });

  it('public domain blocks name the own server by name or by digest', async () => {
    // Pleroma/Akkoma limit us in their NodeInfo MRF lists instead (next test).
    const limits = sim.peers.limitingOwn().filter((l) => sim.peers.domainBlocks(l.peer) !== null);
    const digest = sha256('social.coop.example');
    expect(limits.length).toBeGreaterThanOrEqual(3);
    for (const l of limits.slice(0, 3)) {
      const list = JSON.parse(
        ok(await get(`https://${l.peer}/api/v1/instance/domain_blocks`)).body.toString()
      );
      const entry = list.find((e: { digest: string }) => e.digest === digest);
      expect(entry.severity).toBe(l.severity);
      if (l.matchedBy === 'domain') expect(entry.domain).toBe('social.coop.example');
      else expect(entry.domain).toContain('*');
    }
  });

  it('a Pleroma/Akkoma peer names the own server in the MRF lists of its NodeInfo, among others', async () => {
    const mrf = sim.peers
      .limitingOwn()
      .filter((l) => ['pleroma', 'akkoma'].includes(sim.peers.get(l.peer)!.software));
    expect(mrf.length).toBeGreaterThan(0);
    const l = mrf[0];
    const discovery = JSON.parse(ok(await get(`https://${l.peer}/.well-known/nodeinfo`)).body.toString()) as {
      links: { href: string }[];
    };
    const doc = JSON.parse(ok(await get(discovery.links[0].href)).body.toString());
    const fed = doc.metadata.federation;
    const key = l.severity === 'suspend' ? 'reject' : 'federated_timeline_removal';
    expect(fed.mrf_simple[key]).toContain('social.coop.example');
    expect(fed.mrf_simple.reject.length + fed.quarantined_instances.length).toBeGreaterThan(1);
    if (l.comment) expect(fed.mrf_simple_info[key]['social.coop.example'].reason).toBe(l.comment);
  });

  it('IDN peers answer under their punycode name; the flood zone answers any name', async () => {
    const idn = sim.peers.junk().find((j) => j.kind === 'unicode_idn')!;
    expect(ok(await get(`https://${idn.normalizesTo}/.well-known/nodeinfo`)).status).toBe(200);
    expect(ok(await get(`https://spam4711.${FLOOD_ZONE}/nodeinfo/2.0`)).status).toBe(200);
  });

  it('Pleroma and Sharkey dress up as Mastodon in /api/v1/instance', async () => {
    const pleroma = sim.peers.find((p) => p.software === 'pleroma' && p.behaviour === 'ok')!;
    const v1 = JSON.parse(ok(await get(`https://${pleroma.domain}/api/v1/instance`)).body.toString());
    expect(v1.version).toMatch(/^2\.7\.2 \(compatible; Pleroma /);
    const sharkey = sim.peers.find((p) => p.software === 'sharkey' && p.behaviour === 'ok')!;
    const fake = JSON.parse(ok(await get(`https://${sharkey.domain}/api/v1/instance`)).body.toString());
    expect(fake.stats.user_count).toBeGreaterThan(sim.peers.get(sharkey.domain)!.usersTotal);
  });
});
