import { describe, expect, it } from 'vitest';
import { chunks, measureValues } from '../../collectors/instance/admin.ts';
import { Pacer, bucketFor } from '../../collectors/instance/pacing.ts';
import { parseMeasures } from '../../collectors/instance/parse.ts';

const clock = (start: string) => {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
};

describe('pacing', () => {
  it('counts paging requests separately (300 / 15 min) from the rest (300 / 5 min)', () => {
    expect(bucketFor(new URL('https://x/api/v1/admin/reports?limit=200'))).toBe('api');
    expect(bucketFor(new URL('https://x/api/v1/admin/reports?limit=200&max_id=3'))).toBe('paging');
    expect(bucketFor(new URL('https://x/nodeinfo/2.0'))).toBe('none');
  });
  it('uses only its share of a window, then waits for the oldest request to age out', () => {
    const c = clock('2025-01-01T00:00:00Z');
    const p = new Pacer({
      now: c.now,
      share: 0.5,
      limits: { api: { limit: 10, periodMs: 60_000 }, paging: { limit: 4, periodMs: 120_000 } }
    });
    for (let i = 0; i < 5; i++) {
      expect(p.nextWait('api').ms).toBe(0);
      p.sentNow('api');
      c.advance(1000);
    }
    const w = p.nextWait('api');
    expect(w.ms).toBe(55_000);
    expect(w.reason).toMatch(/pacing/);
    p.sentNow('paging');
    p.sentNow('paging');
    expect(p.nextWait('paging').reason).toMatch(/page requests/);
  });
  it('waits for the reset when the server says the token is nearly used up', () => {
    const c = clock('2025-01-01T00:00:00Z');
    const p = new Pacer({ now: c.now });
    p.observe({ limit: 300, remaining: 200, resetAt: new Date('2025-01-01T00:05:00Z') });
    expect(p.nextWait('api').ms).toBe(0);
    p.observe({ limit: 300, remaining: 40, resetAt: new Date('2025-01-01T00:05:00Z') });
    const w = p.nextWait('api');
    expect(w.ms).toBe(300_250);
    expect(w.reason).toMatch(/40 requests left/);
  });
  it('after a 429 waits until X-RateLimit-Reset, or Retry-After when a proxy sent one', () => {
    const c = clock('2025-01-01T00:00:00Z');
    const p = new Pacer({ now: c.now });
    p.observe({ limit: 300, remaining: 0, resetAt: new Date('2025-01-01T00:00:10Z') });
    expect(p.after429(null).ms).toBe(10_250);
    expect(p.after429(3000)).toMatchObject({ ms: 3000, reason: expect.stringMatching(/Retry-After/) });
  });
});

describe('measures backfill', () => {
  it('splits a range into year chunks, newest first', () => {
    expect(chunks('2023-11-01', '2025-06-30')).toEqual([
      { from: '2024-07-01', to: '2025-06-30' },
      { from: '2023-11-01', to: '2024-06-30' }
    ]);
    expect(chunks('2025-06-30', '2025-06-30')).toEqual([{ from: '2025-06-30', to: '2025-06-30' }]);
  });
  it('never stores a 0 that only means Mastodon forgot an old active_users day', () => {
    const ms = parseMeasures([
      {
        key: 'active_users',
        data: [
          { date: '2024-01-01T00:00:00Z', value: '0' },
          { date: '2024-01-02T00:00:00Z', value: '5' },
          { date: '2025-06-01T00:00:00Z', value: '0' }
        ]
      },
      { key: 'new_users', data: [{ date: '2024-01-01T00:00:00.000+00:00', value: '0' }] },
      { key: 'tag_uses', data: [{ date: '2024-01-01T00:00:00Z', value: '3' }] }
    ]);
    const v = measureValues(ms, { from: '2024-01-01', to: '2025-06-30' }, '2025-06-30', 'x');
    expect(v.map((x) => [x.metric, x.day, x.value])).toEqual([
      ['active_users', '2024-01-02', 5],
      ['active_users', '2025-06-01', 0],
      ['new_users', '2024-01-01', 0]
    ]);
  });
  it('drops days outside the asked range and in the future', () => {
    const ms = parseMeasures([
      {
        key: 'new_users',
        data: [
          { date: '2025-06-30', value: '1' },
          { date: '2025-07-01', value: '0' }
        ]
      }
    ]);
    expect(measureValues(ms, { from: '2025-06-01', to: '2025-07-01' }, '2025-06-30', 'x')).toHaveLength(1);
  });
});
