import { error, type RequestHandler } from '@sveltejs/kit';
import { getMetric, toCsv, toJson } from '$lib/server/metrics';
import { dataOrNull } from '$lib/server/db';
import { queryContext } from '$lib/server/queries/context';
import { config, isStaff } from '$lib/server/queries/page';

/**
 * /data/<page>/<metric>.csv|json: a registry metric's table for the URL's range. The page segment lets the
 * sign-in hook protect an export exactly like the page it feeds.
 */
export const GET: RequestHandler = async ({ params, url, locals }) => {
  const m = /^([a-z0-9_]+)\.(csv|json)$/.exec(params.file ?? '');
  const metric = m ? getMetric(m[1]) : undefined;
  if (!m || !metric || metric.page !== params.page) error(404, 'No such metric: see docs/metrics.md for the list');
  if (metric.staffOnly && !isStaff(locals)) error(403, 'Staff only');
  const db = await dataOrNull();
  if (!db) error(503, 'No data collected yet');
  const q = await queryContext(db, url, config);
  const table = await metric.query(db, q);
  const name = `fedipulse-${metric.key}-${q.range.start}-${q.range.end}`;
  if (m[2] === 'csv')
    return new Response(toCsv(table), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${name}.csv"`
      }
    });
  return new Response(JSON.stringify(toJson(metric, q, table)), {
    headers: { 'content-type': 'application/json; charset=utf-8' }
  });
};
