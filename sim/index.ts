import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { SimClock } from './clock.ts';
import { sendJson, type HostHandler, type SimRequest } from './http.ts';
import { createOwnServer, type OwnServer, type OwnServerOptions } from './own-server/index.ts';
import { createOAuthProvider, DEFAULT_ACCOUNTS, type OAuthProvider } from './oauth/index.ts';
import { createPeerCatalog, type PeerCatalog } from './peers/index.ts';
import { logNormal, rng } from './random.ts';
import { CertStore, createCa, type Ca } from './tls.ts';

export interface SimOptions {
  seed?: number;
  /** Number of peer servers (default 5,000; up to 100,000). */
  peers?: number;
  /** The own server's domain. */
  ownDomain?: string;
  /** Where the simulated clock starts (default: now). */
  start?: Date;
  /** Added latency per peer request: median and log-normal sigma; 0 = none. */
  latencyMedianMs?: number;
  latencySigma?: number;
  /** Options of the simulated own server (version, hidden APIs, rate limits...). */
  own?: Omit<Partial<OwnServerOptions>, 'seed' | 'domain' | 'clock' | 'peers'>;
  /** Fixed latency added to every own-server request (tests use it to catch a collection mid-run). */
  ownLatencyMs?: number;
  /** Share of peers that fail in one of the ways real servers fail (default 0.15). */
  failureRate?: number;
  /** Directory for the CA certificate (default: a fresh temp dir). */
  dir?: string;
  host?: string;
  /** Port for TLS (all hosts by SNI/Host) and for plain HTTP (own server); 0 = any free port. */
  httpsPort?: number;
  httpPort?: number;
}

export interface Sim {
  clock: SimClock;
  ca: Ca;
  own: OwnServer;
  /** The own server's OAuth provider (sign-in for the dashboard): apps, authorize page, tokens. */
  oauth: OAuthProvider;
  peers: PeerCatalog;
  httpsPort: number;
  httpPort: number;
  host: string;
  /** The own server's base URL as a user would configure it. */
  ownUrl: string;
  /** Connect-to rules (curl syntax) that route every simulated host to this process. */
  connectTo: string[];
  /** Environment for a collector pointed at the simulation. */
  env(extra?: Record<string, string>): Record<string, string>;
  stats: { requests: number };
  stop(): Promise<void>;
}

const DEFAULT_OWN = 'social.coop.example';

function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const seed = opts.seed ?? 42;
  const host = opts.host ?? '127.0.0.1';
  const ownDomain = opts.ownDomain ?? DEFAULT_OWN;
  const clock = new SimClock(opts.start);
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'fedipulse-sim-'));
  const ca = await createCa(dir);
  const certs = new CertStore(ca);
  const peers = createPeerCatalog({
    seed,
    count: opts.peers ?? 5000,
    ownDomain,
    clock,
    failureRate: opts.failureRate ?? 0.15,
    ca
  });
  const own = createOwnServer({ seed, domain: ownDomain, clock, peers, ...opts.own });
  const oauth = createOAuthProvider({
    domain: ownDomain,
    now: () => clock.now(),
    // The own server's fixed tokens name an account too (the admin token is the Owner's).
    staticTokens: { [own.tokens.admin]: DEFAULT_ACCOUNTS[0].id, [own.tokens.user]: DEFAULT_ACCOUNTS[3].id }
  });
  await certs.addZones([...new Set([...peers.zones, ownDomain.slice(ownDomain.indexOf('.') + 1)])]);
  if (peers.certOverride) certs.override = peers.certOverride;

  const latencyRng = rng(seed ^ 0x5eed);
  const median = opts.latencyMedianMs ?? 0;
  const sigma = opts.latencySigma ?? 0.6;
  const stats = { requests: 0 };

  const route = (hostName: string): HostHandler | undefined => {
    if (hostName === ownDomain) return own.handle;
    return peers.handler(hostName);
  };

  const dispatch = (secure: boolean) => async (raw: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const hostHeader = String(raw.headers.host ?? '').toLowerCase();
    // Plain HTTP on an IP address is the own server reached as http://127.0.0.1:PORT.
    const hostName = hostHeader.replace(/:\d+$/, '');
    const handler = !secure && /^[\d.]+$|^\[/.test(hostName) ? own.handle : route(hostName);
    try {
      const body = raw.method === 'GET' || raw.method === 'HEAD' ? Buffer.alloc(0) : await readBody(raw);
      const req: SimRequest = {
        raw,
        method: raw.method ?? 'GET',
        host: hostName,
        url: new URL(raw.url ?? '/', `${secure ? 'https' : 'http'}://${hostHeader || 'localhost'}`),
        headers: raw.headers,
        body,
        secure
      };
      if (!handler) return sendJson(res, 421, { error: `no simulated host ${hostName}` });
      const delay =
        handler === own.handle
          ? (opts.ownLatencyMs ?? 0)
          : median > 0
            ? logNormal(latencyRng, median, sigma)
            : 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      // Sign-in (OAuth, app registration, verify_credentials) on the own server goes to its provider.
      if (handler === own.handle && oauth.handles(req)) await oauth.handle(req, res);
      else await handler(req, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String((err as Error).message) });
      else res.destroy();
    }
  };

  const tlsServer = https.createServer(
    {
      SNICallback: (servername, cb) => {
        certs.contextFor(servername).then(
          (ctx) => cb(null, ctx),
          (err: Error) => cb(err)
        );
      },
      keepAliveTimeout: 5000
    },
    dispatch(true)
  );
  const plainServer = http.createServer({ keepAliveTimeout: 5000 }, dispatch(false));
  tlsServer.maxConnections = 4096;
  await new Promise<void>((r) => tlsServer.listen(opts.httpsPort ?? 0, host, r));
  await new Promise<void>((r) => plainServer.listen(opts.httpPort ?? 0, host, r));
  const httpsPort = (tlsServer.address() as AddressInfo).port;
  const httpPort = (plainServer.address() as AddressInfo).port;
  const connectTo = [`::${host}:${httpsPort}`];
  const ownUrl = `https://${ownDomain}`;

  return {
    clock,
    ca,
    own,
    oauth,
    peers,
    httpsPort,
    httpPort,
    host,
    ownUrl,
    connectTo,
    stats,
    env: (extra = {}) => ({
      FEDIPULSE_INSTANCE_URL: ownUrl,
      FEDIPULSE_CONNECT_TO: connectTo.join(' '),
      NODE_EXTRA_CA_CERTS: ca.certPath,
      FEDIPULSE_CONTACT: 'https://fedipulse.example/contact',
      ...extra
    }),
    stop: async () => {
      tlsServer.closeAllConnections();
      plainServer.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => tlsServer.close(() => r())),
        new Promise<void>((r) => plainServer.close(() => r()))
      ]);
    }
  };
}
