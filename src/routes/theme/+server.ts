import { redirect, type RequestHandler } from '@sveltejs/kit';
import { safeReturnPath } from '$lib/server/auth/paths';

/** Theme switch as a plain form POST, so it works without JavaScript; the choice lives in a cookie. */
export const POST: RequestHandler = async ({ request, cookies }) => {
  const form = await request.formData();
  const theme = String(form.get('theme'));
  if (['light', 'dark', 'system'].includes(theme))
    cookies.set('theme', theme, { path: '/', maxAge: 365 * 86400, sameSite: 'lax', httpOnly: false });
  redirect(303, safeReturnPath(String(form.get('back') ?? '/')));
};
