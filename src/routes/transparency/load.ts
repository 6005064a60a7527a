import { renderMarkdown } from '$lib/server/transparency/markdown';
import { availablePeriods, reportFor, transparencyConfig } from '$lib/server/transparency';
import type { Period } from '$lib/server/transparency/period';
import { dataOrNull } from '$lib/server/db';

/** What both /transparency and /transparency/<period> render. */
export async function reportPage(p: Period, origin: string, now: Date = new Date()) {
  const db = await dataOrNull();
  const report = db ? await reportFor(db, p) : null;
  return {
    period: { id: p.id, label: p.label, start: p.start, last: p.last, kind: p.kind },
    k: transparencyConfig.minCount,
    // The raw Markdown stays on the server: the page gets the rendered, escaped HTML only.
    report: report ? { ...report, preface_markdown: null } : null,
    canonical: `${origin}/transparency/${p.id}`,
    // The preface is the board's own Markdown, rendered by a subset renderer that escapes everything first.
    prefaceHtml: report?.preface_markdown ? renderMarkdown(report.preface_markdown) : null,
    picker: await availablePeriods(db, now)
  };
}
