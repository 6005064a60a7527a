import { describe, expect, it } from 'vitest';
import { newSession, readSession, RevokedSessions, seal, unseal } from '../../src/lib/server/auth/session.ts';

const secret = Buffer.from('unit-test-secret-0123456789abcdef');
const user = {
  id: '1',
  acct: 'ada@social.coop.example',
  displayName: 'Ada',
  role: 'Owner',
  via: 'role' as const
};

describe('signed session cookies', () => {
  it('a cookie the server signed reads back', () => {
    const s = newSession(user, 3600);
    const back = readSession(secret, seal(secret, 'session', s));
    expect(back?.user.acct).toBe('ada@social.coop.example');
  });

  it('a tampered payload, signature or another key is refused', () => {
    const cookie = seal(secret, 'session', newSession(user, 3600));
    const [body, sig] = cookie.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body, 'base64url').toString()),
        user: { ...user, acct: 'eve@x' }
      })
    ).toString('base64url');
    expect(readSession(secret, `${forged}.${sig}`)).toBeNull();
    expect(readSession(secret, `${body}.${sig.slice(0, -2)}AA`)).toBeNull();
    expect(readSession(Buffer.from('another-secret-another-secret-xx'), cookie)).toBeNull();
    expect(readSession(secret, `${body}`)).toBeNull();
    expect(readSession(secret, `${body}.${sig}.x`)).toBeNull();
    expect(readSession(secret, '')).toBeNull();
    expect(readSession(secret, 'x'.repeat(5000))).toBeNull();
  });

  it('an expired session is refused, and one issued in the future too', () => {
    const now = Date.now();
    const old = newSession(user, 3600, now - 2 * 3600_000);
    expect(readSession(secret, seal(secret, 'session', old), now)).toBeNull();
    const future = newSession(user, 3600, now + 3600_000);
    expect(readSession(secret, seal(secret, 'session', future), now)).toBeNull();
  });

  it('a cookie sealed for another purpose is not a session', () => {
    const s = newSession(user, 3600);
    expect(readSession(secret, seal(secret, 'oauth', s))).toBeNull();
    expect(unseal(secret, 'refused', seal(secret, 'oauth', { a: 1 }))).toBeNull();
  });

  it('a signed-out session id is refused until it expires', () => {
    const s = newSession(user, 3600);
    const revoked = new RevokedSessions();
    revoked.add(s.sid, s.exp);
    expect(readSession(secret, seal(secret, 'session', s), Date.now(), revoked)).toBeNull();
    revoked.prune(Date.now() + 2 * 3600_000);
    expect(revoked.has(s.sid)).toBe(false);
  });
});
