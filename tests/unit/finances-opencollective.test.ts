import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseTransactionsResponse,
  transactionsToEntries
} from '../../collectors/finances/opencollective.ts';
import { Rates } from '../../collectors/finances/rates.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'opencollective', name), 'utf8'));

describe('Open Collective responses', () => {
  it("turns a collective's transactions into income, costs and fees that add up to the net", () => {
    const parsed = parseTransactionsResponse(fixture('account-transactions.json'));
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.page.balance).toEqual({ valueInCents: 123456, currency: 'EUR' });
    expect(parsed.page.totalCount).toBe(7);
    const { entries, issues } = transactionsToEntries(
      parsed.page.nodes,
      new Rates('EUR', [{ currency: 'USD', rate: 0.9, validFrom: null }]),
      'coop-social'
    );
    expect(issues).toEqual([]);
    const pick = (key: string) => entries.find((e) => e.key === key);
    expect(pick('oc:8kq3w0ya-n7dlzoge-ox9mbre5-v4jpxekg')).toMatchObject({
      direction: 'income',
      category: 'donation',
      amountCents: 500,
      counterparty: 'Alice'
    });
    expect(pick('oc:8kq3w0ya-n7dlzoge-ox9mbre5-v4jpxekg:fee')).toMatchObject({
      direction: 'expense',
      category: 'fees',
      amountCents: 60
    });
    expect(pick('oc:ebzx5pyr-4mdgjae8-q7vqn0lo-91kw3o6l')).toMatchObject({
      currency: 'USD',
      amountCents: 2500,
      baseCents: 2250
    });
    expect(pick('oc:lzmv8og9-3x0nyk7r-1j5xbeqd-apw64dk7')).toMatchObject({
      direction: 'expense',
      category: 'hosting',
      amountCents: 8900
    });
    expect(pick('oc:q0ye7pnj-rdx38v4a-k9wbo5gm-lm1zj8b3')).toMatchObject({
      direction: 'expense',
      category: 'fees',
      amountCents: 50
    });
    expect(pick('oc:w9d4ojzq-b8xg7l3m-ayv0kr5e-6n3pmz1x')).toMatchObject({
      direction: 'income',
      category: 'grant',
      amountCents: 100000
    });
    expect(pick('oc:p3k8ml2v-7z0qxr9w-db4ey1oa-jg6nv5ct')).toMatchObject({
      direction: 'income',
      category: 'donation',
      amountCents: -1000
    });
    expect(pick('oc:z6y5xw4v-3u2t1s0r-q9p8o7n6-m5l4k3j2')).toMatchObject({
      category: 'other',
      amountCents: 3000
    });
    expect(pick('oc:z6y5xw4v-3u2t1s0r-q9p8o7n6-m5l4k3j2:fee')).toMatchObject({
      category: 'fees',
      amountCents: 90
    });
    // Income minus costs equals the sum of the net amounts (in the base currency).
    const net = entries.reduce((a, e) => a + (e.direction === 'income' ? e.baseCents : -e.baseCents), 0);
    expect(net).toBe(440 + 2250 - 8900 - 50 + 100000 - 1000 - 3090);
  });

  it('reports a transaction in a currency without a rate instead of guessing', () => {
    const parsed = parseTransactionsResponse(fixture('account-transactions.json'));
    if ('error' in parsed) throw new Error(parsed.error);
    const { entries, issues } = transactionsToEntries(parsed.page.nodes, new Rates('EUR', []), 'coop-social');
    expect(entries.some((e) => e.currency === 'USD')).toBe(false);
    expect(issues).toEqual([
      { line: null, message: expect.stringMatching(/no exchange rate for USD on 2026-07-15/) }
    ]);
  });

  it('says why an answer cannot be used', () => {
    expect(parseTransactionsResponse(fixture('account-not-found.json'))).toEqual({
      error: 'Open Collective says: No account found with slug no-such-collective'
    });
    expect(parseTransactionsResponse({ data: { account: { slug: 'x' } } })).toEqual({
      error: 'the answer has no transactions { totalCount nodes }'
    });
  });

  it('never hands on a value of the wrong type: a bad transaction becomes an issue, a bad page an error', () => {
    // The documented answer, its first transaction renamed t1 (a contribution with a fee), parts replaced.
    const answer = fixture('account-transactions.json');
    const node = { ...answer.data.account.transactions.nodes[0], id: 't1' };
    const page = (account: object) => ({
      data: {
        account: {
          ...answer.data.account,
          transactions: { totalCount: 4, offset: 0, nodes: [node] },
          ...account
        }
      }
    });
    const rates = new Rates('EUR', []);

    // Amounts a careless proxy might send, and a day that is not in the calendar.
    const parsed = parseTransactionsResponse(
      page({
        slug: 42,
        stats: { balance: { valueInCents: Infinity, currency: 'EUR' } },
        transactions: {
          totalCount: 4,
          offset: 'x',
          nodes: [
            node,
            { ...node, id: 't2', amount: { valueInCents: '500', currency: 'EUR' } },
            { ...node, id: 't3', amount: { valueInCents: 2 ** 53, currency: 'EUR' } },
            { ...node, id: 't4', createdAt: '2026-02-30T00:00:00Z' }
          ]
        }
      })
    );
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.page).toMatchObject({
      slug: '',
      balance: { valueInCents: null },
      offset: 0,
      totalCount: 4
    });
    const { entries, issues } = transactionsToEntries(parsed.page.nodes, rates, 'coop');
    expect(entries.map((e) => e.key)).toEqual(['oc:t1', 'oc:t1:fee']);
    expect(issues.map((i) => i.message)).toEqual([
      'transaction t2: no amount, currency or date',
      'transaction t3: no amount, currency or date',
      'transaction t4: no amount, currency or date'
    ]);

    for (const bad of [
      page({ transactions: { totalCount: Infinity, nodes: [node] } }),
      page({ transactions: { totalCount: '4', nodes: [node] } })
    ])
      expect(parseTransactionsResponse(bad)).toEqual({
        error: 'the answer has no transactions { totalCount nodes }'
      });
    expect(
      parseTransactionsResponse(page({ transactions: { totalCount: 1, nodes: [{ ...node, id: null }] } }))
    ).toEqual({
      error: 'a transaction in the answer has no id'
    });
  });
});
