import type { RequestHandler } from '@sveltejs/kit';
import { authConfig } from '$lib/server/auth';
import { config } from '$lib/server/db';
import { currentSnapshot } from '$lib/server/snapshot';
import { metricsAllowed, metricsRefusal, type MetricsAccessConfig } from '$lib/server/metrics-access';
import { CONTENT_TYPE, renderMetrics } from './prometheus.ts';

/**
 * Prometheus scrape endpoint: signed-in staff, or `Authorization: Bearer <FEDIPULSE_METRICS_TOKEN>`;
 * anonymous only with FEDIPULSE_METRICS_PUBLIC=true ($lib/server/metrics-access.ts).
 */
export const GET: RequestHandler = async ({ request, locals }) => {
  const access: MetricsAccessConfig = { token: authConfig.metricsToken, public: config.metricsPublic };
  if (!metricsAllowed(request.headers.get('authorization'), locals.staff === true, access))
    return metricsRefusal(access);
  const s = await currentSnapshot(config.dbPath);
  const body = await renderMetrics(s, config.dbPath);
  return new Response(body, {
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' }
  });
};
