import type { PageServerLoad } from './$types';
import { loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'growth', [
    'members',
    'new_users',
    'new_users_weekly',
    'new_users_monthly',
    'active_users',
    'posts',
    'posts_per_active',
    'interactions_per_active',
    'events'
  ]);
