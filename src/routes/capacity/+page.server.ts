import type { PageServerLoad } from './$types';
import { forecastSeries, STORES } from '$lib/server/metrics/capacity';
import { config, loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(
    event,
    'capacity',
    [
      'storage_total',
      'storage_postgresql',
      'storage_redis',
      'storage_media',
      'active_forecast',
      'software_versions',
      'load'
    ],
    async (db, q) => {
      const f = await forecastSeries(
        db,
        q,
        STORES.map((s) => s.metric),
        'Storage used',
        config.diskBytes
      );
      const fullOn =
        f.daysToLimit === null
          ? null
          : new Date(Date.parse(q.range.end) + f.daysToLimit * 86_400_000).toISOString().slice(0, 10);
      return {
        disk: {
          bytes: config.diskBytes,
          daysToFull: f.daysToLimit,
          fullOn,
          used: f.last,
          warningDays: config.diskWarningDays
        }
      };
    }
  );
