import { convertCents, EXPENSE_CATEGORIES, isCalendarDay, type FinanceEntry } from './ledger.ts';
import { isObject, str, type JsonObject } from '../json.ts';
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
  type: 'CREDIT' | 'DEBIT' | null;
  createdAt: string | null;
  description: string | null;
  amount: OcAmount | null;
  netAmount: OcAmount | null;
  oppositeAccount: { slug: string | null; name: string | null } | null;
  expense: { tags: string[] } | null;
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

// The answer is read field by field: whatever the API (or a proxy in front of it) sends, what leaves this
// module has the declared types, and no amount is a NaN, an Infinity or past 2^53.
const obj = (v: unknown): JsonObject | null => (isObject(v) ? v : null);
const int = (v: unknown): number | null => (Number.isSafeInteger(v) ? (v as number) : null);

function amount(v: unknown): OcAmount | null {
  const a = obj(v);
  return a ? { valueInCents: int(a.valueInCents), currency: str(a.currency) } : null;
}

function transaction(v: unknown): OcTransaction | null {
  const t = obj(v);
  const id = t && (str(t.id) ?? (int(t.id) === null ? null : String(t.id)));
  if (!t || !id) return null;
  const other = obj(t.oppositeAccount);
  const tags = obj(t.expense)?.tags;
  return {
    id,
    kind: str(t.kind),
    type: t.type === 'CREDIT' || t.type === 'DEBIT' ? t.type : null,
    createdAt: str(t.createdAt),
    description: str(t.description),
    amount: amount(t.amount),
    netAmount: amount(t.netAmount),
    oppositeAccount: other ? { slug: str(other.slug), name: str(other.name) } : null,
    expense:
      t.expense == null
        ? null
        : { tags: Array.isArray(tags) ? tags.filter((x) => typeof x === 'string') : [] }
  };
}

/** The page, or why the answer cannot be used (GraphQL errors come with HTTP 200). */
export function parseTransactionsResponse(body: unknown): { page: OcPage } | { error: string } {
  const b = obj(body);
  if (!b) return { error: 'the answer is not a JSON object' };
  if (Array.isArray(b.errors) && b.errors.length > 0)
    return {
      error: `Open Collective says: ${b.errors.map((e) => str(obj(e)?.message) ?? 'error').join('; ')}`
    };
  const acc = obj(obj(b.data)?.account);
  if (!acc) return { error: 'no such collective (data.account is null)' };
  const tx = obj(acc.transactions);
  const totalCount = int(tx?.totalCount);
  if (!tx || !Array.isArray(tx.nodes) || totalCount === null || totalCount < 0)
    return { error: 'the answer has no transactions { totalCount nodes }' };
  const nodes = tx.nodes.map(transaction);
  if (nodes.includes(null)) return { error: 'a transaction in the answer has no id' };
  const offset = int(tx.offset);
  return {
    page: {
      slug: str(acc.slug) ?? '',
      name: str(acc.name),
      currency: str(acc.currency),
      balance: amount(obj(acc.stats)?.balance),
      totalCount,
      offset: offset !== null && offset >= 0 ? offset : 0,
      nodes: nodes as OcTransaction[]
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
    const gross = t.amount?.valueInCents ?? null;
    const currency = (t.amount?.currency ?? '').toUpperCase();
    const day = (t.createdAt ?? '').slice(0, 10);
    if (gross === null || !isCalendarDay(day) || !/^[A-Z]{3}$/.test(currency)) {
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
    const net = t.netAmount?.valueInCents ?? null;
    const fee = net === null ? 0 : gross - net;
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
