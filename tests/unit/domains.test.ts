import { describe, expect, it } from 'vitest';
import { normalizeDomain, normalizeDomainList } from '../../collectors/peers/domains.ts';

describe('domain hygiene', () => {
  it('stores lowercase ASCII without port or trailing dot', () => {
    expect(normalizeDomain('Mastodon.Social.')).toEqual({ ok: true, domain: 'mastodon.social' });
    expect(normalizeDomain('host.example:8443')).toEqual({ ok: true, domain: 'host.example' });
    expect(normalizeDomain('café.example')).toEqual({ ok: true, domain: 'xn--caf-dma.example' });
  });
  it('drops junk real peers lists carry', () => {
    for (const junk of [
      '*.bad.example',
      'soc**l.example',
      '203.0.113.5:8080',
      '[::1]:80',
      'has space.example',
      'localhost',
      '',
      '-a.example',
      'a..b',
      42
    ]) {
      expect(normalizeDomain(junk).ok).toBe(false);
    }
  });
  it('removes duplicates across Unicode and punycode spellings', () => {
    const r = normalizeDomainList([
      'ⵣ.todz.ynh.fr',
      'xn--lnj.todz.ynh.fr',
      'A.example',
      'a.example.',
      '1.2.3.4'
    ]);
    expect(r).toEqual({ domains: ['xn--lnj.todz.ynh.fr', 'a.example'], rejected: 1, duplicates: 2 });
  });
});
