import { describe, expect, it } from 'vitest';
import {
  closedPeriods,
  isClosed,
  latestClosed,
  parsePeriod,
  previousPeriod
} from '../../src/lib/server/transparency/period.ts';
import { resolvePeriod } from '../../src/lib/server/transparency/index.ts';

describe('reporting periods', () => {
  it('parses months, quarters and years with their bounds', () => {
    expect(parsePeriod('2026-09')).toMatchObject({
      kind: 'month',
      start: '2026-09-01',
      last: '2026-09-30',
      end: '2026-10-01',
      days: 30
    });
    expect(parsePeriod('2026-Q3')).toMatchObject({
      kind: 'quarter',
      start: '2026-07-01',
      last: '2026-09-30',
      days: 92
    });
    expect(parsePeriod('2024-q1')).toMatchObject({ id: '2024-Q1', days: 91 });
    expect(parsePeriod('2026')).toMatchObject({
      kind: 'year',
      start: '2026-01-01',
      last: '2026-12-31',
      days: 365
    });
    for (const bad of [
      '2026-13',
      '2026-Q5',
      '2026-9',
      '26',
      '2026-Q3.json',
      '../2026',
      '2026-00',
      '1999',
      ' 2026'
    ]) {
      expect(parsePeriod(bad), bad).toBeNull();
    }
  });

  it('knows the previous period across year ends', () => {
    expect(previousPeriod(parsePeriod('2026-01')!).id).toBe('2025-12');
    expect(previousPeriod(parsePeriod('2026-Q1')!).id).toBe('2025-Q4');
    expect(previousPeriod(parsePeriod('2026-Q3')!).id).toBe('2026-Q2');
    expect(previousPeriod(parsePeriod('2026')!).id).toBe('2025');
  });

  it('a period is closed from the day after its last day (UTC)', () => {
    const q3 = parsePeriod('2026-Q3')!;
    expect(isClosed(q3, new Date('2026-09-30T23:59:59Z'))).toBe(false);
    expect(isClosed(q3, new Date('2026-10-01T00:00:00Z'))).toBe(true);
    const now = new Date('2026-11-26T14:00:00Z');
    expect(latestClosed('quarter', now).id).toBe('2026-Q3');
    expect(latestClosed('month', now).id).toBe('2026-10');
    expect(latestClosed('year', now).id).toBe('2025');
    expect(closedPeriods('quarter', new Date('2026-02-10T00:00:00Z'), now).map((p) => p.id)).toEqual([
      '2026-Q3',
      '2026-Q2',
      '2026-Q1'
    ]);
  });

  it('the open period and future ones are never published, with a reason', () => {
    const now = new Date('2026-11-26T14:00:00Z');
    const open = resolvePeriod('2026-Q4', now);
    expect(open.ok).toBe(false);
    if (!open.ok) expect(open.message).toMatch(/not over yet/);
    expect(resolvePeriod('2026-11', now).ok).toBe(false);
    expect(resolvePeriod('2026', now).ok).toBe(false);
    expect(resolvePeriod('2027-01', now).ok).toBe(false);
    expect(resolvePeriod('2026-10', now).ok).toBe(true);
    const junk = resolvePeriod('<script>', now);
    expect(junk.ok).toBe(false);
  });
});
