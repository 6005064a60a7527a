import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadOnly, type Db } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { financeSection, financeSectionRows } from '../../src/lib/server/finances/index.ts';
import { ROOT, runCollect, tempDir } from '../helpers/index.ts';

const DEMO_LEDGER = path.join(ROOT, 'sim', 'ledger', 'demo-ledger.csv');
const DEMO_RATES = path.join(ROOT, 'sim', 'ledger', 'rates.csv');

async function snapshot(dbPath: string): Promise<Db> {
  return openReadOnly(latestSnapshot(dbPath)!);
}

describe('finances: ledger import through `npm run collect -- finances`', () => {
  const dir = tempDir('fedipulse-fin-');
  const dbPath = path.join(dir, 'f.duckdb');
  const ledger = path.join(dir, 'ledger.csv');
  const env = { FEDIPULSE_DB: dbPath, FEDIPULSE_LEDGER: ledger, FEDIPULSE_FX_RATES: 'USD=0.9' };
  const good = [
    'date,amount,currency,category,counterparty,note',
    '2026-01-01,1000.00,EUR,opening_balance,,',
    '2026-01-03,89.00,EUR,hosting,Hetzner,servers',
    '2026-01-09,35.00,USD,email,Mailgun,',
    '2026-01-15,10.00,EUR,donation,anonymous,cash',
    '2026-01-15,10.00,EUR,donation,anonymous,cash'
  ];

  it('stores good rows, reports broken ones by line, and exits 0', async () => {
    writeFileSync(
      ledger,
      [...good, '2026-01-20,12,50,EUR,dues,,', '2026-13-01,5,EUR,dues,,'].join('\n') + '\n'
    );
    const r = await runCollect(['finances', '--quiet'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ledger\.csv line 7: 7 values, but the header names 6 columns/);
    expect(r.stderr).toMatch(/ledger\.csv line 8: date "2026-13-01" is not a day of the calendar/);
    const db = await snapshot(dbPath);
    try {
      const rows = await db.all<{ n: number; total: number }>(
        `SELECT count(*) AS n, sum(amount_base)::DOUBLE AS total FROM finance_entries WHERE direction <> 'opening'`
      );
      expect(rows[0]).toEqual({ n: 4, total: 89 + 31.5 + 20 });
      const issues = await db.all<{ line: number }>(
        `SELECT line FROM finance_issues WHERE source = 'ledger' ORDER BY line`
      );
      expect(issues.map((i) => i.line)).toEqual([7, 8]);
      const run = await db.one<{ status: string }>(
        'SELECT status FROM collection_runs ORDER BY run_id DESC LIMIT 1'
      );
      expect(run?.status).toBe('partial');
    } finally {
      db.close();
    }
  });

  it('re-importing the same books changes nothing; a corrected row replaces the old one', async () => {
    writeFileSync(ledger, good.join('\n') + '\n');
    const keys = async () => {
      const db = await snapshot(dbPath);
      try {
        return (await db.all<{ k: string }>('SELECT entry_key AS k FROM finance_entries ORDER BY 1')).map(
          (r) => r.k
        );
      } finally {
        db.close();
      }
    };
    expect((await runCollect(['finances', '--quiet'], env)).code).toBe(0);
    const first = await keys();
    expect((await runCollect(['finances', '--quiet'], env)).code).toBe(0);
    expect(await keys()).toEqual(first);
    expect(first).toHaveLength(5);
    writeFileSync(ledger, good.map((l) => l.replace('89.00', '98.00')).join('\n') + '\n');
    expect((await runCollect(['finances', '--quiet'], env)).code).toBe(0);
    const db = await snapshot(dbPath);
    try {
      const hosting = await db.all<{ amount: number }>(
        `SELECT amount::DOUBLE AS amount FROM finance_entries WHERE category = 'hosting'`
      );
      expect(hosting).toEqual([{ amount: 98 }]);
      expect(await db.one(`SELECT count(*) AS n FROM finance_issues WHERE source = 'ledger'`)).toEqual({
        n: 0
      });
    } finally {
      db.close();
    }
  });

  it('exits non-zero, keeping the books, when no row can be read or nothing is configured', async () => {
    writeFileSync(ledger, 'date,amount,currency,category\n2026-01-01,abc,EUR,hosting\n');
    const r = await runCollect(['finances', '--quiet'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nothing collected: .*no row of ledger\.csv could be read \(line 2: amount "abc"/
    );
    const none = await runCollect(['finances', '--quiet'], { FEDIPULSE_DB: dbPath, FEDIPULSE_LEDGER: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/set FEDIPULSE_LEDGER/);
    const db = await snapshot(dbPath);
    try {
      expect(await db.one(`SELECT count(*) AS n FROM finance_entries`)).toEqual({ n: 5 });
    } finally {
      db.close();
    }
  });
});

/** Totals computed from the CSV with the simplest code possible, to check the views against. */
function handTotals() {
  const rates = readFileSync(DEMO_RATES, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .map(([currency, rate, from]) => ({ currency, rate: Number(rate), from }));
  const rateFor = (cur: string, day: string) =>
    cur === 'EUR'
      ? 1
      : rates
          .filter((r) => r.currency === cur && (r.from === '' || r.from <= day))
          .sort((a, b) => b.from.localeCompare(a.from))[0].rate;
  const income = new Map<string, number>();
  const expenses = new Map<string, number>();
  const monthly = new Map<string, { income: number; expenses: number; opening: number }>();
  const incomeCats = ['dues', 'donation', 'grant'];
  for (const line of readFileSync(DEMO_LEDGER, 'utf8').trim().split('\n').slice(1)) {
    const [date, amount, currency, category] = line.split(','); // the first four fields never hold quotes
    const cents = Math.round(Math.round(Number(amount) * 100) * rateFor(currency, date));
    const month = date.slice(0, 7);
    const m = monthly.get(month) ?? { income: 0, expenses: 0, opening: 0 };
    if (category === 'opening_balance') m.opening += cents;
    else if (incomeCats.includes(category)) {
      m.income += cents;
      income.set(`${month}|${category}`, (income.get(`${month}|${category}`) ?? 0) + cents);
    } else {
      m.expenses += cents;
      expenses.set(`${month}|${category}`, (expenses.get(`${month}|${category}`) ?? 0) + cents);
    }
    monthly.set(month, m);
  }
  return { income, expenses, monthly };
}

describe('finances: the views match totals computed by hand for the demo ledger', () => {
  const dbPath = path.join(tempDir('fedipulse-fin-demo-'), 'f.duckdb');
  let db: Db;
  beforeAll(async () => {
    const r = await runCollect(['finances', '--quiet'], {
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_LEDGER: DEMO_LEDGER,
      FEDIPULSE_FX_RATES: DEMO_RATES,
      FEDIPULSE_RESERVE_MONTHS: '6'
    });
    expect(r.stderr).not.toMatch(/line \d+:/);
    expect(r.code).toBe(0);
    db = await snapshot(dbPath);
  });
  afterAll(() => db?.close());

  it('finance_monthly: income and expenses by month and category', async () => {
    const hand = handTotals();
    const rows = await db.all<{ month: string; direction: string; category: string; amount: number }>(
      `SELECT strftime(month, '%Y-%m') AS month, direction, category, amount FROM finance_monthly`
    );
    const got = (dir: string) =>
      new Map(
        rows
          .filter((r) => r.direction === dir)
          .map((r) => [`${r.month}|${r.category}`, Math.round(r.amount * 100)])
      );
    expect(got('income')).toEqual(hand.income);
    expect(got('expense')).toEqual(hand.expenses);
    expect(rows.length).toBe(hand.income.size + hand.expenses.size);
  });

  it('finance_monthly_totals and finance_measures: balance, monthly cost, net burn and runway', async () => {
    const hand = handTotals();
    const months = [...hand.monthly.keys()].sort();
    expect(months).toHaveLength(36);
    const rows = await db.all<{ month: string; income: number; expenses: number; balance: number }>(
      `SELECT strftime(month, '%Y-%m') AS month, income, expenses, balance FROM finance_monthly_totals ORDER BY month`
    );
    let balance = 0;
    const expected = months.map((m) => {
      const t = hand.monthly.get(m)!;
      balance += t.opening + t.income - t.expenses;
      return { month: m, income: t.income, expenses: t.expenses, balance };
    });
    expect(
      rows.map((r) => ({
        month: r.month,
        income: Math.round(r.income * 100),
        expenses: Math.round(r.expenses * 100),
        balance: Math.round(r.balance * 100)
      }))
    ).toEqual(expected);
    const last3 = expected.slice(-3);
    const burn = last3.reduce((a, m) => a + m.expenses - m.income, 0) / 3 / 100;
    const cost = last3.reduce((a, m) => a + m.expenses, 0) / 3 / 100;
    const m = await db.one<{
      monthly_cost: number;
      net_burn_3m: number;
      runway_months: number;
      reserve_target: number;
      reserve_met: boolean;
    }>(
      `SELECT monthly_cost, net_burn_3m, runway_months, reserve_target, reserve_met FROM finance_measures ORDER BY month DESC LIMIT 1`
    );
    expect(m!.monthly_cost).toBeCloseTo(last3[2].expenses / 100, 2);
    expect(m!.net_burn_3m).toBeCloseTo(burn, 6);
    expect(burn).toBeGreaterThan(0); // the demo co-op burns money in its third year
    expect(m!.runway_months).toBeCloseTo(last3[2].balance / 100 / burn, 6);
    expect(m!.reserve_target).toBeCloseTo(6 * cost, 6);
    expect(m!.reserve_met).toBe(last3[2].balance / 100 >= 6 * cost);
  });

  it("financeSection: the transparency report's totals by category for a quarter, and its off switch", async () => {
    const hand = handTotals();
    const s = await financeSection(db, '2026-07-01', '2026-10-01', {});
    expect(s).not.toBeNull();
    const sum = (map: Map<string, number>, cat: string) =>
      ['2026-07', '2026-08', '2026-09'].reduce((a, m) => a + (map.get(`${m}|${cat}`) ?? 0), 0) / 100;
    for (const t of s!.expenses) expect(t.amount).toBeCloseTo(sum(hand.expenses, t.category), 2);
    for (const t of s!.income) expect(t.amount).toBeCloseTo(sum(hand.income, t.category), 2);
    expect(s!.expenses.map((t) => t.category).sort()).toEqual([
      'email',
      'fees',
      'hosting',
      'moderation',
      'storage'
    ]);
    expect(s!.currency).toBe('EUR');
    expect(s!.runwayMonths).toBeGreaterThan(0);
    expect(s!.costPerActiveMember).toBeNull(); // no active-user figures collected in this database
    expect(financeSectionRows(s!).find((r) => r.metric === 'expenses.total')?.value).toBe(s!.totalExpenses);
    expect(
      await financeSection(db, '2026-07-01', '2026-10-01', { FEDIPULSE_PUBLISH_FINANCES: 'false' })
    ).toBeNull();
  });
});
