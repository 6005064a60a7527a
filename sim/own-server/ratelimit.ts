/**
 * Rack::Attack as Mastodon configures it: fixed windows aligned to wall time (never the sim clock),
 * 300 requests / 5 min per token (anonymous: per IP) on /api, and 300 / 15 min for any request carrying
 * a paging parameter. Headers report the throttle closest to its limit; a 429 has no Retry-After.
 */
import { performance } from 'node:perf_hooks';

export interface RateLimitOptions {
  /** Requests per window per token, and per IP for anonymous calls (default 300). */
  perToken?: number;
  perIp?: number;
  /** Requests per paging window (default 300). */
  paging?: number;
  /** Window lengths (default 5 min and 15 min). */
  windowMs?: number;
  pagingWindowMs?: number;
}

export interface Throttle {
  limit: number;
  remaining: number;
  resetMs: number;
  throttled: boolean;
}

const PAGING_PARAMS = ['page', 'min_id', 'max_id', 'since_id'];

export class RateLimiter {
  private counts = new Map<string, number>();
  private stormUntil = 0;
  private readonly o: Required<RateLimitOptions>;

  constructor(o: RateLimitOptions = {}) {
    this.o = {
      perToken: o.perToken ?? 300,
      perIp: o.perIp ?? 300,
      paging: o.paging ?? 300,
      windowMs: o.windowMs ?? 300_000,
      pagingWindowMs: o.pagingWindowMs ?? 900_000
    };
  }

  /** Every /api request answers 429 for the next `ms` of wall time (an overloaded or hostile proxy). */
  storm(ms: number): void {
    this.stormUntil = Date.now() + ms;
  }

  storming(): boolean {
    return Date.now() < this.stormUntil;
  }

  /** Counts the request and says whether it may pass; null when no throttle applies (not /api). */
  check(path: string, key: { token?: string; ip: string }, params: URLSearchParams): Throttle | null {
    if (!path.startsWith('/api')) return null;
    const now = Date.now();
    const hits: Throttle[] = [];
    const bucket = key.token ? `token:${key.token}` : `ip:${key.ip}`;
    hits.push(this.hit(`api:${bucket}`, key.token ? this.o.perToken : this.o.perIp, this.o.windowMs, now));
    if (PAGING_PARAMS.some((p) => params.has(p))) {
      hits.push(this.hit(`paging:${bucket}`, this.o.paging, this.o.pagingWindowMs, now));
    }
    const worst = hits.find((h) => h.throttled) ?? hits.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    if (now < this.stormUntil) return { ...worst, remaining: 0, throttled: true };
    return worst;
  }

  private hit(name: string, limit: number, period: number, now: number): Throttle {
    const start = now - (now % period);
    const k = `${name}:${start}`;
    const count = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, count);
    if (this.counts.size > 10_000) this.prune(now);
    return {
      limit,
      remaining: Math.max(0, limit - count),
      resetMs: start + period,
      throttled: count > limit
    };
  }

  private prune(now: number): void {
    const longest = Math.max(this.o.windowMs, this.o.pagingWindowMs);
    for (const k of this.counts.keys()) {
      if (Number(k.slice(k.lastIndexOf(':') + 1)) + longest < now) this.counts.delete(k);
    }
  }
}

/** `X-RateLimit-*` headers; Reset keeps the sub-second part of "now", as Mastodon's does (`…00.948114Z`). */
export function rateLimitHeaders(t: Throttle): Record<string, string> {
  const now = Date.now();
  const micros = Math.floor(((now % 1000) + (performance.now() % 1)) * 1000);
  const whole = new Date(t.resetMs - (t.resetMs % 1000)).toISOString().slice(0, 19);
  return {
    'X-RateLimit-Limit': String(t.limit),
    'X-RateLimit-Remaining': String(t.remaining),
    'X-RateLimit-Reset': `${whole}.${String(micros).padStart(6, '0')}Z`
  };
}
