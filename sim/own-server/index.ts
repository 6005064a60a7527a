/**
 * The co-op's own Mastodon server, simulated: three years of members, posts, reports and domain blocks
 * generated from the seed, served "as of" the sim clock through the public and admin APIs with
 * Mastodon's shapes, auth errors, rate limits and the degradations real servers show.
 */
import type { SimClock } from '../clock.ts';
import { sendJson, type HostHandler, type SimRequest } from '../http.ts';
import type { PeerCatalog } from '../peers/index.ts';
import * as admin from './admin.ts';
import { DEFAULT_SETTINGS, send, type Ctx, type OwnServerSettings, type Viewer } from './context.ts';
import { dimensions, measures, retention } from './dashboard.ts';
import * as pub from './public.ts';
import { RateLimiter, rateLimitHeaders, type RateLimitOptions } from './ratelimit.ts';
import { stackAt } from './versions.ts';
import { worldKeeper, type World } from './world.ts';

export type { OwnServerSettings } from './context.ts';
export type { RateLimitOptions } from './ratelimit.ts';

export interface OwnServerOptions extends Partial<OwnServerSettings> {
  seed: number;
  domain: string;
  clock: SimClock;
  /** Only the peer list is read: the catalog's own interface may grow freely. */
  peers: Pick<PeerCatalog, 'peers' | 'peersListEntries'>;
  /** Mastodon's API throttles (default on, Mastodon's numbers); false turns them off. */
  rateLimit?: RateLimitOptions | false;
  tokens?: Partial<OwnServer['tokens']>;
}

export interface OwnServer {
  domain: string;
  handle: HostHandler;
  /** Tokens the simulated server accepts: admin (admin:read), user (read only), revoked. */
  tokens: { admin: string; user: string; revoked: string };
  /** Admin settings, read on every request: tests flip them to see a server change its mind. */
  settings: OwnServerSettings;
  /** Every /api request gets 429 for the next `ms` of wall time. */
  storm(ms: number): void;
  /** The generated history as of now (for tests and benchmarks that check consistency). */
  world(): World;
}

type Route = (c: Ctx, m: RegExpExecArray) => void;
const ADMIN = true;

/** [method, path pattern, needs admin, handler] */
const ROUTES: [string, RegExp, boolean, Route][] = [
  ['GET', /^\/api\/v1\/instance\/?$/, false, (c) => pub.instanceV1(c)],
  ['GET', /^\/api\/v2\/instance\/?$/, false, (c) => pub.instanceV2(c)],
  ['GET', /^\/api\/v1\/instance\/activity$/, false, (c) => pub.activity(c)],
  ['GET', /^\/api\/v1\/instance\/peers$/, false, (c) => pub.peers(c)],
  ['GET', /^\/api\/v1\/instance\/rules$/, false, (c) => pub.rules(c)],
  ['GET', /^\/api\/v1\/instance\/domain_blocks$/, false, (c) => pub.domainBlocks(c)],
  ['GET', /^\/\.well-known\/nodeinfo$/, false, (c) => pub.nodeinfoDiscovery(c)],
  ['GET', /^\/nodeinfo\/2\.0(\.json)?$/, false, (c) => pub.nodeinfo(c)],
  ['POST', /^\/api\/v1\/admin\/measures$/, ADMIN, (c) => measures(c)],
  ['POST', /^\/api\/v1\/admin\/dimensions$/, ADMIN, (c) => dimensions(c)],
  ['POST', /^\/api\/v1\/admin\/retention$/, ADMIN, (c) => retention(c)],
  ['GET', /^\/api\/v1\/admin\/reports$/, ADMIN, (c) => admin.reports(c)],
  ['GET', /^\/api\/v1\/admin\/reports\/(\d+)$/, ADMIN, (c, m) => admin.report(c, m[1])],
  ['GET', /^\/api\/v1\/admin\/domain_blocks$/, ADMIN, (c) => admin.domainBlocks(c)],
  ['GET', /^\/api\/v1\/admin\/domain_blocks\/(\d+)$/, ADMIN, (c, m) => admin.domainBlocks(c, m[1])],
  ['GET', /^\/api\/v2\/admin\/accounts$/, ADMIN, (c) => admin.accountsV2(c)],
  ['GET', /^\/api\/v1\/admin\/accounts\/(\d+)$/, ADMIN, (c, m) => admin.account(c, m[1])]
];

function bearer(req: SimRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h.trim()) : null;
  return m?.[1] ?? req.url.searchParams.get('access_token') ?? undefined;
}

export function createOwnServer(o: OwnServerOptions): OwnServer {
  const tokens = {
    admin: o.tokens?.admin ?? 'sim-admin-token',
    user: o.tokens?.user ?? 'sim-user-token',
    revoked: o.tokens?.revoked ?? 'sim-revoked-token'
  };
  const settings: OwnServerSettings = { ...DEFAULT_SETTINGS };
  for (const k of Object.keys(DEFAULT_SETTINGS).concat('version') as (keyof OwnServerSettings)[]) {
    if (o[k] !== undefined) (settings as unknown as Record<string, unknown>)[k] = o[k];
  }
  const limiter = new RateLimiter(o.rateLimit || {});
  const throttling = o.rateLimit !== false;
  const world = worldKeeper(o.seed, o.clock, o.peers);
  world(); // build now, so the first request is as fast as the rest

  const viewerOf = (token: string | undefined): Viewer =>
    token === undefined
      ? 'anonymous'
      : token === tokens.admin
        ? 'admin'
        : token === tokens.user
          ? 'user'
          : token === tokens.revoked
            ? 'revoked'
            : 'unknown';

  const handle: HostHandler = (req, res) => {
    const path = req.url.pathname;
    const token = bearer(req);
    const viewer = viewerOf(token);
    const headers: Record<string, string> = {};
    if (!throttling && path.startsWith('/api') && limiter.storming()) {
      return sendJson(res, 429, { error: 'Too many requests' });
    }
    if (throttling) {
      // Rack::Attack keys by token only when it authenticates; anything else counts against the IP.
      const valid = viewer === 'admin' || viewer === 'user';
      const t = limiter.check(
        path,
        { token: valid ? token : undefined, ip: req.raw.socket.remoteAddress ?? '?' },
        req.url.searchParams
      );
      if (t) {
        Object.assign(headers, rateLimitHeaders(t));
        if (t.throttled) return sendJson(res, 429, { error: 'Too many requests' }, headers);
      }
    }
    const now = o.clock.now().getTime();
    const w = world();
    const c: Ctx = {
      req,
      res,
      w,
      v: { domain: o.domain, version: stackAt(now, settings.version).mastodon, now, seed: o.seed },
      s: settings,
      viewer,
      headers
    };
    for (const [method, pattern, needsAdmin, route] of ROUTES) {
      const m = pattern.exec(path);
      if (!m) continue;
      if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) continue;
      if (needsAdmin && !admin.authorizeAdmin(c)) return;
      return route(c, m);
    }
    send(c, 404, { error: 'Record not found' });
  };

  return {
    domain: o.domain,
    handle,
    tokens,
    settings,
    storm: (ms) => limiter.storm(ms),
    world
  };
}
