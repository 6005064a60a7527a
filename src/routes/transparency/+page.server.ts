import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { defaultPeriod } from '$lib/server/transparency';
import { parsePeriod } from '$lib/server/transparency/period';
import { reportPage } from './load';

/** The latest closed period (a quarter by default); ?period= from the picker goes to its permalink. */
export const load: PageServerLoad = async ({ url, setHeaders }) => {
  const wanted = url.searchParams.get('period');
  if (wanted !== null) {
    const p = parsePeriod(wanted.trim());
    redirect(303, p ? `/transparency/${p.id}` : '/transparency');
  }
  // Shorter than a permalink's hour: which period is the latest changes when one closes.
  setHeaders({ 'cache-control': 'public, max-age=600' });
  return { ...(await reportPage(defaultPeriod(), url.origin)), latest: true };
};
