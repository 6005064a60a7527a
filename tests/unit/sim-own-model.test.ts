/** Small pieces of the simulated own server that must match Mastodon exactly. */
import { describe, expect, it } from 'vitest';
import { humanSize, sqlDate, redisDate, cohortDate, dayOf } from '../../sim/own-server/dates.ts';
import { obfuscated } from '../../sim/own-server/entities.ts';
import { buildHistory, userCount } from '../../sim/own-server/history.ts';
import { atLeast } from '../../sim/own-server/versions.ts';

describe('own server details', () => {
  it('obfuscates domains as ObfuscatedDomainPresenter does', () => {
    expect(obfuscated('abc.com')).toBe('ab*.**m');
    expect(obfuscated('mastodon.social')).toBe('mast****.***ial');
    expect(obfuscated('alphabet.soup.is.good.for.breakfast.and.lunch.and.dinner.org')).toBe(
      'alphabet.soup.is.****.***.*********.***.*****.and.dinner.org'
    );
  });

  it('prints sizes like number_to_human_size', () => {
    expect(humanSize(49581359907)).toBe('46.2 GB');
    expect(humanSize(100765744)).toBe('96.1 MB');
    expect(humanSize(837837315424)).toBe('780 GB');
    expect(humanSize(1972544)).toBe('1.88 MB');
    expect(humanSize(0)).toBe('0 Bytes');
  });

  it('formats measure and cohort dates per backing store', () => {
    const d = dayOf(Date.UTC(2022, 8, 14));
    expect(redisDate(d)).toBe('2022-09-14T00:00:00Z');
    expect(sqlDate(d)).toBe('2022-09-14T00:00:00.000+00:00');
    expect(cohortDate(Date.UTC(2022, 8, 1))).toBe('2022-09-01T00:00:00+00:00');
  });

  it('compares versions with suffixes', () => {
    expect(atLeast('4.3.2+glitch', '4.3')).toBe(true);
    expect(atLeast('4.5.0-nightly.2025-07-11', '4.5')).toBe(true);
    expect(atLeast('3.5.3', '4.0')).toBe(false);
  });

  it('a longer horizon never changes the past', () => {
    const short = buildHistory(9, 400);
    const long = buildHistory(9, 700);
    const at = Date.UTC(2024, 9, 1);
    expect(userCount(long, at)).toBe(userCount(short, at));
    expect(Array.from(long.signups.slice(0, 400))).toEqual(Array.from(short.signups));
  });
});
