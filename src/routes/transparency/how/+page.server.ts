import type { PageServerLoad } from './$types';
import { SCHEMA_VERSION } from '$lib/server/transparency/report';
import { transparencyConfig } from '$lib/server/transparency';

export const load: PageServerLoad = async ({ setHeaders }) => {
  setHeaders({ 'cache-control': 'public, max-age=3600' });
  return {
    k: transparencyConfig.minCount,
    schemaVersion: SCHEMA_VERSION,
    defaultKind: transparencyConfig.defaultKind
  };
};
