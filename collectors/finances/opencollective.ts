import { convertCents, EXPENSE_CATEGORIES, type FinanceEntry } from './ledger.ts';
import type { Rates } from './rates.ts';

/**
 * Open Collective's public GraphQL API (v2): a collective's transactions and balance, no token needed
 * (10 requests a minute). Parsing here does no I/O; the collector in index.ts sends the requests.
 */
export const TRANSACTIONS_QUERY = `query FedipulseTransactions($slug: String!, $limit: Int!, $offset: Int!, $dateFrom: DateTime) {
  account(slug: $slug) {
    slug
    name
    currency
    stats {
      balance {
        valueInCents
        currency
      }
    }
    transactions(limit: $limit, offset: $offset, dateFrom: $dateFrom, orderBy: { field: CREATED_AT, direction: ASC }) {
      totalCount
      offset
      limit
      nodes {
        id
        kind
        type
        createdAt
        description
        isRefund
        amount {
          valueInCents
          currency
        }
        netAmount {
          valueInCents
          currency
        }
        oppositeAccount {
          slug
          name
        }
        expense {
          tags
        }
      }
    }
  }
}`;

export interface OcAmount {
  valueInCents: number | null;
  currency: string | null;
}

export interface OcTransaction {
  id: string;
  kind: string | null;
  type: 'CREDIT' | 'DEBIT';
  createdAt: string;
  description: string | null;
  isRefund?: boolean | null;
  amount: OcAmount;
  netAmount?: OcAmount | null;
  oppositeAccount?: { slug: string | null; name: string | null } | null;
  expense?: { tags: string[] | null } | null;
}

export interface OcPage {
  slug: string;
  name: string | null;
  currency: string | null;
  balance: OcAmount | null;
  totalCount: number;
  offset: number;
  nodes: OcTransaction[];
}

/** The page, or why the answer cannot be used (GraphQL errors come with HTTP 200). */
export function parseTransactionsResponse(body: unknown): { page: OcPage } | { error: string } {
  const b = body as {
    data?: { account?: Record<string, unknown> | null } | null;
    errors?: { message?: string }[];
  };
  if (!b || typeof b !== 'object') return { error: 'the answer is not a JSON object' };
  if (Array.isArray(b.errors) && b.errors.length > 0)
    return { error: `Open Collective says: ${b.errors.map((e) => e.message ?? 'error').join('; ')}` };
  const acc = b.data?.account as
    | {
        slug?: string;
        name?: string | null;
        currency?: string | null;
        stats?: { balance?: OcAmount | null } | null;
        transactions?: { totalCount?: number; offset?: number; nodes?: OcTransaction[] } | null;
      }
    | null
    | undefined;
  if (!acc) return { error: 'no such collective (data.account is null)' };
  const tx = acc.transactions;
  if (!tx || !Array.isArray(tx.nodes) || typeof tx.totalCount !== 'number')
    return { error: 'the answer has no transactions { totalCount nodes }' };
  return {
    page: {
      slug: acc.slug ?? '',
      name: acc.name ?? null,
      currency: acc.currency ?? null,
      balance: acc.stats?.balance ?? null,
      totalCount: tx.totalCount,
      offset: tx.offset ?? 0,
      nodes: tx.nodes
    }
  };
}

const INCOME_KINDS: Record<string, string> = {
  CONTRIBUTION: 'donation',
  ADDED_FUNDS: 'grant',
  BALANCE_TRANSFER: 'income',
  PREPAID_PAYMENT_METHOD: 'income'
};
const FEE_KINDS = new Set([
  'HOST_FEE',
  'HOST_FEE_SHARE',
  'HOST_FEE_SHARE_DEBT',
  'PAYMENT_PROCESSOR_FEE',
  'PAYMENT_PROCESSOR_COVER',
  'PAYMENT_PROCESSOR_DISPUTE_FEE',
  'PLATFORM_FEE',
  'PLATFORM_TIP_DEBT'
]);

/**
 * Transactions as entries. Contributions and added funds are income (a refund, a DEBIT, lowers it);
 * expenses and fees are costs (an expense category from the expense's first tag fedipulse knows). A fee
 * taken inside a transaction (amount − netAmount) becomes its own `fees` entry, so the entries add up to
 * what reached the collective. Transactions whose currency has no rate are returned as issues.
 */
export function transactionsToEntries(
  nodes: OcTransaction[],
  rates: Rates,
  slug: string
): { entries: FinanceEntry[]; issues: { line: null; message: string }[] } {
  const entries: FinanceEntry[] = [];
  const issues: { line: null; message: string }[] = [];
  for (const t of nodes) {
    const gross = t.amount?.valueInCents;
    const currency = (t.amount?.currency ?? '').toUpperCase();
    const day = (t.createdAt ?? '').slice(0, 10);
    if (typeof gross !== 'number' || !/^\d{4}-\d{2}-\d{2}$/.test(day) || !/^[A-Z]{3}$/.test(currency)) {
      issues.push({ line: null, message: `transaction ${t.id}: no amount, currency or date` });
      continue;
    }
    const rate = rates.rateFor(currency, day);
    if (rate === null) {
      issues.push({
        line: null,
        message: `transaction ${t.id}: no exchange rate for ${currency} on ${day} (FEDIPULSE_FX_RATES)`
      });
      continue;
    }
    const kind = t.kind ?? '';
    let direction: 'income' | 'expense';
    let category: string;
    let cents: number;
    if (kind in INCOME_KINDS) {
      direction = 'income';
      category = INCOME_KINDS[kind];
      cents = gross;
    } else if (kind === 'EXPENSE' || FEE_KINDS.has(kind)) {
      direction = 'expense';
      const tag = (t.expense?.tags ?? [])
        .map((x) => x.toLowerCase())
        .find((x) => EXPENSE_CATEGORIES.includes(x));
      category = kind === 'EXPENSE' ? (tag ?? 'other') : 'fees';
      cents = -gross;
    } else {
      direction = t.type === 'CREDIT' ? 'income' : 'expense';
      category = direction === 'income' ? 'income' : 'other';
      cents = direction === 'income' ? gross : -gross;
    }
    const common = {
      source: 'opencollective' as const,
      day,
      counterparty: t.oppositeAccount?.name ?? t.oppositeAccount?.slug ?? null,
      currency,
      fxRate: rate,
      origin: `opencollective ${slug} transaction ${t.id}`
    };
    entries.push({
      ...common,
      key: `oc:${t.id}`,
      direction,
      category,
      note: t.description ?? null,
      amountCents: cents,
      baseCents: convertCents(cents, rate)
    });
    const net = t.netAmount?.valueInCents;
    const fee = typeof net === 'number' ? gross - net : 0;
    if (fee !== 0) {
      entries.push({
        ...common,
        key: `oc:${t.id}:fee`,
        direction: 'expense',
        category: 'fees',
        note: `fees on ${t.description ?? t.id}`,
        amountCents: fee,
        baseCents: convertCents(fee, rate)
      });
    }
  }
  return { entries, issues };
}
