import type { PageServerLoad } from './$types';
import { loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'retention', ['retention_monthly', 'retention_monthly_period_end', 'retention_daily']);
