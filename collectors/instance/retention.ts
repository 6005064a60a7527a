import { utcDay } from '../store/metrics.ts';
import { getSetting, recordRetention } from '../store/own-server.ts';
import { setSetting } from '../store/runs.ts';
import { httpFailure } from './client.ts';
import { startedKey, EARLIEST_DAY } from './admin.ts';
import { addDays, earliestCohort, parseCohorts, type CohortCell } from './parse.ts';
import type { Step } from './step.ts';

/**
 * Retention: monthly cohorts since the server's first sign-up and daily cohorts of the last 30 days, kept as
 * a change log so that the value in force at each period's end (true period activity) survives.
 */
export const DAILY_DAYS = 30;

export const retention: Step = async ({ ctx, client, instance, shared }) => {
  const today = utcDay(ctx.now());
  const known = await getSetting(ctx.db, startedKey(instance));
  const ask = async (frequency: 'day' | 'month', from: string): Promise<CohortCell[]> => {
    ctx.progress.status(`instance: retention by ${frequency} since ${from}`);
    const a = await client.masto('/api/v1/admin/retention', 'required', (m) =>
      m.v1.admin.retention.create({ startAt: from, endAt: today, frequency })
    );
    if (a.status !== 200) throw httpFailure(a, client.host);
    return parseCohorts(a.body);
  };
  // Not knowing where the server starts, ask from the beginning of Mastodon: the first cohort tells
  const monthly = await ask('month', known ?? EARLIEST_DAY);
  const start = known ?? earliestCohort(monthly);
  if (start && !known) await setSetting(ctx.db, startedKey(instance), start);
  shared.serverStart = start;
  const kept = monthly.filter((c) => !start || c.cohort >= start);
  const daily = await ask('day', addDays(today, -DAILY_DAYS));
  const added = await recordRetention(ctx.db, instance, [...kept, ...daily], ctx.now());
  const cohorts = new Set([...kept, ...daily].map((c) => `${c.frequency}${c.cohort}`)).size;
  return {
    items: kept.length + daily.length,
    summary: `${cohorts} cohorts (${added} changed cells kept)${start ? `, server history starts ${start}` : ''}`
  };
};
