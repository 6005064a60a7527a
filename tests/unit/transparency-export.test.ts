import { describe, expect, it } from 'vitest';
import { csvCell, toCsv, CSV_HEADER } from '../../src/lib/server/transparency/export.ts';
import { publish, publicDomain, type RawReport } from '../../src/lib/server/transparency/report.ts';
import { parsePeriod } from '../../src/lib/server/transparency/period.ts';

const raw: RawReport = {
  instance: 'social.coop.example',
  membersEnd: 2400,
  membersEndDay: '2026-09-30',
  membersPrevEnd: 2300,
  membersPrevEndDay: '2026-08-31',
  activeEnd: 800,
  activeEndDay: '2026-09-30',
  activePrevEnd: 790,
  activePrevEndDay: '2026-08-31',
  signups: 3,
  reportsReceived: 40,
  reportsAboutLocal: 12,
  reportsAboutRemote: 28,
  reportsHandled: 38,
  reportsOpenAtEnd: 2,
  reportsOpenAtStart: 0,
  resolvedWithin24h: 30,
  resolvedWithin7d: 38,
  medianSecondsToResolve: 5 * 3600,
  byCategory: { spam: 30, legal: 1, violation: 9, other: 0 },
  defederations: [
    {
      event: 'added',
      domain: 'bad.example',
      severity: 'suspend',
      publicComment: '=HYPERLINK("http://x")',
      date: '2026-09-03'
    }
  ],
  domainBlocksShown: { list: 'all', reasons: true },
  rules: [{ id: '1', text: 'Be kind, "always"' }],
  peersLimitingUs: 7,
  daysWithData: 30,
  dataAsOf: '2026-10-01T06:00:00Z',
  finances: {
    currency: 'EUR',
    periodStart: '2026-09-01',
    periodEnd: '2026-10-01',
    income: [{ category: 'dues', amount: 1200 }],
    expenses: [{ category: 'hosting', amount: 450.5 }],
    totalIncome: 1200,
    totalExpenses: 450.5,
    net: 749.5,
    balance: 8000,
    runwayMonths: null,
    runwayUnbounded: true,
    reserveMonths: 6,
    reserveMet: true,
    costPerActiveMember: 0.56,
    activeMembers: 800
  }
};

describe('CSV export', () => {
  const csv = toCsv(publish(raw, parsePeriod('2026-09')!, 5, null));
  const rows = csv.trim().split('\r\n');

  it('carries the finances section, and leaves it out when there is none', () => {
    expect(rows).toContain('1.2,2026-09,finances,income.dues,,1200,false,EUR,,,');
    expect(rows).toContain('1.2,2026-09,finances,expenses.total,,450.5,false,EUR,,,');
    expect(rows).toContain('1.2,2026-09,finances,runway_months,,,,months,,,unbounded');
    const without = toCsv(publish({ ...raw, finances: null }, parsePeriod('2026-09')!, 5, null));
    expect(without).not.toContain(',finances,');
  });

  it('has the documented header and one fact per row', () => {
    expect(rows[0]).toBe(CSV_HEADER.join(','));
    expect(rows).toContain('1.2,2026-09,members,total,,2400,false,accounts,2026-09-30,,');
    expect(rows).toContain('1.2,2026-09,members,signups,,,true,accounts,,,fewer than 5');
    expect(rows).toContain('1.2,2026-09,reports,open_at_end,,,true,reports,2026-09-30,,fewer than 5');
    // 0 open at the start + 40 received − 38 handled = 2 open at the end: handled is hidden with it.
    expect(rows).toContain(
      '1.2,2026-09,reports,handled,,,true,reports,,,not shown: would reveal a small count'
    );
    expect(rows).toContain('1.2,2026-09,reports,median_hours_to_resolve,,5,false,hours,,,');
    // legal (1) is small, and violation (9) goes with it so that it cannot be derived from the total.
    expect(rows).toContain('1.2,2026-09,reports,by_category,legal,,true,reports,,,fewer than 5');
    expect(rows).toContain(
      '1.2,2026-09,reports,by_category,violation,,true,reports,,,not shown: would reveal a small count'
    );
  });

  it('quotes text and defuses spreadsheet formulas', () => {
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(csv).toContain('"Be kind, ""always"""');
    expect(csvCell('-5', true)).toBe("'-5");
    expect(csvCell(-5)).toBe('-5');
  });

  it('obfuscates a domain the way Mastodon does', () => {
    expect(publicDomain('example.com', true)).toBe('exa****.*om');
    expect(publicDomain('example.com', false)).toBe('example.com');
  });
});
