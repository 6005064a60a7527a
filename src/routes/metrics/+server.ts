import { config } from '$lib/server/db';
import { currentSnapshot } from '$lib/server/snapshot';
import { CONTENT_TYPE, renderMetrics } from './prometheus.ts';

/**
 * Prometheus scrape endpoint. Public unless FEDIPULSE_METRICS_TOKEN is set, in which case
 * src/hooks.server.ts asks for `Authorization: Bearer <token>` before this runs.
 */
export async function GET() {
  const s = await currentSnapshot(config.dbPath);
  const body = await renderMetrics(s, config.dbPath);
  return new Response(body, {
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' }
  });
}
