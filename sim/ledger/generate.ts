/**
 * The simulated co-op's books: three years of plausible income and costs, deterministic from a seed.
 * `npx node sim/ledger/generate.ts` rewrites sim/ledger/demo-ledger.csv (committed; the demo imports it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { rng, type Rng } from '../random.ts';

export interface LedgerOptions {
  seed?: number;
  /** First month (YYYY-MM) and number of months. */
  start?: string;
  months?: number;
}

const HEADER = 'date,amount,currency,category,counterparty,note';

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const money = (x: number) => x.toFixed(2);

function monthDay(year: number, month: number, day: number): string {
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${year}-${String(month + 1).padStart(2, '0')}-${String(Math.min(day, last)).padStart(2, '0')}`;
}

/** The ledger as CSV text. */
export function generateLedger(opts: LedgerOptions = {}): string {
  const r: Rng = rng(opts.seed ?? 2023);
  const [y0, m0] = (opts.start ?? '2023-11').split('-').map(Number) as [number, number];
  const months = opts.months ?? 36;
  const rows: [string, string, string, string, string, string][] = [];
  const add = (
    date: string,
    amount: number,
    currency: string,
    category: string,
    counterparty: string,
    note: string
  ) => rows.push([date, money(amount), currency, category, counterparty, note]);

  add(
    monthDay(y0, m0 - 1, 1),
    4200,
    'EUR',
    'opening_balance',
    '',
    'balance carried over from the founding year'
  );
  for (let i = 0; i < months; i++) {
    const year = y0 + Math.floor((m0 - 1 + i) / 12);
    const month = (m0 - 1 + i) % 12;
    const members = Math.round(140 + i * 9 + r() * 6);
    // Hosting by provider: the main servers (upgraded twice as the server grows) and a media proxy in USD.
    const hetzner = i < 10 ? 89 : i < 23 ? 139 : 189;
    add(monthDay(year, month, 3), hetzner, 'EUR', 'hosting', 'Hetzner Online', 'dedicated servers');
    add(monthDay(year, month, 5), i < 18 ? 24 : 48, 'USD', 'hosting', 'DigitalOcean', 'media proxy droplet');
    // Object storage grows with the media: about 85 GB a month at 0.02 EUR per GB.
    const gb = 520 + i * 85 + Math.round(r() * 20);
    add(
      monthDay(year, month, 7),
      Math.round(gb * 0.02 * 100) / 100,
      'EUR',
      'storage',
      'Scaleway',
      `object storage ${gb} GB`
    );
    add(monthDay(year, month, 9), 35, 'USD', 'email', 'Mailgun', 'transactional email');
    if (month === 10)
      add(monthDay(year, month, 12), 42, 'EUR', 'domain', 'Gandi', 'domain renewal, one year');
    if (month === 2)
      add(monthDay(year, month, 20), 360, 'EUR', 'accounting', 'Boekhouder Jansen', 'annual accounts');
    // Dues: 1.50 EUR a member a month, collected as one bank batch; fees on card donations.
    add(monthDay(year, month, 1), members * 1.5, 'EUR', 'dues', 'members', `dues, ${members} members`);
    const donations = 3 + Math.floor(r() * 5);
    let donated = 0;
    for (let d = 0; d < donations; d++) {
      const amount = [5, 10, 10, 20, 25, 50][Math.floor(r() * 6)];
      donated += amount;
      add(monthDay(year, month, 10 + d * 3), amount, 'EUR', 'donation', 'individual', 'donation');
    }
    // Two identical anonymous gifts on one day: both count (the import keeps identical rows apart).
    if (i % 6 === 2) {
      add(monthDay(year, month, 15), 10, 'EUR', 'donation', 'anonymous', 'cash at meetup');
      add(monthDay(year, month, 15), 10, 'EUR', 'donation', 'anonymous', 'cash at meetup');
    }
    add(
      monthDay(year, month, 28),
      Math.round(donated * 0.029 * 100) / 100 + 0.25 * donations,
      'EUR',
      'fees',
      'Stripe',
      'card fees'
    );
    // From the second year's autumn the co-op pays its moderators a stipend: costs now outgrow dues.
    if (i >= 20)
      add(monthDay(year, month, 25), 600, 'EUR', 'moderation', 'moderation team', 'moderator stipends');
    if (i === 6)
      add(monthDay(year, month, 15), 5000, 'EUR', 'grant', 'Stichting NLnet', 'grant for moderation tooling');
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  return [HEADER, ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
}

export const DEMO_RATES = `currency,rate,valid_from
USD,0.93,2023-01-01
USD,0.92,2024-01-01
USD,0.90,2025-01-01
USD,0.87,2026-01-01
GBP,1.16,
`;

if (import.meta.main) {
  const dir = import.meta.dirname;
  writeFileSync(path.join(dir, 'demo-ledger.csv'), generateLedger());
  writeFileSync(path.join(dir, 'rates.csv'), DEMO_RATES);
  process.stdout.write(`wrote ${path.join(dir, 'demo-ledger.csv')} and rates.csv\n`);
}
