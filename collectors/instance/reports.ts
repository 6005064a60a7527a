import { upsertReports } from '../store/own-server.ts';
import { parseReports } from './parse.ts';
import type { Step } from './step.ts';

/**
 * Every report: the admin API lists only unresolved reports by default, so two passes, each following
 * Link rel="next" to the end: without `resolved` (open reports), then resolved=true. Never resolved=false:
 * Mastodon's ReportFilter treats any non-empty `resolved` as "resolved only". A report resolved long after it was filed can
 * sit on any page, so both passes read everything; each page is written in its own transaction.
 */
export const PAGE_SIZE = 200; // Mastodon's maximum for admin lists

export const reports: Step = async ({ ctx, client, instance }) => {
  let total = 0;
  let pages = 0;
  for (const resolved of [false, true]) {
    const query: Record<string, string> = resolved ? { resolved: 'true' } : {};
    for await (const { items, page } of client.pages('/api/v1/admin/reports', {
      ...query,
      limit: String(PAGE_SIZE)
    })) {
      const parsed = parseReports(items);
      await upsertReports(ctx.db, instance, parsed, ctx.now());
      total += parsed.length;
      pages++;
      ctx.progress.status(
        `instance: reports (${resolved ? 'resolved' : 'open'}) page ${page}: ${total} so far`
      );
      if (ctx.signal.aborted) {
        return { items: total, summary: `${total} reports (stopped early)`, status: 'partial' };
      }
    }
  }
  return { items: total, summary: `${total} reports in ${pages} pages` };
};
