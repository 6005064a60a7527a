import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAll } from '../../src/lib/server/transparency/cells.ts';
import { decide, determined, type Cell } from '../../src/lib/server/transparency/disclosure.ts';
import { toCsv } from '../../src/lib/server/transparency/export.ts';
import { closedPeriods, parsePeriod, type Period } from '../../src/lib/server/transparency/period.ts';
import { count, statistic } from '../../src/lib/server/transparency/privacy.ts';
import { publish, type RawReport } from '../../src/lib/server/transparency/report.ts';
import { Reader, type ReportJson } from '../helpers/transparency-attack.ts';

const k = 5;

describe('small counts', () => {
  it('1..k−1 is suppressed; 0 and k and more are shown', () => {
    expect(count(0, k)).toEqual({ value: 0, suppressed: false });
    for (let n = 1; n < k; n++)
      expect(count(n, k)).toEqual({ value: null, suppressed: true, reason: 'small' });
    expect(count(5, k)).toEqual({ value: 5, suppressed: false });
    expect(count(null, k)).toEqual({ value: null, suppressed: false });
  });

  it('medians of small groups are suppressed', () => {
    expect(statistic(12.5, 4, k).suppressed).toBe(true);
    expect(statistic(12.5, 5, k)).toEqual({ value: 12.5, suppressed: false });
  });
});

const cell = (key: string, value: number, closes = '2026-04-01'): Cell => ({
  key,
  value,
  primary: value > 0 && value < k,
  fixed: false,
  closes
});

describe('complementary suppression', () => {
  it('Feb = Q1 − Jan − Mar: one more month (the one that closed last) is hidden with a small one', () => {
    const cells = new Map(
      [cell('jan', 9, '2026-02-01'), cell('feb', 3, '2026-03-01'), cell('mar', 12), cell('q1', 24)].map(
        (c) => [c.key, c]
      )
    );
    const hidden = decide(cells, [
      [
        ['q1', 1],
        ['jan', -1],
        ['feb', -1],
        ['mar', -1]
      ]
    ]);
    // March and Q1 close together; March is the smaller, and January (already published in February) stays.
    expect([...hidden].sort()).toEqual(['feb', 'mar']);
  });

  it('sees through a combination no single identity gives away', () => {
    // x + y = 10 and x − y = 4 pin x = 7 although each equation has two unknowns.
    const cells = new Map([cell('x', 7), cell('y', 3), cell('s', 10), cell('d', 4)].map((c) => [c.key, c]));
    const ids = [
      [
        ['s', 1],
        ['x', -1],
        ['y', -1]
      ],
      [
        ['d', 1],
        ['x', -1],
        ['y', 1]
      ]
    ] as [string, number][][];
    expect(determined(cells, ids, new Set(['x', 'y']))).not.toBeNull();
    const hidden = decide(cells, ids);
    expect(determined(cells, ids, hidden)).toBeNull();
    expect(hidden.has('y')).toBe(true);
  });
});

/**
 * A random co-op history by month, with many small counts, and the numbers every period's report would
 * compute from it (sums of months for flows, the last month's value for stocks, open reports chained).
 */
interface Month {
  local: number;
  remote: number;
  cats: [number, number, number, number];
  handled: number;
  w24: number;
  w7: number;
  signups: number;
  members: number;
  active: number;
}

const NOW = new Date('2026-08-15T12:00:00Z');
const MONTHS = closedPeriods('month', new Date('2025-01-01T00:00:00Z'), NOW).reverse(); // 2025-01 … 2026-07

const small = fc.integer({ min: 0, max: 9 });
const monthArb = fc.record({
  local: small,
  remote: small,
  split: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  handledFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  w24Frac: fc.double({ min: 0, max: 1, noNaN: true }),
  w7Frac: fc.double({ min: 0, max: 1, noNaN: true }),
  signups: small,
  members: fc.integer({ min: 0, max: 14 }),
  activeFrac: fc.double({ min: 0, max: 1, noNaN: true })
});

