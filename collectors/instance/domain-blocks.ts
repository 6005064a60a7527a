import { syncAdminDomainBlocks } from '../store/own-server.ts';
import { parseAdminDomainBlocks, type AdminDomainBlock } from './parse.ts';
import type { Step } from './step.ts';

/**
 * The server's own domain blocks, with history. Removals are only concluded from a complete list, so all
 * pages are read first and compared in one transaction.
 */
export const adminDomainBlocks: Step = async ({ ctx, client, instance }) => {
  const all: AdminDomainBlock[] = [];
  for await (const { items } of client.pages('/api/v1/admin/domain_blocks', { limit: '200' })) {
    all.push(...parseAdminDomainBlocks(items));
    ctx.progress.status(`instance: admin domain blocks: ${all.length} so far`);
    if (ctx.signal.aborted)
      return { items: 0, summary: 'stopped before the list was complete', status: 'partial' };
  }
  const d = await syncAdminDomainBlocks(ctx.db, instance, all, ctx.now());
  return {
    items: all.length,
    summary: `${all.length} domain blocks (${d.added} added, ${d.changed} changed, ${d.removed} removed since last run)`
  };
};
