import type { PageServerLoad } from './$types';
import path from 'node:path';
import { config as appConfig } from '$lib/server/db';
import { loadPage } from '$lib/server/queries/page';
import { scheduleStatus } from '$lib/server/schedule/status';
import { currentSnapshot } from '$lib/server/snapshot';

export const load: PageServerLoad = async (event) => {
  const base = await loadPage(event, 'status', ['runs', 'sources', 'metric_gaps']);
  const s = await currentSnapshot(appConfig.dbPath);
  return {
    ...base,
    snapshot: {
      file: s.file ? path.basename(s.file) : null,
      openedAt: s.openedAt?.toISOString() ?? null,
      rejected: s.rejected ? { file: path.basename(s.rejected.file), error: s.rejected.error } : null
    },
    schedule: scheduleStatus(appConfig.dbPath)
  };
};