interface Draw {
  local: number;
  remote: number;
  split: number[];
  handledFrac: number;
  w24Frac: number;
  w7Frac: number;
  signups: number;
  members: number;
  activeFrac: number;
}

function history(draws: Draw[]): Month[] {
  let open = 0;
  return draws.map((d) => {
    const received = d.local + d.remote;
    const cats: [number, number, number, number] = [0, 0, 0, 0];
    for (let i = 0; i < received; i++) cats[(d.split[i % 4] + i) % 4]++;
    const handled = Math.floor((open + received) * d.handledFrac);
    open += received - handled;
    const w24 = Math.floor(received * d.w24Frac);
    const w7 = w24 + Math.floor((received - w24) * d.w7Frac);
    return {
      local: d.local,
      remote: d.remote,
      cats,
      handled,
      w24,
      w7,
      signups: d.signups,
      members: d.members,
      active: Math.floor(d.members * d.activeFrac)
    };
  });
}

function rawFor(p: Period, months: Month[]): RawReport {
  const inP = (q: Period) =>
    MONTHS.map((m, i) => [m, months[i]] as const).filter(([m]) => m.start >= q.start && m.end <= q.end);
  const these = inP(p).map(([, x]) => x);
  const sum = (f: (x: Month) => number) => these.reduce((a, x) => a + f(x), 0);
  const openAt = (day: string) =>
    MONTHS.map((m, i) => [m, months[i]] as const)
      .filter(([m]) => m.end <= day)
      .reduce((a, [, x]) => a + x.local + x.remote - x.handled, 0);
  const prevMonths = MONTHS.filter((m) => m.end <= p.start);
  const prev = prevMonths.length ? months[MONTHS.indexOf(prevMonths.at(-1)!)] : null;
  const prevDay = prevMonths.at(-1)?.last ?? null;
  // The previous period of the same kind ends where this one starts: its stock is the last month's before.
  const last = these.at(-1)!;
  const received = sum((x) => x.local + x.remote);
  return {
    instance: 'social.coop.example',
    membersEnd: last.members,
    membersEndDay: p.last,
    membersPrevEnd: prev?.members ?? null,
    membersPrevEndDay: prev ? prevDay : null,
    activeEnd: last.active,
    activeEndDay: p.last,
    activePrevEnd: prev?.active ?? null,
    activePrevEndDay: prev ? prevDay : null,
    signups: sum((x) => x.signups),
    reportsReceived: received,
    reportsAboutLocal: sum((x) => x.local),
    reportsAboutRemote: sum((x) => x.remote),
    reportsHandled: sum((x) => x.handled),
    reportsOpenAtEnd: openAt(p.end),
    reportsOpenAtStart: openAt(p.start),
    resolvedWithin24h: sum((x) => x.w24),
    resolvedWithin7d: sum((x) => x.w7),
    medianSecondsToResolve: 3600,
    byCategory: {
      spam: sum((x) => x.cats[0]),
      legal: sum((x) => x.cats[1]),
      violation: sum((x) => x.cats[2]),
      other: sum((x) => x.cats[3])
    },
    defederations: [],
    domainBlocksShown: { list: 'all', reasons: true },
    rules: [],
    peersLimitingUs: 0,
    daysWithData: p.days,
    dataAsOf: null,
    finances: {
      currency: 'EUR',
      periodStart: p.start,
      periodEnd: p.end,
      income: [],
      expenses: [],
      totalIncome: 0,
      totalExpenses: 0,
      net: 0,
      balance: null,
      runwayMonths: null,
      runwayUnbounded: false,
      reserveMonths: 6,
      reserveMet: null,
      costPerActiveMember: null,
      activeMembers: last.active
    }
  };
}

const PERIODS: Period[] = (['month', 'quarter', 'year'] as const).flatMap((kind) =>
  closedPeriods(kind, new Date('2025-01-01T00:00:00Z'), NOW)
);

