import type { PageServerLoad } from './$types';
import { loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'moderation', [
    'reports_weekly',
    'backlog',
    'backlog_age',
    'time_to_resolve',
    'time_to_assign',
    'report_categories',
    'reports_per_1000',
    'sending_domains',
    'reported_domains'
  ]);
