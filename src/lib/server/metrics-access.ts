import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Who may read /metrics. Its gauges are live and unsuppressed (open reports, reports past target, active
 * members, peers limiting us), so by default only signed-in staff and a scraper holding
 * FEDIPULSE_METRICS_TOKEN may; anonymous readers only when the operator opts in with
 * FEDIPULSE_METRICS_PUBLIC=true (and no token is set: a configured token always wins).
 */
export interface MetricsAccessConfig {
  token: string | null;
  public: boolean;
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time: both sides are hashed to the same length first, so neither length nor prefix leaks. */
export function bearerMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(sha(m[1]), sha(token));
}

export function metricsAllowed(
  authorization: string | null,
  staff: boolean,
  c: MetricsAccessConfig
): boolean {
  if (staff) return true;
  if (c.token) return bearerMatches(authorization, c.token);
  return c.public;
}

/** The answer a scraper understands: 401 with a Bearer challenge, never cached. */
export function metricsRefusal(c: MetricsAccessConfig): Response {
  const hint = c.token
    ? 'send "Authorization: Bearer <FEDIPULSE_METRICS_TOKEN>", or sign in as staff'
    : 'set FEDIPULSE_METRICS_TOKEN and send it as a bearer token, or sign in as staff ' +
      '(FEDIPULSE_METRICS_PUBLIC=true makes /metrics public)';
  return new Response(`/metrics is not public: ${hint}\n`, {
    status: 401,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'www-authenticate': 'Bearer realm="fedipulse metrics"',
      'cache-control': 'no-store'
    }
  });
}
