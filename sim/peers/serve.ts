import type { ServerResponse } from 'node:http';
import { sendJson, sendText, type SimRequest } from '../http.ts';
import type { DomainBlockEntry } from './blocklists.ts';
import {
  answerLate,
  deepLinksDocument,
  deepMetadataDocument,
  DOCUMENT_LEVEL,
  HUGE_STRING_CHARS,
  HTTP_LEVEL,
  neverAnswer,
  sendGzipBomb,
  sendHttpFailure,
  sendNotJson,
  sendOversized,
  slowDrip,
  type Behaviour
} from './failures.ts';
import type { PeerProfile } from './model.ts';
import { ROBOTS_DISALLOW_ALL, ROBOTS_DISALLOW_FEDIPULSE, robotsFor } from './robots.ts';
import { NI, type Site } from './software.ts';

/** One request's view of a peer: its traits, today's behaviour and its site, built only if needed. */
export interface PeerContext {
  profile: PeerProfile;
  behaviour: Behaviour;
  now: Date;
  site: () => Site;
  domainBlocks: () => DomainBlockEntry[];
  /** Its own /api/v1/instance/peers. */
  knownPeers: () => string[];
  /** Where an alias redirects its NodeInfo (another peer: the alias would inherit its numbers). */
  crossHost: string;
  /** Notes a request that followed a NodeInfo link no crawler should follow (`?lure=`). */
  lured?: (url: string) => void;
}

/** Slower than any sane header timeout, short enough that a forgotten socket goes away. */
export const SLOW_HEADERS_MS = 60_000;

const WELL_KNOWN = '/.well-known/nodeinfo';

const NOT_FOUND_HTML = `<!DOCTYPE html>
<html><head><title>Page not found</title></head><body><h1>Oops! That page can’t be found.</h1></body></html>
`;

function notFound(res: ServerResponse, site: Site): void {
  if (site.notFound === 'html') return sendText(res, 404, NOT_FOUND_HTML, 'text/html; charset=UTF-8');
  if (site.notFound === 'empty') return sendText(res, 404, '', 'text/plain');
  sendJson(res, 404, { error: 'Record not found' });
}

const acceptsJson = (accept: string | undefined) => !accept || /json|\*\/\*|application\/\*/.test(accept);

export function servePeer(ctx: PeerContext, req: SimRequest, res: ServerResponse): void | Promise<void> {
  const b = ctx.behaviour;
  switch (b) {
    case 'refused':
      // The handshake is normally refused already (certOverride); a reused connection just drops.
      req.raw.socket.destroy();
      return;
    case 'timeout':
      return neverAnswer(res);
    case 'slow_headers':
      return answerLate(res, SLOW_HEADERS_MS, () => serveSite(ctx, req, res, 'ok'));
    case 'slow_drip':
      return slowDrip(res, JSON.stringify(ctx.site().documents[0]?.body ?? { links: [] }));
    default:
      return serveSite(ctx, req, res, b);
  }
}

