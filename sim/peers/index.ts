import type { SecureContext } from 'node:tls';
import type { SimClock } from '../clock.ts';
import { sendJson, type HostHandler } from '../http.ts';
import { rngFor } from '../random.ts';
import type { Ca } from '../tls.ts';

export interface PeerCatalogOptions {
  seed: number;
  count: number;
  ownDomain: string;
  clock: SimClock;
  failureRate: number;
  ca: Ca;
}

/** What the own server needs to know of a peer (its follows, reports and blocks refer to peers). */
export interface SimPeer {
  domain: string;
  software: string;
  usersTotal: number;
}

export interface PeerCatalog {
  /** DNS zones the peers live in; each gets a wildcard certificate. */
  zones: string[];
  /** The own server's /api/v1/instance/peers body: real peers plus the junk real lists carry. */
  peersListEntries(): string[];
  peers(): SimPeer[];
  get(domain: string): SimPeer | undefined;
  handler(host: string): HostHandler | undefined;
  certOverride?: (servername: string) => Promise<SecureContext | null> | SecureContext | null;
}

export function createPeerCatalog(o: PeerCatalogOptions): PeerCatalog {
  const zones = ['social.example'];
  const list: SimPeer[] = [];
  for (let i = 0; i < o.count; i++) {
    const domain = `peer${i}.social.example`;
    const r = rngFor(o.seed, domain);
    list.push({ domain, software: 'mastodon', usersTotal: Math.round(10 + r() * 1000) });
  }
  const byDomain = new Map(list.map((p) => [p.domain, p]));
  return {
    zones,
    peersListEntries: () => list.map((p) => p.domain),
    peers: () => list,
    get: (d) => byDomain.get(d),
    handler: (host) => {
      const peer = byDomain.get(host);
      if (!peer) return undefined;
      return (req, res) => {
        if (req.url.pathname === '/.well-known/nodeinfo') {
          return sendJson(res, 200, {
            links: [
              { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `https://${host}/nodeinfo/2.0` }
            ]
          });
        }
        if (req.url.pathname === '/nodeinfo/2.0') {
          return sendJson(res, 200, {
            version: '2.0',
            software: { name: 'mastodon', version: '4.3.0' },
            protocols: ['activitypub'],
            services: { outbound: [], inbound: [] },
            usage: {
              users: { total: peer.usersTotal, activeMonth: Math.round(peer.usersTotal / 4) },
              localPosts: 100
            },
            openRegistrations: true,
            metadata: {}
          });
        }
        sendJson(res, 404, { error: 'Record not found' });
      };
    }
  };
}
