import { error, json, type RequestHandler } from '@sveltejs/kit';
import { PUBLIC_CACHE, reportFor, resolvePeriod } from '$lib/server/transparency';
import { data } from '$lib/server/db';

/** Machine-readable report, schema in docs/transparency.md. */
export const GET: RequestHandler = async ({ params }) => {
  const r = resolvePeriod(params.period ?? '');
  if (!r.ok) error(r.status, r.message);
  const report = await reportFor(await data(), r.period);
  return json(report, {
    headers: {
      'cache-control': PUBLIC_CACHE,
      'access-control-allow-origin': '*',
      link: `</transparency/${r.period.id}>; rel="alternate"; type="text/html"`
    }
  });
};
