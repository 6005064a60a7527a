import type { FinanceEntry } from '../finances/ledger.ts';
import type { Db } from './database.ts';
import { setSetting } from './runs.ts';

const cents = (c: number) => (c / 100).toFixed(2);

async function stage(db: Db, entries: FinanceEntry[]): Promise<void> {
  await db.run(
    `CREATE OR REPLACE TEMP TABLE incoming_finance (entry_key VARCHAR, source VARCHAR, day VARCHAR, direction VARCHAR,
       category VARCHAR, counterparty VARCHAR, note VARCHAR, currency VARCHAR, amount VARCHAR, fx_rate DOUBLE,
       amount_base VARCHAR, origin VARCHAR)`
  );
  const a = await db.conn.createAppender('incoming_finance', 'main', 'temp');
  for (const e of entries) {
    a.appendVarchar(e.key);
    a.appendVarchar(e.source);
    a.appendVarchar(e.day);
    a.appendVarchar(e.direction);
    a.appendVarchar(e.category);
    if (e.counterparty === null) a.appendNull();
    else a.appendVarchar(e.counterparty);
    if (e.note === null) a.appendNull();
    else a.appendVarchar(e.note);
    a.appendVarchar(e.currency);
    a.appendVarchar(cents(e.amountCents));
    a.appendDouble(e.fxRate);
    a.appendVarchar(cents(e.baseCents));
    a.appendVarchar(e.origin);
    a.endRow();
  }
  a.closeSync();
}

export interface SyncResult {
  added: number;
  removed: number;
  kept: number;
}

/**
 * Writes entries of one source. New keys are inserted, known ones only move last_seen_at (and their origin,
 * the line may have moved). With `replaceSource`, the source's entries absent from `entries` are removed:
 * the ledger file is the whole of the books, so a corrected row replaces the old one instead of doubling it.
 */
export async function syncFinanceEntries(
  db: Db,
  source: FinanceEntry['source'],
  entries: FinanceEntry[],
  opts: { runId: number; now: Date; replaceSource: boolean }
): Promise<SyncResult> {
  const at = opts.now.toISOString();
  return db.transaction(async () => {
    await stage(db, entries);
    const added = await db.all(
      `INSERT INTO finance_entries (entry_key, source, day, direction, category, counterparty, note, currency, amount,
         fx_rate, amount_base, origin, first_seen_run, first_seen_at, last_seen_at)
       SELECT entry_key, source, day::DATE, direction, category, counterparty, note, currency, amount::DECIMAL(18, 2),
         fx_rate, amount_base::DECIMAL(18, 2), origin, $1, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ
       FROM incoming_finance
       ON CONFLICT (entry_key) DO UPDATE SET last_seen_at = excluded.last_seen_at, origin = excluded.origin,
         fx_rate = excluded.fx_rate, amount_base = excluded.amount_base
       RETURNING first_seen_run`,
      [opts.runId, at]
    );
    const fresh = added.filter((r) => r.first_seen_run === opts.runId).length;
    let removed = 0;
    if (opts.replaceSource) {
      const gone = await db.all(
        `DELETE FROM finance_entries WHERE source = $1 AND entry_key NOT IN (SELECT entry_key FROM incoming_finance)
         RETURNING 1 AS n`,
        [source]
      );
      removed = gone.length;
    }
    await db.run('DROP TABLE incoming_finance');
    return { added: fresh, removed, kept: entries.length - fresh };
  });
}

/** Keys of a source's entries with their day, to resume a collection where the last one stopped. */
export async function latestFinanceDay(db: Db, source: FinanceEntry['source']): Promise<string | null> {
  const row = await db.one<{ day: string | null }>(
    `SELECT strftime(max(day), '%Y-%m-%d') AS day FROM finance_entries WHERE source = $1`,
    [source]
  );
  return row?.day ?? null;
}

/** Replaces what the last import of a source could not read. */
export async function replaceFinanceIssues(
  db: Db,
  source: string,
  issues: { line: number | null; message: string }[],
  runId: number,
  now: Date
): Promise<void> {
  await db.transaction(async () => {
    await db.run('DELETE FROM finance_issues WHERE source = $1', [source]);
    for (const i of issues) {
      await db.run(
        'INSERT INTO finance_issues (source, line, message, run_id, seen_at) VALUES ($1, $2, $3, $4, $5::TIMESTAMPTZ)',
        [source, i.line, i.message, runId, now.toISOString()]
      );
    }
  });
}

export async function recordFinanceBalance(
  db: Db,
  b: {
    source: string;
    asOf: Date;
    currency: string;
    amountCents: number;
    baseCents: number | null;
    runId: number;
  }
): Promise<void> {
  await db.run(
    `INSERT INTO finance_balances (source, as_of, currency, amount, amount_base, run_id)
     VALUES ($1, $2::TIMESTAMPTZ, $3, $4::DECIMAL(18, 2), $5::DECIMAL(18, 2), $6) ON CONFLICT DO NOTHING`,
    [
      b.source,
      b.asOf.toISOString(),
      b.currency,
      cents(b.amountCents),
      b.baseCents === null ? null : cents(b.baseCents),
      b.runId
    ]
  );
}

/** The settings the finance views read (finance_settings). */
export async function saveFinanceSettings(
  db: Db,
  s: { baseCurrency: string; reserveMonths: number; storagePricePerGbMonth: number | null }
): Promise<void> {
  await setSetting(db, 'finance.base_currency', s.baseCurrency);
  await setSetting(db, 'finance.reserve_months', String(s.reserveMonths));
  if (s.storagePricePerGbMonth !== null)
    await setSetting(db, 'finance.storage_price_per_gb_month', String(s.storagePricePerGbMonth));
  else await db.run(`DELETE FROM settings WHERE key = 'finance.storage_price_per_gb_month'`);
}
