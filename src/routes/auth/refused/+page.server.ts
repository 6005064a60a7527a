import type { PageServerLoad } from './$types';
import { readSealedCookie, REFUSED_COOKIE, type Refusal } from '$lib/server/auth';

export const load: PageServerLoad = async ({ cookies, setHeaders }) => {
  setHeaders({ 'cache-control': 'private, no-store' });
  const r = readSealedCookie<Refusal>(cookies, REFUSED_COOKIE, 'refused');
  const who = r && r.exp * 1000 > Date.now() ? r : null;
  return { who: who ? { acct: who.acct, displayName: who.displayName, role: who.role } : null };
};
