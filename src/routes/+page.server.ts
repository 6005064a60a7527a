import type { PageServerLoad } from './$types';
import { overviewAlerts } from '$lib/server/alerts';
import { computeKpis } from '$lib/server/metrics/overview';
import { isStaff, loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'overview', ['members', 'reports_weekly'], async (db, q) => ({
    kpis: await computeKpis(db, q),
    // The same conditions the webhook and /metrics report (src/lib/server/alerts).
    alerts: await overviewAlerts(db, new Date(), { staff: isStaff(event.locals) })
  }));
