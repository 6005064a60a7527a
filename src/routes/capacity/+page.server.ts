import type { PageServerLoad } from './$types';
import { volumeStatuses } from '$lib/server/metrics/capacity';
import { config, loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(
    event,
    'capacity',
    [
      'storage_volumes',
      'storage_total',
      'storage_postgresql',
      'storage_search',
      'storage_media',
      'storage_redis',
      'active_forecast',
      'software_versions',
      'load'
    ],
    async (db, q) => ({
      volumes: await volumeStatuses(db, q),
      warningDays: config.diskWarningDays
    })
  );
