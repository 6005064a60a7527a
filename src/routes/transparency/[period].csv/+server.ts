import { error, type RequestHandler } from '@sveltejs/kit';
import { PUBLIC_CACHE, reportFor, resolvePeriod } from '$lib/server/transparency';
import { toCsv } from '$lib/server/transparency/export';
import { data } from '$lib/server/db';

/** The same report as CSV, one fact per row (docs/transparency.md). */
export const GET: RequestHandler = async ({ params }) => {
  const r = resolvePeriod(params.period ?? '');
  if (!r.ok) error(r.status, r.message);
  const report = await reportFor(await data(), r.period);
  return new Response(toCsv(report), {
    headers: {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `inline; filename="transparency-${r.period.id}.csv"`,
      'cache-control': PUBLIC_CACHE,
      'access-control-allow-origin': '*'
    }
  });
};
