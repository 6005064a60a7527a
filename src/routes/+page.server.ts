import type { PageServerLoad } from './$types';
import { dataOrNull } from '$lib/server/db';

export const load: PageServerLoad = async () => {
  const db = await dataOrNull();
  if (!db) return { empty: true as const, days: [], members: [] };
  const rows = await db.all<{ day: string; value: number }>(
    `SELECT strftime(day, '%Y-%m-%d') AS day, value FROM daily_metrics WHERE metric = 'user_count' ORDER BY day`
  );
  return { empty: false as const, days: rows.map((r) => r.day), members: rows.map((r) => r.value) };
};
