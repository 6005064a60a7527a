import { describe, expect, it } from 'vitest';
import { bearerMatches, metricsAllowed } from '../../src/lib/server/metrics-access.ts';
import { loadConfig } from '../../src/lib/server/config.ts';

const TOKEN = 's3cret-scrape-token';

describe('/metrics access rule', () => {
  it('is closed by default: no token and no opt-in lets only staff in', () => {
    const c = { token: null, public: false };
    expect(metricsAllowed(null, false, c)).toBe(false);
    expect(metricsAllowed('Bearer anything', false, c)).toBe(false);
    expect(metricsAllowed(null, true, c)).toBe(true);
  });

  it('with a token: the exact token as a bearer credential, or staff; a configured token wins over the opt-in', () => {
    for (const pub of [false, true]) {
      const c = { token: TOKEN, public: pub };
      expect(metricsAllowed(null, false, c)).toBe(false);
      expect(metricsAllowed(`Bearer ${TOKEN}`, false, c)).toBe(true);
      expect(metricsAllowed(`bearer ${TOKEN}`, false, c)).toBe(true); // the scheme is case-insensitive (RFC 9110)
      for (const bad of [
        TOKEN,
        `Basic ${TOKEN}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        'Bearer ',
        ''
      ])
        expect(metricsAllowed(bad, false, c), bad).toBe(false);
      expect(metricsAllowed(null, true, c)).toBe(true);
    }
  });

  it('FEDIPULSE_METRICS_PUBLIC=true opens it; anything not clearly true or false is an error', () => {
    expect(metricsAllowed(null, false, { token: null, public: true })).toBe(true);
    expect(loadConfig({}).metricsPublic).toBe(false);
    for (const v of ['true', 'TRUE', 'yes', 'on', '1'])
      expect(loadConfig({ FEDIPULSE_METRICS_PUBLIC: v }).metricsPublic).toBe(true);
    for (const v of ['', 'false', 'no', 'off', '0'])
      expect(loadConfig({ FEDIPULSE_METRICS_PUBLIC: v }).metricsPublic).toBe(false);
    expect(() => loadConfig({ FEDIPULSE_METRICS_PUBLIC: 'sometimes' })).toThrow(/FEDIPULSE_METRICS_PUBLIC/);
  });

  it('compares tokens of any length without throwing (timingSafeEqual needs equal lengths: both are hashed)', () => {
    expect(bearerMatches(`Bearer ${'x'.repeat(5000)}`, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ü', TOKEN)).toBe(false);
  });
});
