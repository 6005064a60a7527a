import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { PUBLIC_CACHE, resolvePeriod } from '$lib/server/transparency';
import { reportPage } from '../load';

export const load: PageServerLoad = async ({ params, setHeaders, url }) => {
  const r = resolvePeriod(params.period);
  if (!r.ok) error(r.status, r.message);
  setHeaders({ 'cache-control': PUBLIC_CACHE });
  return { ...(await reportPage(r.period, url.origin)), latest: false };
};
