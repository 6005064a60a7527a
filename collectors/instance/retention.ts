import { utcDay } from '../store/metrics.ts';
import { getSetting, recordRetention } from '../store/own-server.ts';
import { setSetting } from '../store/runs.ts';
import { httpFailure } from './client.ts';
import { findHistoryStart, startedKey } from './admin.ts';
import { addDays, parseCohorts, type CohortCell } from './parse.ts';
import type { Step } from './step.ts';

/**
 * Retention: monthly cohorts since the server's history starts and daily cohorts of the last 30 days, kept as
 * a change log so that the value in force at each period's end (true period activity) survives. Since 4.4.21,
 * 4.5.14 and 4.6.4 Mastodon answers only the last 12 months (31 days) of cohorts
 * (app/lib/admin/metrics/retention.rb): older cohorts keep the value last reported, and the store records when
 * that was (retention_reported), so the page can say "last seen on".
 */
export const DAILY_DAYS = 30;

/** Earlier builds took the start of history from the retention cohorts; this marks one found from the measures. */
const foundKey = (instance: string) => `instance.started_from_measures:${instance}`;

export const retention: Step = async ({ ctx, client, instance, shared }) => {
  const today = utcDay(ctx.now());
  const known = await getSetting(ctx.db, startedKey(instance));
  let start = known;
  // The cohorts no longer tell where history starts on a patched server: ask the measures, once
  if (!known || !(await getSetting(ctx.db, foundKey(instance)))) {
    const found = await findHistoryStart(ctx, client, today);
    if (found && (!known || found < known)) {
      start = found;
      await setSetting(ctx.db, startedKey(instance), found);
      // A start stored from capped cohorts was too late: what lies before it was never backfilled
      if (known) shared.historyMoved = true;
    }
    if (found) await setSetting(ctx.db, foundKey(instance), 'true');
  }
  shared.serverStart = start;
  const ask = async (frequency: 'day' | 'month', from: string): Promise<CohortCell[]> => {
    ctx.progress.status(`instance: retention by ${frequency} since ${from}`);
    const a = await client.masto('/api/v1/admin/retention', 'required', (m) =>
      m.v1.admin.retention.create({ startAt: from, endAt: today, frequency })
    );
    if (a.status !== 200) throw httpFailure(a, client.host);
    return parseCohorts(a.body);
  };
  // A capped server answers only its last 12 months whatever we ask; an older one, everything since `start`
  const monthly = start ? await ask('month', start) : [];
  const daily = await ask('day', addDays(today, -DAILY_DAYS));
  const added = await recordRetention(ctx.db, instance, [...monthly, ...daily], ctx.now());
  const cohorts = new Set([...monthly, ...daily].map((c) => `${c.frequency}${c.cohort}`)).size;
  const firstMonthly = monthly.map((c) => c.cohort).sort()[0];
  return {
    items: monthly.length + daily.length,
    summary:
      `${cohorts} cohorts (${added} changed cells kept)${start ? `, server history starts ${start}` : ''}` +
      (firstMonthly && start && firstMonthly.slice(0, 7) > start.slice(0, 7)
        ? `; Mastodon reports monthly cohorts from ${firstMonthly.slice(0, 7)} only (12-month cap)`
        : '')
  };
};
