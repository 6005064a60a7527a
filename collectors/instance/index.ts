import { request } from 'undici';
import type { CollectorContext } from '../context.ts';
import { upsertDailyValues, utcDay } from '../store/metrics.ts';
import type { SourceResult } from '../store/runs.ts';

/** Own server: public numbers from /api/v1/instance. */
export async function collectInstance(ctx: CollectorContext): Promise<SourceResult[]> {
  const base = ctx.config.instanceUrl;
  if (!base) {
    return [
      {
        source: 'instance',
        status: 'failed',
        items: 0,
        errors: 1,
        message: 'FEDIPULSE_INSTANCE_URL is not set'
      }
    ];
  }
  const instance = new URL(base).host;
  try {
    ctx.progress.status(`instance: fetching ${base}/api/v1/instance`);
    const res = await request(`${base}/api/v1/instance`, {
      dispatcher: ctx.ownDispatcher,
      headers: { accept: 'application/json', 'user-agent': ctx.userAgent }
    });
    const body = (await res.body.json()) as { stats?: Record<string, number> };
    if (res.statusCode !== 200 || !body.stats) throw new Error(`HTTP ${res.statusCode}`);
    const day = utcDay(ctx.now());
    const values = ['user_count', 'status_count', 'domain_count']
      .filter((k) => typeof body.stats?.[k] === 'number')
      .map((metric) => ({ instance, day, metric, value: body.stats![metric], source: 'instance.v1' }));
    await upsertDailyValues(ctx.db, values, ctx.now());
    ctx.progress.line(`instance: ${values.length} numbers`);
    return [{ source: 'instance.v1', status: 'ok', items: values.length, errors: 0 }];
  } catch (err) {
    return [
      { source: 'instance.v1', status: 'failed', items: 0, errors: 1, message: (err as Error).message }
    ];
  }
}
