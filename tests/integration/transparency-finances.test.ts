import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadOnly } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { ROOT, runCollect, startDashboard, tempDir, type Dashboard } from '../helpers/index.ts';

/** The report's finances section (schema 1.1, 1.2) against the demo co-op's books, straight from the views. */
const env = {
  FEDIPULSE_DB: path.join(tempDir('fedipulse-tfin-'), 'f.duckdb'),
  FEDIPULSE_LEDGER: path.join(ROOT, 'sim', 'ledger', 'demo-ledger.csv'),
  FEDIPULSE_FX_RATES: path.join(ROOT, 'sim', 'ledger', 'rates.csv'),
  FEDIPULSE_TRANSPARENCY_PERIOD: 'quarter'
};
const PERIOD = '2026-Q3';
let expected: { direction: string; category: string; amount: number }[];
let dashboard: Dashboard;

beforeAll(async () => {
  const r = await runCollect(['finances', '--quiet'], env);
  expect(r.code).toBe(0);
  const db = await openReadOnly(latestSnapshot(env.FEDIPULSE_DB)!);
  try {
    expected = await db.all(
      `SELECT direction, category, round(sum(amount), 2)::DOUBLE AS amount FROM finance_monthly
       WHERE month >= DATE '2026-07-01' AND month < DATE '2026-10-01' GROUP BY ALL ORDER BY ALL`
    );
  } finally {
    db.close();
  }
  dashboard = await startDashboard(env);
});
afterAll(async () => dashboard?.stop());

interface Section {
  currency: string;
  income: { category: string; amount: number }[];
  expenses: { category: string; amount: number }[];
  totalIncome: number;
  totalExpenses: number;
}

describe('transparency report: finances section', () => {
  it('the JSON carries totals by category equal to finance_monthly for the quarter', async () => {
    const res = await fetch(`${dashboard.url}/transparency/${PERIOD}.json`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      schema_version: string;
      finances: (Section & { activeMembers: number | null; activeMembersSuppressed: boolean }) | null;
      members: { active: { value: number | null; suppressed: boolean } };
    };
    // Active members in the books are the report's members.active: published or hidden together.
    expect(report.finances!.activeMembers).toBe(report.members.active.value);
    expect(report.finances!.activeMembersSuppressed).toBe(report.members.active.suppressed);
    expect(report.schema_version).toBe('1.2');
    const f = report.finances!;
    expect(f.currency).toBe('EUR');
    const got = [
      ...f.income.map((t) => ({ direction: 'income', ...t })),
      ...f.expenses.map((t) => ({ direction: 'expense', ...t }))
    ].sort((a, b) => `${a.direction}${a.category}`.localeCompare(`${b.direction}${b.category}`));
    expect(got.map((t) => [t.direction, t.category, Math.round(t.amount * 100)])).toEqual(
      expected.map((t) => [t.direction, t.category, Math.round(t.amount * 100)])
    );
    const sum = (d: string) => expected.filter((t) => t.direction === d).reduce((a, t) => a + t.amount, 0);
    expect(f.totalIncome).toBeCloseTo(sum('income'), 2);
    expect(f.totalExpenses).toBeCloseTo(sum('expense'), 2);
  });

  it('the page and the CSV show the same totals', async () => {
    const html = await (await fetch(`${dashboard.url}/transparency/${PERIOD}`)).text();
    expect(html).toContain('<h2>Finances</h2>');
    expect(html).toMatch(/data-metric="finances.income.total"/);
    const csv = await (await fetch(`${dashboard.url}/transparency/${PERIOD}.csv`)).text();
    const total = expected.filter((t) => t.direction === 'expense').reduce((a, t) => a + t.amount, 0);
    const row = csv.split('\r\n').find((l) => l.startsWith(`1.2,${PERIOD},finances,expenses.total,`));
    expect(Number(row!.split(',')[5])).toBeCloseTo(total, 2);
  });

  it('a co-op that publishes its books elsewhere switches the section off', async () => {
    const off = await startDashboard({ ...env, FEDIPULSE_PUBLISH_FINANCES: 'false' });
    try {
      const report = (await (await fetch(`${off.url}/transparency/${PERIOD}.json`)).json()) as {
        finances: unknown;
      };
      expect(report.finances).toBeNull();
      const html = await (await fetch(`${off.url}/transparency/${PERIOD}`)).text();
      expect(html).not.toContain('<h2>Finances</h2>');
    } finally {
      await off.stop();
    }
  });
});
