import robotsParser from 'robots-parser';
import type { Dispatcher } from 'undici';
import { cleanText } from '../json.ts';
import { readJson, redirectVerdict, retryAfter, safeGet, sameSite, type SafeResult } from '../net/fetch.ts';
import type { HostGate } from '../net/gate.ts';
import type { Outcome, PeerObservation, WorkItem } from '../store/peers.ts';
import { findOwnDomainBlock, findOwnMrfBlock, type LimitFinding } from './blocks.ts';
import type { PeerCrawlConfig } from './config.ts';
import { parseInstance } from './instance.ts';
import { redactNodeinfo } from './redact.ts';
import {
  chooseNodeinfoLink,
  DOMAIN_BLOCKS_SOFTWARE,
  MASTODON_API_SOFTWARE,
  parseNodeinfo
} from './nodeinfo.ts';

/** The robots.txt product token fedipulse answers to. */
export const ROBOTS_TOKEN = 'fedipulse';

export interface CrawlEnv {
  dispatcher: Dispatcher;
  /** A dispatcher for one host's crawl, closed when it ends (so no keep-alive socket outlives its host). */
  hostDispatcher?: () => Dispatcher;
  userAgent: string;
  gate: HostGate;
  cfg: PeerCrawlConfig;
  /** Our own domain (ASCII), to find blocks naming it; null when unknown. */
  ownDomain: string | null;
  crawlDay: string;
  now: () => Date;
  isOptedOut: (domain: string) => boolean;
}

const DAY = 86_400_000;
const MAX_BACKOFF_DAYS = 64;

/** Midnight UTC after the crawl day: the next daily crawl may visit the host again. */
export function nextCrawlDay(crawlDay: string, days = 1): Date {
  return new Date(Date.parse(`${crawlDay}T00:00:00Z`) + days * DAY);
}

/**
 * Host state after an outcome: ok and robots_disallowed come back the next crawl day; gone never; every
 * other failure backs off exponentially across runs (1, 2, 4 … 64 days), or longer if Retry-After says so.
 */
export function nextState(
  outcome: Outcome,
  failures: number,
  crawlDay: string,
  retryAt: Date | null
): Pick<PeerObservation, 'hostState' | 'consecutiveFailures' | 'nextAttemptAt'> {
  if (outcome === 'ok')
    return { hostState: 'ok', consecutiveFailures: 0, nextAttemptAt: nextCrawlDay(crawlDay) };
  if (outcome === 'gone')
    return { hostState: 'gone', consecutiveFailures: failures + 1, nextAttemptAt: null };
  if (outcome === 'robots_disallowed')
    return { hostState: 'robots', consecutiveFailures: 0, nextAttemptAt: nextCrawlDay(crawlDay) };
  const n = failures + 1;
  let next = nextCrawlDay(crawlDay, Math.min(2 ** (n - 1), MAX_BACKOFF_DAYS));
  if (retryAt && retryAt > next) next = retryAt;
  return { hostState: 'failing', consecutiveFailures: n, nextAttemptAt: next };
}

function blank(item: WorkItem, env: CrawlEnv): PeerObservation {
  return {
    domain: item.domain,
    observedAt: env.now(),
    crawlDay: env.crawlDay,
    outcome: 'ok',
    httpStatus: null,
    software: null,
    softwareVersion: null,
    usersTotal: null,
    usersActiveMonth: null,
    usersActiveHalfyear: null,
    localPosts: null,
    openRegistrations: null,
    suspectReasons: [],
    nodeinfoVersion: null,
    nodeinfoUrl: null,
    nodeName: null,
    quirks: [],
    error: null,
    raw: null,
    prevRawHash: item.lastRawHash ?? null,
    instanceApi: null,
    instanceTitle: null,
    instanceVersion: null,
    instanceUserCount: null,
    instanceActiveMonth: null,
    limit: null,
    hostState: 'ok',
    consecutiveFailures: 0,
    nextAttemptAt: null
  };
}

/**
 * A crawl of one host that threw: recorded as that host's `invalid` outcome, with the reason, so no peer can
 * end the crawl of the others (issue 14). Nothing read from the host is kept.
 */
export function failedObservation(item: WorkItem, env: CrawlEnv, err: unknown): PeerObservation {
  const obs = blank(item, env);
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  obs.outcome = 'invalid';
  obs.error = cleanText(`crawl failed: ${why}`, 300);
  return Object.assign(obs, nextState('invalid', item.failures, env.crawlDay, null));
}

