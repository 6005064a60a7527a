import type { Db } from './database.ts';

export interface DailyValue {
  instance: string;
  day: string; // YYYY-MM-DD (UTC)
  metric: string;
  value: number;
  source: string;
}

/**
 * Upserts daily values. A revised value replaces the old one and the change is kept in metric_revisions;
 * an unchanged value only moves last_seen_at, so re-runs are idempotent.
 */
export async function upsertDailyValues(db: Db, values: DailyValue[], seenAt: Date): Promise<number> {
  if (values.length === 0) return 0;
  const at = seenAt.toISOString();
  let changed = 0;
  await db.transaction(async () => {
    await db.run(
      `CREATE OR REPLACE TEMP TABLE incoming (instance VARCHAR, day VARCHAR, metric VARCHAR, value DOUBLE, source VARCHAR)`
    );
    const appender = await db.conn.createAppender('incoming', 'main', 'temp');
    for (const v of values) {
      if (!Number.isFinite(v.value)) continue; // a non-number is a gap, never a stored NaN
      appender.appendVarchar(v.instance);
      appender.appendVarchar(v.day);
      appender.appendVarchar(v.metric);
      appender.appendDouble(v.value);
      appender.appendVarchar(v.source);
      appender.endRow();
    }
    appender.closeSync();
    const rev = await db.all<{ n: number }>(
      `INSERT INTO metric_revisions (instance, day, metric, old_value, new_value, seen_at)
       SELECT m.instance, m.day, m.metric, m.value, i.value, $1::TIMESTAMPTZ
       FROM incoming i JOIN metric_days m ON m.instance = i.instance AND m.day = i.day::DATE AND m.metric = i.metric
       WHERE m.value <> i.value RETURNING 1 AS n`,
      [at]
    );
    changed = rev.length;
    await db.run(
      `INSERT INTO metric_days (instance, day, metric, value, source, first_seen_at, last_seen_at, changed_at)
       SELECT instance, day::DATE, metric, value, source, $1::TIMESTAMPTZ, $1::TIMESTAMPTZ, $1::TIMESTAMPTZ FROM incoming
       ON CONFLICT (instance, day, metric) DO UPDATE SET
         changed_at = CASE WHEN metric_days.value <> excluded.value THEN excluded.changed_at ELSE metric_days.changed_at END,
         value = excluded.value, source = excluded.source, last_seen_at = excluded.last_seen_at`,
      [at]
    );
    await db.run('DROP TABLE incoming');
  });
  return changed;
}

export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

/** The newest day stored for any of `metrics` (null when none): where a re-read after an outage resumes. */
export async function lastStoredDay(db: Db, instance: string, metrics: string[]): Promise<string | null> {
  const row = await db.one<{ day: string | null }>(
    `SELECT CAST(max(day) AS VARCHAR) AS day FROM metric_days
     WHERE instance = $1 AND list_contains(from_json($2::JSON, '["VARCHAR"]'), metric)`,
    [instance, JSON.stringify(metrics)]
  );
  return row?.day ?? null;
}
