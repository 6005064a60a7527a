import { redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { currentSession, deleteCookie, revoked, SESSION_COOKIE } from '$lib/server/auth';

export const load: PageServerLoad = async ({ locals }) => {
  return { user: locals.user ? { acct: locals.user.acct } : null };
};

/** Sign-out is a POST (a link or an image elsewhere cannot sign anyone out). */
export const actions: Actions = {
  default: async ({ cookies, url }) => {
    const s = currentSession(cookies);
    if (s) revoked.add(s.sid, s.exp);
    deleteCookie(cookies, url, SESSION_COOKIE);
    redirect(303, '/auth/signin?signed_out=1');
  }
};
