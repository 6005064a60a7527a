import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import type { CollectorContext } from '../context.ts';
import { createDispatcher } from '../net/dispatcher.ts';
import {
  latestFinanceDay,
  recordFinanceBalance,
  replaceFinanceIssues,
  saveFinanceSettings,
  syncFinanceEntries
} from '../store/finances.ts';
import type { SourceResult } from '../store/runs.ts';
import { loadFinanceConfig, type FinanceConfig } from './config.ts';
import { convertCents, parseLedger, type FinanceEntry } from './ledger.ts';
import { parseTransactionsResponse, transactionsToEntries, TRANSACTIONS_QUERY } from './opencollective.ts';
import { parseRates, Rates } from './rates.ts';

const MAX_ISSUES_SHOWN = 20;
/** 1,000 transactions are about 1 MB: anything far larger is not the API we asked. */
const MAX_ANSWER_BYTES = 32e6;

/** Rates from FEDIPULSE_FX_RATES (a file, or inline USD=0.92); problems are reported, never fatal. */
function loadRates(fc: FinanceConfig): {
  rates: Rates;
  issues: { line: number; message: string }[];
  label: string;
} {
  if (!fc.fxRates) return { rates: new Rates(fc.baseCurrency, []), issues: [], label: 'rates' };
  const inline = /^[A-Za-z]{3}=/.test(fc.fxRates);
  if (inline) return { ...parseRates(fc.fxRates, fc.baseCurrency), label: 'FEDIPULSE_FX_RATES' };
  const file = path.resolve(fc.fxRates);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      rates: new Rates(fc.baseCurrency, []),
      issues: [
        {
          line: 0,
          message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
        }
      ],
      label: path.basename(file)
    };
  }
  return { ...parseRates(text, fc.baseCurrency), label: path.basename(file) };
}

async function importLedger(ctx: CollectorContext, fc: FinanceConfig, rates: Rates): Promise<SourceResult> {
  const source = 'finances.ledger';
  const file = fc.ledgerPath!;
  const label = path.basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message);
    return {
      source,
      status: 'failed',
      items: 0,
      errors: 1,
      message: `cannot read FEDIPULSE_LEDGER ${file}: ${why}`
    };
  }
  const { entries, issues, rows } = parseLedger(text, rates, label);
  for (const i of issues.slice(0, MAX_ISSUES_SHOWN))
    ctx.progress.warn(`${label} line ${i.line}: ${i.message}`);
  if (issues.length > MAX_ISSUES_SHOWN)
    ctx.progress.warn(
      `${label}: ${issues.length - MAX_ISSUES_SHOWN} more problems (all are listed on /finances)`
    );
  await replaceFinanceIssues(ctx.db, 'ledger', issues, ctx.runId, ctx.now());
  if (entries.length === 0) {
    // Nothing readable: keep the books as they were rather than empty them.
    const first = issues[0];
    return {
      source,
      status: 'failed',
      items: 0,
      errors: Math.max(issues.length, 1),
      message:
        rows === 0 && !first
          ? `${label} has no rows`
          : `no row of ${label} could be read${first ? ` (line ${first.line}: ${first.message})` : ''}`
    };
  }
  const r = await syncFinanceEntries(ctx.db, 'ledger', entries, {
    runId: ctx.runId,
    now: ctx.now(),
    replaceSource: true
  });
  const bad = issues.length > 0 ? `, ${issues.length} row(s) with problems not imported` : '';
  ctx.progress.line(`finances: ${label}: ${entries.length} rows, ${r.added} new, ${r.removed} removed${bad}`);
  return {
    source,
    status: issues.length > 0 ? 'partial' : 'ok',
    items: entries.length,
    errors: issues.length,
    message:
      issues.length > 0
        ? `${issues.length} row(s) of ${label} not imported (first: line ${issues[0].line}: ${issues[0].message})`
        : undefined
  };
}

interface OcOptions {
  pageSize?: number;
}

