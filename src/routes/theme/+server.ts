import { redirect, type RequestHandler } from '@sveltejs/kit';

/** Theme switch as a plain form POST, so it works without JavaScript; the choice lives in a cookie. */
export const POST: RequestHandler = async ({ request, cookies, url }) => {
  const form = await request.formData();
  const theme = String(form.get('theme'));
  if (['light', 'dark', 'system'].includes(theme))
    cookies.set('theme', theme, { path: '/', maxAge: 365 * 86400, sameSite: 'lax', httpOnly: false });
  const back = String(form.get('back') ?? '/');
  redirect(303, back.startsWith('/') && !back.startsWith('//') ? back : url.origin);
};