function serveSite(
  ctx: PeerContext,
  req: SimRequest,
  res: ServerResponse,
  b: Behaviour
): void | Promise<void> {
  const path = req.url.pathname;
  const host = ctx.profile.domain;
  if (req.url.searchParams.has('lure')) ctx.lured?.(req.url.href);
  if (path === '/robots.txt') {
    if (b === 'robots_disallow_all') return sendText(res, 200, ROBOTS_DISALLOW_ALL);
    if (b === 'robots_disallow_fedipulse') return sendText(res, 200, ROBOTS_DISALLOW_FEDIPULSE);
    // Broken hosts have no robots.txt worth the name: a 404 means "crawl freely" (RFC 9309).
    if (HTTP_LEVEL.has(b)) return sendText(res, 404, 'Not Found\n');
    return sendText(res, 200, ctx.site().robots);
  }
  if (HTTP_LEVEL.has(b)) return sendHttpFailure(res, b, ctx.now);
  const site = ctx.site();
  if (site.strictAccept && !acceptsJson(req.headers.accept)) {
    return sendJson(res, 406, { error: 'Not Acceptable: this endpoint offers application/json' });
  }

  if (path === WELL_KNOWN || path === `${WELL_KNOWN}/`) {
    const redirect = (to: string, status = 301) =>
      sendText(res, status, `Redirecting to ${to}\n`, 'text/plain', { location: to });
    if (path === WELL_KNOWN) {
      switch (b) {
        case 'redirect_same_host':
          return redirect(`https://${host}${WELL_KNOWN}/`);
        case 'redirect_cross_host':
          return redirect(`https://${ctx.crossHost}${WELL_KNOWN}`);
        case 'redirect_loopback':
          return redirect(`https://127.0.0.1${WELL_KNOWN}`, 302);
        case 'redirect_ip_literal':
          return redirect(`https://203.0.113.9${WELL_KNOWN}`, 302);
        case 'redirect_http':
          return redirect(`http://${host}${WELL_KNOWN}`);
      }
    }
    if (b === 'redirect_loop') {
      // Two URLs sending the client to each other.
      return redirect(
        req.url.search ? `https://${host}${WELL_KNOWN}` : `https://${host}${WELL_KNOWN}?loop=1`,
        302
      );
    }
    if (b === 'deep_links') return sendText(res, 200, deepLinksDocument(), JSON_TYPE);
    if (b === 'nodeinfo_other_host' || b === 'nodeinfo_other_port') {
      // The link names another server, or another port of this one: a redirect in all but name.
      const to = b === 'nodeinfo_other_host' ? ctx.crossHost : `${host}:8443`;
      const docPath = site.documents[0]?.path ?? '/nodeinfo/2.0';
      return sendJson(res, 200, {
        links: [
          { rel: `${NI}2.0`, href: `https://${to}${docPath}${docPath.includes('?') ? '&' : '?'}lure=${host}` }
        ]
      });
    }
    if (site.discovery === null) return notFound(res, site);
    return sendJson(res, 200, site.discovery);
  }

  const doc = site.documents.find((d) => d.path === path + req.url.search || d.path === path);
  if (doc) {
    if (DOCUMENT_LEVEL.has(b)) return sendBrokenDocument(ctx, res, b, doc.body);
    return sendJson(res, 200, doc.body, doc.contentType ? { 'content-type': doc.contentType } : {});
  }
  // PeerTube answers other NodeInfo versions with a JSON 404.
  if (/^\/nodeinfo\/\d/.test(path) && ctx.profile.software === 'peertube') {
    return sendJson(res, 404, { error: 'Nodeinfo schema version not handled' });
  }

  switch (path) {
    case '/api/v1/instance':
      return site.instanceV1 ? sendJson(res, 200, site.instanceV1) : notFound(res, site);
    case '/api/v2/instance':
      return site.instanceV2 ? sendJson(res, 200, site.instanceV2) : notFound(res, site);
    case '/api/v1/instance/peers':
      return servePeersApi(ctx, res, site);
    case '/api/v1/instance/domain_blocks':
      return serveDomainBlocks(ctx, req, res, site);
  }
  return notFound(res, site);
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendBrokenDocument(
  ctx: PeerContext,
  res: ServerResponse,
  b: Behaviour,
  body: unknown
): void | Promise<void> {
  const variant = (ctx.profile.phase % 100) / 100;
  const doc = body as Record<string, unknown>;
  const meta = (doc.metadata ?? {}) as Record<string, unknown>;
  switch (b) {
    case 'deep_metadata':
      return sendText(res, 200, deepMetadataDocument(), JSON_TYPE);
    case 'lone_surrogate':
      // JSON.stringify writes the lone high surrogate as the escape \ud83d: valid JSON, invalid Unicode.
      return sendJson(res, 200, {
        ...doc,
        metadata: { ...meta, nodeName: `${ctx.profile.nodeName} \ud83d` }
      });
    case 'huge_strings':
      // Each would end up quoted in a quirk, or in a stored column, if nothing capped them.
      return sendJson(res, 200, {
        ...doc,
        openRegistrations: 'open '.repeat(HUGE_STRING_CHARS / 5),
        metadata: { ...meta, nodeName: 'N'.repeat(HUGE_STRING_CHARS) }
      });
    case 'oversized':
      return sendOversized(res, variant < 0.5);
    case 'gzip_bomb':
      return sendGzipBomb(res);
    case 'not_json':
      return sendNotJson(res, variant);
    default:
      // JSON, but not NodeInfo: the instance actor served where the document should be.
      return sendJson(res, 200, {
        '@context': 'https://www.w3.org/ns/activitystreams',
        id: `https://${ctx.profile.domain}/actor`,
        type: 'Application',
        preferredUsername: ctx.profile.domain,
        inbox: `https://${ctx.profile.domain}/actor/inbox`
      });
  }
}

function servePeersApi(ctx: PeerContext, res: ServerResponse, site: Site): void {
  switch (site.peersApi) {
    case 'public':
      return sendJson(res, 200, ctx.knownPeers());
    case 'unauthorized':
      return ctx.profile.software === 'gotosocial'
        ? sendJson(res, 401, {
            error: 'Unauthorized: peers open query requires an authenticated account/user'
          })
        : sendJson(res, 401, { error: 'This API requires an authenticated user' });
    case 'disabled':
      return sendText(res, 404, '', 'text/plain');
    default:
      return notFound(res, site);
  }
}

function serveDomainBlocks(ctx: PeerContext, req: SimRequest, res: ServerResponse, site: Site): void {
  switch (site.domainBlocks) {
    case 'all':
      return sendJson(res, 200, ctx.domainBlocks(), { 'cache-control': 'public, max-age=180' });
    case 'users':
      // Anonymous: 404; a token that is not valid here: 401.
      return req.headers.authorization
        ? sendJson(res, 401, { error: 'The access token is invalid' })
        : sendText(res, 404, '', 'text/plain');
    case 'disabled':
      return sendText(res, 404, '', 'text/plain');
    default:
      return notFound(res, site);
  }
}

/** The fake-subdomain flood: one parked server answers for every name under the zone. */
export function serveFlood(req: SimRequest, res: ServerResponse): void {
  const host = req.host;
  switch (req.url.pathname) {
    case '/robots.txt':
      return sendText(res, 200, robotsFor('allow'));
    case WELL_KNOWN:
      return sendJson(res, 200, { links: [{ rel: `${NI}2.0`, href: `https://${host}/nodeinfo/2.0` }] });
    case '/nodeinfo/2.0':
      return sendJson(res, 200, FLOOD_NODEINFO);
    default:
      return sendJson(res, 404, { error: 'Record not found' });
  }
}

export const FLOOD_NODEINFO = {
  version: '2.0',
  software: { name: 'mastodon', version: '4.1.2' },
  protocols: ['activitypub'],
  services: { outbound: [], inbound: [] },
  usage: { users: { total: 1, activeMonth: 0, activeHalfyear: 0 }, localPosts: 0 },
  openRegistrations: false,
  metadata: {}
};

/** WordPress.com-style shared host: /wpcom/v2/sites/<domain>/activitypub/1.0/nodeinfo/2.0. */
export function serveSharedNodeInfo(
  req: SimRequest,
  res: ServerResponse,
  lookup: (domain: string) => PeerContext | undefined
): void {
  const m = /^\/wpcom\/v2\/sites\/([^/]+)\/activitypub\/1\.0\/nodeinfo\/2\.0$/.exec(req.url.pathname);
  const ctx = m ? lookup(m[1].toLowerCase()) : undefined;
  const doc = ctx?.profile.software === 'wordpress' ? ctx.site().documents[0] : undefined;
  if (!ctx || !doc || ctx.behaviour === 'gone' || ctx.behaviour === 'refused') {
    return sendJson(res, 404, { code: 'unknown_blog', message: 'Unknown blog' });
  }
  sendJson(res, 200, doc.body);
}
