import type { CollectorContext } from '../context.ts';
import type { SourceResult } from '../store/runs.ts';

/** Peer crawl: see docs/crawler.md. */
export async function collectPeers(_ctx: CollectorContext): Promise<SourceResult[]> {
  return [{ source: 'peers', status: 'skipped', items: 0, errors: 0, message: 'peer crawler not built yet' }];
}