const TRANSPORT = new Set(['unreachable', 'timeout', 'tls_error', 'refused_address']);

/** Crawls one peer: robots.txt, NodeInfo discovery and document, instance API, public domain blocks. */
export async function crawlHost(item: WorkItem, env: CrawlEnv): Promise<PeerObservation> {
  const obs = blank(item, env);
  const dispatcher = env.hostDispatcher?.() ?? env.dispatcher;
  let retryAt: Date | null = null;
  const finish = (outcome: Outcome, error: string | null, status: number | null = obs.httpStatus) => {
    obs.outcome = outcome;
    obs.error = error ? cleanText(error, 300) : null;
    obs.httpStatus = status;
    obs.observedAt = env.now();
    Object.assign(obs, nextState(outcome, item.failures, env.crawlDay, retryAt));
    return obs;
  };
  const get = (url: URL, crossHost: boolean, maxBytes = env.cfg.maxBytes): Promise<SafeResult> =>
    safeGet(url, {
      dispatcher,
      userAgent: env.userAgent,
      maxBytes,
      timeoutMs: env.cfg.timeoutMs,
      crossHost,
      hostVeto: (h) => (env.isOptedOut(h.toLowerCase()) ? `${h} opted out` : null),
      gate: (h, fn) => env.gate.run(h, fn)
    });
  /** A non-2xx answer that ends the crawl of this host: 410 gone, 429 with Retry-After, the rest http_error. */
  const httpFailure = (r: { status: number; headers: Record<string, string> }, what: string) => {
    if (r.status === 410) return finish('gone', `${what}: HTTP 410 Gone`, 410);
    if (r.status === 429 || r.status === 503) retryAt = retryAfter(r.headers['retry-after'], env.now());
    return finish('http_error', `${what}: HTTP ${r.status}`, r.status);
  };

  const base = new URL(`https://${item.domain}/`);
  try {
    // 1. robots.txt: a 4xx or an unusable file means no rules (RFC 9309); 5xx and 429 stop us for today.
    const robotsUrl = new URL('/robots.txt', base);
    const rr = await get(robotsUrl, true, 512 * 1024);
    let robots: ReturnType<typeof robotsParser> | null = null;
    if (!rr.ok) {
      if (TRANSPORT.has(rr.outcome)) return finish(rr.outcome as Outcome, `robots.txt: ${rr.error}`);
    } else if (rr.status >= 200 && rr.status < 300) {
      robots = robotsParser(robotsUrl.href, rr.body.toString('utf8'));
      const delay = robots.getCrawlDelay(ROBOTS_TOKEN);
      if (typeof delay === 'number' && delay > 0)
        env.gate.setDelay(item.domain, Math.min(delay * 1000, env.cfg.maxCrawlDelayMs));
    } else if (rr.status === 429 || rr.status >= 500) {
      return httpFailure(rr, 'robots.txt');
    }
    const allowed = (u: URL) =>
      !robots || !sameSite(u.hostname, item.domain) || robots.isAllowed(u.href, ROBOTS_TOKEN) !== false;

    // 2. Discovery.
    const wk = new URL('/.well-known/nodeinfo', base);
    if (!allowed(wk)) return finish('robots_disallowed', 'robots.txt disallows /.well-known/nodeinfo');
    const dr = await get(wk, false);
    if (!dr.ok) return finish(dr.outcome, `discovery: ${dr.error}`);
    obs.httpStatus = dr.status;
    let docResult: SafeResult | null = null;
    let docUrl: URL | null = null;
    if (dr.status === 404) {
      // No NodeInfo discovery: NodeInfo2 (Friendica, some small servers) is the only other place to look.
      const x = new URL('/.well-known/x-nodeinfo2', base);
      if (allowed(x)) {
        const xr = await get(x, false);
        if (xr.ok && xr.status >= 200 && xr.status < 300) {
          docResult = xr;
          docUrl = x;
          obs.quirks.push('no /.well-known/nodeinfo; NodeInfo2 used');
        }
      }
      if (!docResult) return httpFailure(dr, 'discovery');
    } else if (dr.status < 200 || dr.status >= 300) {
      return httpFailure(dr, 'discovery');
    } else {
      const dj = readJson(dr.body);
      if (!dj.ok) return finish(dj.tooDeep ? 'invalid' : 'not_json', `discovery: ${dj.error}`);
      const link = chooseNodeinfoLink(dj.value, dr.url);
      if (!link) return finish('invalid', 'discovery names no NodeInfo schema link we read');
      docUrl = link.href;
      // The link is a redirect in all but name: the same rules (same host or its www. twin, https, default
      // port), so a discovery document cannot send the crawler to another server or port.
      const verdict = redirectVerdict(dr.url, docUrl, false);
      if (verdict) return finish(verdict.outcome, cleanText(`NodeInfo link: ${verdict.reason}`, 300));
      if (!allowed(docUrl)) return finish('robots_disallowed', `robots.txt disallows ${docUrl.pathname}`);
      if (env.isOptedOut(docUrl.hostname.toLowerCase()))
        return finish('redirect_refused', `NodeInfo on ${docUrl.hostname}, which opted out`);
      docResult = await get(docUrl, false);
    }

    // 3. The document.
    if (!docResult.ok) return finish(docResult.outcome, `nodeinfo: ${docResult.error}`);
    obs.httpStatus = docResult.status;
    obs.nodeinfoUrl = docResult.url.href.slice(0, 500);
    if (docResult.status < 200 || docResult.status >= 300) return httpFailure(docResult, 'nodeinfo');
    const nj = readJson(docResult.body);
    if (!nj.ok) return finish(nj.tooDeep ? 'invalid' : 'not_json', `nodeinfo: ${nj.error}`);
    // Only the redacted document is kept; the limit check below reads the document as served.
    obs.raw = JSON.stringify(redactNodeinfo(nj.value));
    const prev = item.lastUsersTotal === null ? null : { usersTotal: item.lastUsersTotal };
    const parsed = parseNodeinfo(nj.value, prev);
    if (!parsed.ok) return finish('invalid', `nodeinfo: ${parsed.error}`);
    const p = parsed.value;
    Object.assign(obs, {
      software: p.software,
      softwareVersion: p.softwareVersion,
      nodeinfoVersion: p.nodeinfoVersion,
      usersTotal: p.usersTotal,
      usersActiveMonth: p.usersActiveMonth,
      usersActiveHalfyear: p.usersActiveHalfyear,
      localPosts: p.localPosts,
      openRegistrations: p.openRegistrations,
      nodeName: p.nodeName
    });
    obs.suspectReasons.push(...p.suspectReasons);
    obs.quirks.push(...p.quirks);

    // 4. Extras: failures here never change the outcome (NodeInfo answered), but a 429 stops them.
    let limited = false;
    let instanceV2 = false;
    if (MASTODON_API_SOFTWARE.has(p.software)) {
      for (const api of ['v2', 'v1'] as const) {
        const u = new URL(`/api/${api}/instance`, base);
        if (!allowed(u)) break;
        const r = await get(u, false);
        if (!r.ok) break;
        if (r.status === 429) {
          limited = true;
          break;
        }
        if (r.status === 404 || r.status === 410) continue;
        if (r.status < 200 || r.status >= 300) break;
        const j = readJson(r.body);
        const info = j.ok ? parseInstance(j.value, api) : null;
        if (info) {
          instanceV2 = api === 'v2';
          Object.assign(obs, {
            instanceApi: api,
            instanceTitle: info.title,
            instanceVersion: info.version,
            instanceUserCount: info.userCount,
            instanceActiveMonth: info.activeMonth
          });
        }
        break;
      }
    }
    let limit: LimitFinding | null = null;
    if (env.ownDomain) {
      limit = findOwnMrfBlock(nj.value, env.ownDomain);
      const u = new URL('/api/v1/instance/domain_blocks', base);
      if (!limited && (DOMAIN_BLOCKS_SOFTWARE.has(p.software) || instanceV2) && allowed(u)) {
        const r = await get(u, false, env.cfg.maxBytes * 4);
        if (r.ok && r.status >= 200 && r.status < 300) {
          const j = readJson(r.body);
          if (j.ok) limit = findOwnDomainBlock(j.value, env.ownDomain) ?? limit;
        }
      }
    }
    obs.limit = limit;
    return finish('ok', null);
  } catch (err) {
    return failedObservation(item, env, err);
  } finally {
    env.gate.forget(item.domain);
    // Nothing is in flight any more: close() ends the idle sockets now instead of after keepAliveTimeout.
    if (dispatcher !== env.dispatcher) void dispatcher.close().catch(() => {});
  }
}
