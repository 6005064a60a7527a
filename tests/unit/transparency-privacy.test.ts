import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { change, count, partition, share, statistic } from '../../src/lib/server/transparency/privacy.ts';
import { publish, type RawReport } from '../../src/lib/server/transparency/report.ts';
import { parsePeriod } from '../../src/lib/server/transparency/period.ts';

const k = 5;

/** Every number a published report carries, with its path. */
function numbers(v: unknown, path = ''): [string, number][] {
  if (typeof v === 'number') return [[path, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => numbers(x, `${path}[${i}]`));
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([key, x]) => numbers(x, `${path}.${key}`));
  return [];
}

describe('small counts', () => {
  it('1..k−1 is suppressed; 0 and k and more are shown', () => {
    expect(count(0, k)).toEqual({ value: 0, suppressed: false });
    for (let n = 1; n < k; n++) expect(count(n, k)).toEqual({ value: null, suppressed: true });
    expect(count(5, k)).toEqual({ value: 5, suppressed: false });
    expect(count(null, k)).toEqual({ value: null, suppressed: false });
  });

  it('shares and medians of small groups are suppressed', () => {
    expect(share(2, 3, k).suppressed).toBe(true);
    expect(share(3, 40, k).suppressed).toBe(true); // 3 of 40 is a small group too
    expect(share(30, 40, k)).toEqual({ value: 0.75, suppressed: false });
    expect(share(0, 40, k)).toEqual({ value: 0, suppressed: false });
    expect(statistic(12.5, 4, k).suppressed).toBe(true);
    expect(statistic(12.5, 5, k)).toEqual({ value: 12.5, suppressed: false });
  });

  it('a small change is a small count', () => {
    expect(change(count(1000, k), count(1003, k), k).change.suppressed).toBe(true);
    expect(change(count(1000, k), count(990, k), k).change).toEqual({ value: 10, suppressed: false });
    expect(change(count(1000, k), count(1000, k), k).change).toEqual({ value: 0, suppressed: false });
  });

  it('one small cell in a breakdown takes the next smallest with it', () => {
    const p = partition({ spam: 40, legal: 2, violation: 9, other: 0 }, k);
    expect(p.legal.suppressed).toBe(true);
    expect(p.violation.suppressed).toBe(true);
    expect(p.spam.value).toBe(40);
    expect(p.other.value).toBe(0);
  });

  it('property: no published number of a report is a count from 1 to k−1', () => {
    const n = fc.integer({ min: 0, max: 60 });
    fc.assert(
      fc.property(
        fc.record({
          members: n,
          prev: n,
          active: n,
          activePrev: n,
          signups: n,
          local: n,
          remote: n,
          handled: n,
          open: n,
          w24: n,
          w7: n,
          spam: n,
          legal: n,
          violation: n,
          other: n,
          limiting: n
        }),
        (x) => {
          const received = x.local + x.remote;
          const raw: RawReport = {
            instance: 'social.coop.example',
            membersEnd: x.members,
            membersPrevEnd: x.prev,
            activeEnd: x.active,
            activePrevEnd: x.activePrev,
            signups: x.signups,
            reportsReceived: received,
            reportsAboutLocal: x.local,
            reportsAboutRemote: x.remote,
            reportsHandled: x.handled,
            reportsOpenAtEnd: x.open,
            resolvedWithin24h: Math.min(x.w24, received),
            resolvedWithin7d: Math.min(Math.max(x.w24, x.w7), received),
            medianSecondsToResolve: x.handled ? 7200 : null,
            byCategory: { spam: x.spam, legal: x.legal, violation: x.violation, other: x.other },
            defederations: [],
            rules: [],
            peersLimitingUs: x.limiting,
            daysWithData: 30,
            dataAsOf: null,
            finances: null
          };
          const r = publish(raw, parsePeriod('2026-09')!, k, null);
          const counts = numbers({ members: r.members, reports: r.reports, federation: r.federation }).filter(
            ([path]) => !/share|median/.test(path)
          );
          for (const [path, v] of counts) {
            expect(v > 0 && v < k, `${path} = ${v}`).toBe(false);
            expect(Math.abs(v) > 0 && Math.abs(v) < k, `${path} = ${v}`).toBe(false);
          }
        }
      ),
      { numRuns: 300 }
    );
  });
});
