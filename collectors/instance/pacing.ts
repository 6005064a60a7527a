import type { RateLimitInfo } from './parse.ts';

/**
 * Pacing for the co-op's token. Mastodon (rack_attack.rb) allows 300 requests / 5 min per token on /api and
 * 300 / 15 min for requests that page (max_id, min_id, since_id, page). We count our own requests in sliding
 * windows, read X-RateLimit-* from every answer, keep a reserve so the token stays usable for the co-op's
 * other tools, and on 429 wait until the window resets.
 */
export type Bucket = 'api' | 'paging' | 'none';

export interface Window {
  limit: number;
  periodMs: number;
}

export const MASTODON_LIMITS: Record<'api' | 'paging', Window> = {
  api: { limit: 300, periodMs: 5 * 60_000 },
  paging: { limit: 300, periodMs: 15 * 60_000 }
};

export interface Wait {
  ms: number;
  reason: string;
}

export interface PacerOptions {
  now: () => Date;
  /** Share of each window we use ourselves; the rest stays for the co-op's other uses of the token. */
  share?: number;
  limits?: Record<'api' | 'paging', Window>;
  /** Longest single wait: a reset further away than this is a clock problem, not a plan. */
  maxWaitMs?: number;
}

const hhmmss = (d: Date) => d.toISOString().slice(11, 19) + 'Z';

export class Pacer {
  private readonly now: () => Date;
  private readonly share: number;
  private readonly limits: Record<'api' | 'paging', Window>;
  private readonly maxWaitMs: number;
  private readonly sent: Record<'api' | 'paging', number[]> = { api: [], paging: [] };
  private server: RateLimitInfo = { limit: null, remaining: null, resetAt: null };
  requests = 0;
  waitedMs = 0;
  waits = 0;

  constructor(o: PacerOptions) {
    this.now = o.now;
    this.share = o.share ?? 0.8;
    this.limits = o.limits ?? MASTODON_LIMITS;
    this.maxWaitMs = o.maxWaitMs ?? 16 * 60_000;
  }

  /** What to wait before the next request of this bucket (0 = go now). Pure given the state: unit-tested. */
  nextWait(bucket: Bucket): Wait {
    if (bucket === 'none') return { ms: 0, reason: '' };
    const now = this.now().getTime();
    const s = this.server;
    // The server's own count wins: it includes the co-op's other clients using the same token.
    if (s.remaining !== null && s.resetAt && s.resetAt.getTime() > now) {
      const reserve = Math.max(1, Math.ceil((s.limit ?? this.limits.api.limit) * (1 - this.share)));
      if (s.remaining <= reserve) {
        return {
          ms: this.cap(s.resetAt.getTime() - now + 250),
          reason: `rate limit: ${s.remaining} requests left (kept for other uses of the token) until ${hhmmss(s.resetAt)}`
        };
      }
    }
    const buckets: ('api' | 'paging')[] = bucket === 'paging' ? ['api', 'paging'] : ['api'];
    let wait: Wait = { ms: 0, reason: '' };
    for (const b of buckets) {
      const w = this.limits[b];
      const budget = Math.max(1, Math.floor(w.limit * this.share));
      const recent = this.sent[b].filter((t) => t > now - w.periodMs);
      this.sent[b] = recent;
      if (recent.length >= budget) {
        const ms = this.cap(recent[recent.length - budget] + w.periodMs - now);
        if (ms > wait.ms) {
          const minutes = Math.round(w.periodMs / 60_000);
          wait = {
            ms,
            reason: `pacing: ${recent.length} ${b === 'paging' ? 'page ' : ''}requests in ${minutes} min`
          };
        }
      }
    }
    return wait;
  }

  /** Record a request as sent. */
  sentNow(bucket: Bucket): void {
    if (bucket === 'none') return;
    this.requests++;
    const t = this.now().getTime();
    this.sent.api.push(t);
    if (bucket === 'paging') this.sent.paging.push(t);
  }

  /** Record what the server said about its limits (only present when a throttle matched). */
  observe(info: RateLimitInfo): void {
    if (info.remaining === null && info.resetAt === null) return;
    this.server = {
      limit: info.limit ?? this.server.limit,
      remaining: info.remaining,
      resetAt: info.resetAt
    };
  }

  /** How long to wait after a 429: Retry-After when a proxy sent one, else until X-RateLimit-Reset. */
  after429(retryAfterMs: number | null): Wait {
    const now = this.now().getTime();
    const resetAt = this.server.resetAt;
    let ms: number;
    let reason: string;
    if (retryAfterMs !== null) {
      ms = retryAfterMs;
      reason = `HTTP 429 too many requests: Retry-After ${Math.ceil(retryAfterMs / 1000)} s`;
    } else if (resetAt && resetAt.getTime() > now) {
      ms = resetAt.getTime() - now + 250;
      reason = `HTTP 429 too many requests: waiting for the limit to reset at ${hhmmss(resetAt)}`;
    } else {
      ms = 30_000;
      reason = 'HTTP 429 too many requests (no reset time given)';
    }
    this.server = { ...this.server, remaining: null, resetAt: null };
    return { ms: this.cap(ms), reason };
  }

  /** After waiting out a window the old count no longer applies. */
  waited(ms: number): void {
    this.waits++;
    this.waitedMs += ms;
    if (this.server.resetAt && this.server.resetAt.getTime() <= this.now().getTime()) {
      this.server = { ...this.server, remaining: null, resetAt: null };
    }
  }

  private cap(ms: number): number {
    return Math.max(0, Math.min(this.maxWaitMs, Math.ceil(ms)));
  }
}

/** Paging requests carry a cursor; rack-attack counts them in the 15-minute bucket. */
export function bucketFor(url: URL): Bucket {
  if (!url.pathname.startsWith('/api')) return 'none';
  for (const k of ['max_id', 'min_id', 'since_id', 'page']) if (url.searchParams.has(k)) return 'paging';
  return 'api';
}

/** A sleep that ends early when the run is asked to stop. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