/** What a reader holding every format of every closed period can work out. */
function attack(published: Map<string, ReturnType<typeof publish>>) {
  const reader = new Reader();
  for (const r of published.values()) {
    reader.readJson(JSON.parse(JSON.stringify(r)) as ReportJson);
    reader.readCsv(toCsv(r));
  }
  return { leaks: reader.solve(), problems: reader.problems };
}

describe('no suppressed number can be worked out from everything published', () => {
  it('the reader finds Feb = Q1 − Jan − Mar when each report decides alone (as before)', () => {
    const months = history(
      MONTHS.map((_, i) => ({
        local: i === 1 ? 3 : 9,
        remote: 0,
        split: [0, 0, 0, 0],
        handledFrac: 1,
        w24Frac: 1,
        w7Frac: 1,
        signups: 9,
        members: 14,
        activeFrac: 1
      }))
    );
    const alone = new Map(PERIODS.map((p) => [p.id, publish(rawFor(p, months), p, k, null)]));
    const { leaks } = attack(alone);
    expect(leaks.map((l) => [l.variable, l.value])).toContainEqual(['rec@2025-02', 3]);
  });

  it('property: every identity across months, quarters, years, JSON and CSV leaves every suppressed value open', () => {
    fc.assert(
      fc.property(fc.array(monthArb, { minLength: MONTHS.length, maxLength: MONTHS.length }), (draws) => {
        const months = history(draws);
        const entries = PERIODS.map((p) => ({ period: p, raw: rawFor(p, months) }));
        const hidden = decideAll(entries, k);
        const published = new Map(
          entries.map((e) => [e.period.id, publish(e.raw, e.period, k, null, hidden)])
        );
        const { leaks, problems } = attack(published);
        expect(problems).toEqual([]);
        expect(leaks).toEqual([]);
        // And no published count of people or reports is from 1 to k−1.
        for (const r of published.values()) {
          const counts = [
            r.members.total,
            r.members.active,
            r.members.signups,
            r.reports.received,
            r.reports.handled,
            r.reports.open_at_end,
            r.reports.about_local_accounts,
            r.reports.about_remote_accounts,
            ...r.reports.by_category.map((c) => c.count)
          ];
          for (const n of counts) {
            expect(n.value !== null && n.value > 0 && n.value < k).toBe(false);
            if (n.suppressed) expect(n.value).toBeNull();
          }
          if (r.members.active.suppressed) expect(r.finances?.activeMembers).toBeNull();
        }
      }),
      { numRuns: 60 }
    );
  });

  it('a suppressed number is never shown as zero: null with a flag and a reason in JSON, words in CSV', () => {
    const p = parsePeriod('2026-07')!;
    const months = history(
      MONTHS.map(() => ({
        local: 2,
        remote: 7,
        split: [0, 1, 2, 3],
        handledFrac: 0.5,
        w24Frac: 0.5,
        w7Frac: 0.5,
        signups: 3,
        members: 14,
        activeFrac: 0.2
      }))
    );
    const entries = PERIODS.map((q) => ({ period: q, raw: rawFor(q, months) }));
    const hidden = decideAll(entries, k);
    const r = publish(rawFor(p, months), p, k, null, hidden);
    expect(r.reports.about_local_accounts).toEqual({ value: null, suppressed: true, reason: 'small' });
    expect(r.members.active).toEqual({ value: null, suppressed: true, reason: 'small' }); // 2
    expect(r.finances?.activeMembers).toBeNull();
    expect(r.finances?.activeMembersSuppressed).toBe(true);
    const csv = toCsv(r).split('\r\n');
    expect(csv).toContain('1.2,2026-07,reports,about_local_accounts,,,true,reports,,,fewer than 5');
    expect(csv.find((l) => l.startsWith('1.2,2026-07,reports,about_remote_accounts,'))).toMatch(
      /,,true,reports,,,not shown: would reveal a small count$/
    );
  });
});