async function collectOpenCollective(
  ctx: CollectorContext,
  fc: FinanceConfig,
  rates: Rates,
  opts: OcOptions = {}
): Promise<SourceResult> {
  const source = 'finances.opencollective';
  const slug = fc.openCollectiveSlug!;
  const pageSize = opts.pageSize ?? 1000; // the API's maximum: few requests against its 10-a-minute limit
  const dispatcher: Dispatcher = createDispatcher({
    connectTo: ctx.config.connectTo,
    allowPrivate: false,
    connections: 1
  });
  // Resume a week before the newest transaction seen: late-settling transactions are caught, keys dedupe.
  const last = await latestFinanceDay(ctx.db, 'opencollective');
  const dateFrom = last ? new Date(Date.parse(`${last}T00:00:00Z`) - 7 * 86_400_000).toISOString() : null;
  const entries: FinanceEntry[] = [];
  const issues: { line: null; message: string }[] = [];
  let offset = 0;
  let total = Infinity;
  let balance: { valueInCents: number | null; currency: string | null } | null = null;
  let failure: string | null = null;
  try {
    while (offset < total && !ctx.signal.aborted) {
      ctx.progress.status(`finances: Open Collective ${slug}: transactions from ${offset}`);
      const res = await request(fc.openCollectiveUrl, {
        method: 'POST',
        dispatcher,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': ctx.userAgent
        },
        body: JSON.stringify({
          query: TRANSACTIONS_QUERY,
          variables: { slug, limit: pageSize, offset, dateFrom }
        }),
        signal: ctx.signal
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of res.body as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new Error(`answer larger than ${MAX_ANSWER_BYTES / 1e6} MB`);
        }
        chunks.push(c);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      if (res.statusCode === 429) {
        failure = 'Open Collective rate limit reached (HTTP 429); the next run continues';
        break;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        failure = `HTTP ${res.statusCode}, not JSON`;
        break;
      }
      const parsed = parseTransactionsResponse(body);
      if ('error' in parsed) {
        failure = res.statusCode === 200 ? parsed.error : `HTTP ${res.statusCode}: ${parsed.error}`;
        break;
      }
      const { page } = parsed;
      if (offset === 0) balance = page.balance;
      total = page.totalCount;
      const got = transactionsToEntries(page.nodes, rates, slug);
      entries.push(...got.entries);
      issues.push(...got.issues);
      if (page.nodes.length === 0) break;
      offset += page.nodes.length;
    }
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    await dispatcher.close();
  }
  const now = ctx.now();
  if (entries.length > 0)
    await syncFinanceEntries(ctx.db, 'opencollective', entries, {
      runId: ctx.runId,
      now,
      replaceSource: false
    });
  if (balance && typeof balance.valueInCents === 'number' && balance.currency) {
    const cur = balance.currency.toUpperCase();
    const rate = rates.rateFor(cur, now.toISOString().slice(0, 10));
    await recordFinanceBalance(ctx.db, {
      source: 'opencollective',
      asOf: now,
      currency: cur,
      amountCents: balance.valueInCents,
      baseCents: rate === null ? null : convertCents(balance.valueInCents, rate),
      runId: ctx.runId
    });
  }
  await replaceFinanceIssues(
    ctx.db,
    'opencollective',
    failure ? [...issues, { line: null, message: failure }] : issues,
    ctx.runId,
    now
  );
  for (const i of issues.slice(0, MAX_ISSUES_SHOWN))
    ctx.progress.warn(`Open Collective ${slug}: ${i.message}`);
  const gotSomething = entries.length > 0 || balance !== null;
  if (failure && !gotSomething)
    return {
      source,
      status: 'failed',
      items: 0,
      errors: 1 + issues.length,
      message: `Open Collective ${slug}: ${failure}`
    };
  ctx.progress.line(
    `finances: Open Collective ${slug}: ${entries.length} entries${failure ? ` (stopped: ${failure})` : ''}`
  );
  return {
    source,
    status: failure || issues.length > 0 ? 'partial' : 'ok',
    items: entries.length,
    errors: issues.length + (failure ? 1 : 0),
    message: failure ?? (issues.length > 0 ? `${issues.length} transaction(s) not imported` : undefined)
  };
}

/**
 * `npm run collect -- finances`: the treasurer's ledger (FEDIPULSE_LEDGER) and/or an Open Collective
 * (FEDIPULSE_OPENCOLLECTIVE_SLUG), converted with the treasurer's rates (FEDIPULSE_FX_RATES).
 */
export async function collectFinances(
  ctx: CollectorContext,
  given?: FinanceConfig,
  oc: OcOptions = {}
): Promise<SourceResult[]> {
  let fc: FinanceConfig;
  try {
    fc = given ?? loadFinanceConfig();
  } catch (err) {
    return [{ source: 'finances', status: 'failed', items: 0, errors: 1, message: (err as Error).message }];
  }
  if (!fc.ledgerPath && !fc.openCollectiveSlug) {
    return [
      {
        source: 'finances',
        status: 'failed',
        items: 0,
        errors: 1,
        message:
          'nothing to import: set FEDIPULSE_LEDGER (a CSV file) or FEDIPULSE_OPENCOLLECTIVE_SLUG (docs/finances.md)'
      }
    ];
  }
  await saveFinanceSettings(ctx.db, fc);
  const { rates, issues: rateIssues, label } = loadRates(fc);
  for (const i of rateIssues) ctx.progress.warn(`${label}${i.line ? ` line ${i.line}` : ''}: ${i.message}`);
  await replaceFinanceIssues(ctx.db, 'rates', rateIssues, ctx.runId, ctx.now());
  const out: SourceResult[] = [];
  if (fc.ledgerPath) out.push(await importLedger(ctx, fc, rates));
  if (fc.openCollectiveSlug) out.push(await collectOpenCollective(ctx, fc, rates, oc));
  return out;
}
