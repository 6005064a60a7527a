import type { SimClock } from '../clock.ts';
import { sendJson, type HostHandler } from '../http.ts';
import type { PeerCatalog } from '../peers/index.ts';

export interface OwnServerOptions {
  seed: number;
  domain: string;
  clock: SimClock;
  peers: PeerCatalog;
}

export interface OwnServer {
  domain: string;
  handle: HostHandler;
  /** Tokens the simulated server accepts: admin (admin:read), user (read only), revoked. */
  tokens: { admin: string; user: string; revoked: string };
}

export function createOwnServer(o: OwnServerOptions): OwnServer {
  const start = Date.parse('2023-11-01T00:00:00Z');
  const members = () => Math.round(1200 + ((o.clock.now().getTime() - start) / 86_400_000) * 1.6);
  return {
    domain: o.domain,
    tokens: { admin: 'sim-admin-token', user: 'sim-user-token', revoked: 'sim-revoked-token' },
    handle: (req, res) => {
      if (req.url.pathname === '/api/v1/instance') {
        return sendJson(res, 200, {
          uri: o.domain,
          title: 'Co-op Social',
          version: '4.3.2',
          stats: {
            user_count: members(),
            status_count: members() * 120,
            domain_count: o.peers.peers().length
          }
        });
      }
      if (req.url.pathname === '/api/v1/instance/peers')
        return sendJson(res, 200, o.peers.peersListEntries());
      sendJson(res, 404, { error: 'Record not found' });
    }
  };
}
