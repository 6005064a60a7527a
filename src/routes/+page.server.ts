import type { PageServerLoad } from './$types';
import { computeKpis } from '$lib/server/metrics/overview';
import { alerts } from '$lib/server/queries/alerts';
import { isStaff, loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'overview', ['members', 'reports_weekly'], async (db, q) => {
    const kpis = await computeKpis(db, q);
    const days = kpis.find((k) => k.key === 'days_to_full')?.value ?? null;
    return { kpis, alerts: await alerts(db, q, isStaff(event.locals), days) };
  });
