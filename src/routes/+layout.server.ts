import type { LayoutServerLoad } from './$types';
import { pickLocale } from '$lib/components/format';
import { dataOrNull } from '$lib/server/db';
import { facts } from '$lib/server/queries/context';

const THEMES = ['light', 'dark', 'system'] as const;

export const load: LayoutServerLoad = async ({ cookies, request, locals }) => {
  const t = cookies.get('theme');
  const db = await dataOrNull();
  const f = db ? await facts(db) : null;
  return {
    theme: THEMES.find((x) => x === t) ?? 'system',
    locale: pickLocale(request.headers.get('accept-language')),
    simulated: f?.simulated ?? false,
    lastDay: f?.lastDay ?? null,
    user: locals.user ? { name: locals.user.displayName || locals.user.acct, acct: locals.user.acct } : null
  };
};
