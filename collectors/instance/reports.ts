import { getSetting, lastReportSighting, upsertReports } from '../store/own-server.ts';
import { setSetting } from '../store/runs.ts';
import { parseReports, versionAtLeast } from './parse.ts';
import type { Step } from './step.ts';

/**
 * Every report: the admin API lists only unresolved reports by default, so two passes, each following
 * Link rel="next" to the end: open reports, then resolved=true. How to ask for open reports depends on the
 * version (app/models/report_filter.rb): before 4.6 any non-empty `resolved` means "resolved only", so
 * `resolved=false` would list resolved reports twice and no open one; from 4.6 it is cast to a boolean and
 * `resolved=false` lists open reports, which we then say explicitly. A report resolved long after it was filed
 * can sit on any page, so both passes read everything; each page is written in its own transaction.
 */
export const PAGE_SIZE = 200; // Mastodon's maximum for admin lists

const collectedKey = (instance: string) => `instance.reports_collected:${instance}`;

/** The query that lists open reports on this version. */
export const openReportsQuery = (version: string | null | undefined): Record<string, string> =>
  versionAtLeast(version ?? null, '4.6') ? { resolved: 'false' } : {};

export const reports: Step = async ({ ctx, client, instance, shared }) => {
  const started = ctx.now();
  // The previous collection of reports: a report filed since then and already assigned was assigned since then
  const previous =
    (await getSetting(ctx.db, collectedKey(instance))) ??
    (await lastReportSighting(ctx.db, instance, started));
  const previousAt = previous ? new Date(previous) : null;
  let total = 0;
  let pages = 0;
  for (const resolved of [false, true]) {
    const query = resolved ? { resolved: 'true' } : openReportsQuery(shared.version);
    for await (const { items, page } of client.pages('/api/v1/admin/reports', {
      ...query,
      limit: String(PAGE_SIZE)
    })) {
      const parsed = parseReports(items);
      await upsertReports(ctx.db, instance, parsed, ctx.now(), previousAt);
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
  await setSetting(ctx.db, collectedKey(instance), started.toISOString());
  return { items: total, summary: `${total} reports in ${pages} pages` };
};
