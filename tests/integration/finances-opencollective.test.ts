import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFinanceConfig } from '../../collectors/finances/config.ts';
import { collectFinances } from '../../collectors/finances/index.ts';
import { silentProgress } from '../../collectors/progress.ts';
import { closeWriter, openReadOnly, openWriter } from '../../collectors/store/database.ts';
import { startRun } from '../../collectors/store/runs.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { createCa, issue, type Ca } from '../../sim/tls.ts';
import { runCollect, tempDir } from '../helpers/index.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'opencollective');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));

interface Seen {
  slug: string;
  offset: number;
  limit: number;
  dateFrom: string | null;
  userAgent: string;
}

/** Replays the documented responses: nodes sliced by offset/limit and filtered by dateFrom, as the API does. */
async function startReplay(ca: Ca): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const leaf = await issue(ca, ['api.opencollective.com']);
  const seen: Seen[] = [];
  const server = https.createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'POST' || req.url !== '/graphql/v2') return send(404, { error: 'not found' });
      const { query, variables } = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
      const v = {
        slug: String(variables.slug),
        offset: Number(variables.offset),
        limit: Number(variables.limit),
        dateFrom: (variables.dateFrom as string | null) ?? null
      };
      seen.push({ ...v, userAgent: String(req.headers['user-agent']) });
      if (!/account\(slug: \$slug\)/.test(query) || !/transactions\(/.test(query))
        return send(400, { errors: [{ message: 'unexpected query' }] });
      if (v.slug === 'rate-limited') return send(429, { error: 'Rate limit exceeded' });
      if (v.slug !== 'coop-social') return send(200, fixture('account-not-found.json'));
      const full = fixture('account-transactions.json');
      const tx = full.data.account.transactions;
      const nodes = (tx.nodes as { createdAt: string }[]).filter(
        (n) => !v.dateFrom || n.createdAt >= v.dateFrom
      );
      tx.totalCount = nodes.length;
      tx.offset = v.offset;
      tx.limit = v.limit;
      tx.nodes = nodes.slice(v.offset, v.offset + v.limit);
      send(200, full);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r()))
  };
}

describe('finances: Open Collective, against a replay of its documented responses', () => {
  let ca: Ca;
  let replay: Awaited<ReturnType<typeof startReplay>>;
  let env: Record<string, string>;
  const dbPath = path.join(tempDir('fedipulse-oc-'), 'f.duckdb');

  beforeAll(async () => {
    ca = await createCa(tempDir('fedipulse-oc-ca-'));
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), ca.cert]);
    replay = await startReplay(ca);
    env = {
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_LEDGER: '',
      FEDIPULSE_OPENCOLLECTIVE_SLUG: 'coop-social',
      FEDIPULSE_FX_RATES: 'USD=0.9',
      FEDIPULSE_CONNECT_TO: `api.opencollective.com:443:127.0.0.1:${replay.port}`,
      NODE_EXTRA_CA_CERTS: ca.certPath
    };
  });
  afterAll(async () => replay?.close());

  it('collects the transactions and the balance, and a second run adds nothing', async () => {
    const r = await runCollect(['finances', '--quiet'], env);
    expect(r.stderr).toMatch(/Open Collective coop-social: 9 entries/);
    expect(r.code).toBe(0);
    expect(replay.seen[0]).toMatchObject({ slug: 'coop-social', offset: 0, dateFrom: null });
    expect(replay.seen[0].userAgent).toMatch(/^fedipulse\//);
    const again = await runCollect(['finances', '--quiet'], env);
    expect(again.code).toBe(0);
    // The second run resumes a week before the newest transaction it has.
    expect(replay.seen.at(-1)?.dateFrom).toBe('2026-08-14T00:00:00.000Z');
    const db = await openReadOnly(latestSnapshot(dbPath)!);
    try {
      const t = await db.one<{ n: number; income: number; expenses: number }>(
        `SELECT count(*) AS n, sum(amount_base) FILTER (WHERE direction = 'income')::DOUBLE AS income,
           sum(amount_base) FILTER (WHERE direction = 'expense')::DOUBLE AS expenses FROM finance_entries`
      );
      expect(t).toEqual({ n: 9, income: 5 + 22.5 + 1000 - 10, expenses: 0.6 + 89 + 0.5 + 30 + 0.9 });
      const b = await db.all(`SELECT currency, amount::DOUBLE AS amount FROM finance_balances`);
      expect(b).toEqual([
        { currency: 'EUR', amount: 1234.56 },
        { currency: 'EUR', amount: 1234.56 }
      ]);
      const months = await db.all(
        `SELECT strftime(month, '%Y-%m') AS m, income, expenses FROM finance_monthly_totals ORDER BY m`
      );
      expect(months).toEqual([
        { m: '2026-07', income: 27.5, expenses: 90.1 },
        { m: '2026-08', income: 990, expenses: 30.9 }
      ]);
    } finally {
      db.close();
    }
  });

  it('pages through the transactions', async () => {
    const file = path.join(tempDir('fedipulse-oc-page-'), 'f.duckdb');
    const db = await openWriter(file, 'finances');
    const before = replay.seen.length;
    try {
      const config = loadConfig({ FEDIPULSE_DB: file, FEDIPULSE_CONNECT_TO: env.FEDIPULSE_CONNECT_TO });
      const now = () => new Date('2026-09-01T00:00:00Z');
      const runId = await startRun(db, 'finances', now());
      const ctx = {
        config,
        db,
        runId,
        now,
        progress: silentProgress,
        userAgent: 'fedipulse/test',
        signal: new AbortController().signal
      } as unknown as Parameters<typeof collectFinances>[0];
      const fc = loadFinanceConfig({
        FEDIPULSE_OPENCOLLECTIVE_SLUG: 'coop-social',
        FEDIPULSE_FX_RATES: 'USD=0.9'
      });
      const [res] = await collectFinances(ctx, fc, { pageSize: 3 });
      expect(res).toMatchObject({ source: 'finances.opencollective', status: 'ok', items: 9 });
      expect(replay.seen.slice(before).map((s) => s.offset)).toEqual([0, 3, 6]);
    } finally {
      closeWriter(db);
    }
  });

  it('says why when the collective is unknown or the rate limit is reached', async () => {
    const unknown = await runCollect(['finances', '--quiet'], {
      ...env,
      FEDIPULSE_DB: path.join(tempDir(), 'x.duckdb'),
      FEDIPULSE_OPENCOLLECTIVE_SLUG: 'no-such-collective'
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Open Collective says: No account found with slug no-such-collective/);
    const limited = await runCollect(['finances', '--quiet'], {
      ...env,
      FEDIPULSE_DB: path.join(tempDir(), 'y.duckdb'),
      FEDIPULSE_OPENCOLLECTIVE_SLUG: 'rate-limited'
    });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/rate limit reached \(HTTP 429\)/);
  });
});
