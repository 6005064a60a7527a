import type { PageServerLoad } from './$types';
import { loadPage } from '$lib/server/queries/page';

export const load: PageServerLoad = async (event) =>
  loadPage(event, 'federation', [
    'peers',
    'reach',
    'software_by_servers',
    'software_by_users',
    'software_mix_history',
    'top_peers',
    'peer_changes',
    'limiting_us',
    'limiting_us_list',
    'own_blocks',
    'own_blocks_cut'
  ]);
