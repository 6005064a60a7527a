import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../collectors/finances/csv.ts';
import { convertCents, parseAmount, parseLedger } from '../../collectors/finances/ledger.ts';
import { parseRates, Rates } from '../../collectors/finances/rates.ts';

const eur = new Rates('EUR', [
  { currency: 'USD', rate: 0.9, validFrom: '2025-01-01' },
  { currency: 'USD', rate: 0.8, validFrom: '2026-01-01' }
]);

const HEADER = 'date,amount,currency,category,counterparty,note';

describe('ledger CSV import', () => {
  it('reads good rows and reports each broken one with its line and what is wrong', () => {
    const text = [
      HEADER,
      '2026-01-03,89.00,EUR,hosting,Hetzner,servers',
      '2026-01-04,12,50,EUR,hosting,Hetzner,oops', // unquoted decimal comma: too many values
      '2026-02-30,10.00,EUR,donation,,', // not a calendar day
      '03/04/2026,10.00,EUR,donation,,', // wrong date format
      '2026-01-05,€12,EUR,email,Mailgun,', // currency sign
      '2026-01-06,12.5,XXXX,email,Mailgun,',
      '2026-01-07,35.00,CHF,email,Mailgun,', // no rate
      '2026-01-08,20.00,EUR,party,,', // unknown category, no direction
      '2026-01-09,"1,234.00",EUR,grant,"NLnet, Stichting",', // thousands separator
      '2026-01-10,35.00,USD,email,Mailgun,"note, with comma"',
      '2026-01-11,5.00,,donation,,no currency: the base one'
    ].join('\n');
    const { entries, issues } = parseLedger(text, eur, 'books.csv');
    expect(entries.map((e) => e.origin)).toEqual([
      'books.csv line 2',
      'books.csv line 11',
      'books.csv line 12'
    ]);
    const byLine = Object.fromEntries(issues.map((i) => [i.line, i.message]));
    expect(Object.keys(byLine).map(Number)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(byLine[3]).toMatch(/7 values, but the header names 6 columns.*needs quotes/);
    expect(byLine[4]).toMatch(/not a day of the calendar/);
    expect(byLine[5]).toMatch(/not a date as YYYY-MM-DD/);
    expect(byLine[6]).toMatch(/not a plain number: leave out currency signs/);
    expect(byLine[7]).toMatch(/currency "XXXX" is not a 3-letter code/);
    expect(byLine[8]).toMatch(/no exchange rate for CHF on 2026-01-07/);
    expect(byLine[9]).toMatch(/category "party" is not one fedipulse knows.*direction column/);
    expect(byLine[10]).toMatch(/thousands separator/);
    const usd = entries[1];
    expect(usd).toMatchObject({
      currency: 'USD',
      amountCents: 3500,
      fxRate: 0.8,
      baseCents: 2800,
      note: 'note, with comma'
    });
    expect(entries[2]).toMatchObject({ currency: 'EUR', amountCents: 500, direction: 'income' });
  });

  it('keys rows by content: re-sorted books give the same keys, identical rows stay apart', () => {
    const rows = [
      '2026-01-15,10.00,EUR,donation,anonymous,cash',
      '2026-01-15,10.00,EUR,donation,anonymous,cash',
      '2026-01-03,89.00,EUR,hosting,Hetzner,'
    ];
    const a = parseLedger([HEADER, ...rows].join('\n'), eur).entries.map((e) => e.key);
    const b = parseLedger([HEADER, ...rows.slice().reverse()].join('\r\n'), eur).entries.map((e) => e.key);
    expect(new Set(a).size).toBe(3);
    expect(new Set(b)).toEqual(new Set(a));
  });

  it('takes a direction column for categories of its own, and refuses one that contradicts the category', () => {
    const text = [
      'date,amount,currency,category,direction',
      '2026-01-01,50,EUR,t-shirts,income',
      '2026-01-02,50,EUR,hosting,income'
    ].join('\n');
    const { entries, issues } = parseLedger(text, eur);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ category: 't-shirts', direction: 'income' });
    expect(issues).toEqual([
      { line: 3, message: 'category "hosting" is expense, but direction says income' }
    ]);
  });

  it('names missing columns in the header', () => {
    const { entries, issues } = parseLedger('day,amount\n2026-01-01,5', eur);
    expect(entries).toHaveLength(0);
    expect(issues[0].line).toBe(1);
    expect(issues[0].message).toMatch(/lacks date, currency, category/);
  });

  it('reports the starting line of records that span lines, and reads semicolon exports', () => {
    const text = [
      'date;amount;currency;category;note',
      '2026-01-01;5.00;EUR;donation;"two',
      'lines"',
      '2026-01-02;x;EUR;donation;'
    ].join('\n');
    const { entries, issues } = parseLedger(text, eur);
    expect(entries[0].note).toBe('two\nlines');
    expect(issues).toEqual([{ line: 4, message: 'amount "x" is not a number (e.g. 12.50 or -3)' }]);
  });

  it('parses amounts exactly and converts to the cent', () => {
    expect(parseAmount('12.5')).toEqual({ cents: 1250 });
    expect(parseAmount('-0.05')).toEqual({ cents: -5 });
    expect(parseAmount('12,50')).toEqual({ error: expect.stringMatching(/dot \(12\.50\)/) });
    expect(convertCents(3500, 0.87)).toBe(3045);
    expect(convertCents(-105, 0.5)).toBe(-53);
  });

  it('reads rates as CSV or inline, newest rate in force on the day', () => {
    const { rates, issues } = parseRates(
      'currency,rate,valid_from\nUSD,0.9,2025-01-01\nUSD,0.8,2026-01-01\nGBP,1.2,\nJPY,-1,\n',
      'EUR'
    );
    expect(issues).toEqual([{ line: 5, message: 'rate "-1" must be a number > 0, e.g. 0.92' }]);
    expect(rates.rateFor('USD', '2025-06-01')).toBe(0.9);
    expect(rates.rateFor('USD', '2026-01-01')).toBe(0.8);
    expect(rates.rateFor('USD', '2024-12-31')).toBeNull();
    expect(rates.rateFor('GBP', '2020-01-01')).toBe(1.2);
    expect(rates.rateFor('EUR', '2020-01-01')).toBe(1);
    const inline = parseRates('USD=0.92 gbp=1.17', 'EUR');
    expect(inline.issues).toEqual([]);
    expect(inline.rates.rateFor('GBP', '2026-01-01')).toBe(1.17);
  });

  it('reports an unclosed quote at the line where the record starts', () => {
    const r = parseCsv('a,b\n1,"open\n2,3\n');
    expect(r.errors).toEqual([{ line: 2, message: 'a quoted value is never closed (a " is missing)' }]);
  });
});
