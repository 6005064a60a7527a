import type { PageServerLoad } from './$types';
import { dataOrNull } from '$lib/server/db';
import { financeOverview } from '$lib/server/finances';

export const load: PageServerLoad = async () => {
  const db = await dataOrNull();
  const overview = db ? await financeOverview(db) : null;
  return { overview };
};
