import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAuthConfig, loadSessionKeys } from '../../src/lib/server/auth/config.ts';
import { newSession, readSession, RevokedSessions, seal } from '../../src/lib/server/auth/session.ts';

const user = {
  id: '1',
  acct: 'ada@social.coop.example',
  displayName: 'Ada',
  role: 'Owner',
  via: 'role' as const
};
const dir = () => mkdtempSync(path.join(os.tmpdir(), 'fp-sec-session-'));

describe('the session key ring', () => {
  const oldKey = Buffer.from('the-old-key-0123456789abcdef');
  const newKey = Buffer.from('the-new-key-0123456789abcdef');

  it('the newest key signs, older keys still verify until they are removed', () => {
    const before = seal([oldKey], 'session', newSession(user, 3600));
    const ring = [newKey, oldKey];
    expect(readSession(ring, before)?.user.acct).toBe('ada@social.coop.example');
    const after = seal(ring, 'session', newSession(user, 3600));
    expect(readSession([newKey], after)).not.toBeNull(); // signed with the new key
    expect(readSession([oldKey], after)).toBeNull();
    expect(readSession([newKey], before)).toBeNull(); // the old key removed: its cookies are gone
  });

  it('FEDIPULSE_SESSION_SECRET signs and FEDIPULSE_SESSION_PREVIOUS_SECRETS verify', () => {
    const keys = loadSessionKeys(
      {
        FEDIPULSE_SESSION_SECRET: newKey.toString(),
        FEDIPULSE_SESSION_PREVIOUS_SECRETS: ` ${oldKey.toString()} , another-old-key-0123456789`
      },
      '/nonexistent/secret'
    );
    expect(keys.map(String)).toEqual([newKey.toString(), oldKey.toString(), 'another-old-key-0123456789']);
    expect(() =>
      loadSessionKeys(
        { FEDIPULSE_SESSION_SECRET: newKey.toString(), FEDIPULSE_SESSION_PREVIOUS_SECRETS: 'short' },
        '/nonexistent/secret'
      )
    ).toThrow(/16/);
  });

  it('the generated key file holds one key per line, newest first, so it can rotate too', () => {
    const file = path.join(dir(), 'db.duckdb.session-secret');
    const [first] = loadSessionKeys({}, file);
    // Rotation as docs/auth.md says: a new line in front (openssl rand -base64 32 output).
    const fresh = Buffer.from('0123456789abcdef0123456789abcdef');
    writeFileSync(file, `${fresh.toString('base64')}\n${readFileSync(file, 'utf8')}`);
    const ring = loadSessionKeys({}, file);
    expect(ring).toHaveLength(2);
    expect(ring[0].equals(fresh)).toBe(true);
    expect(ring[1].equals(first)).toBe(true);
  });
});

describe('sign-out outlives a restart', () => {
  it('a revoked session id is read back by a new process (a new list on the same file)', () => {
    const file = path.join(dir(), 'sub', 'db.duckdb.revoked-sessions.json');
    const s = newSession(user, 3600);
    const cookie = seal([Buffer.from('k'.repeat(32))], 'session', s);
    new RevokedSessions(file).add(s.sid, s.exp);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const afterRestart = new RevokedSessions(file);
    expect(afterRestart.has(s.sid)).toBe(true);
    expect(readSession([Buffer.from('k'.repeat(32))], cookie, Date.now(), afterRestart)).toBeNull();
  });

  it('a sign-out in another process is seen without a restart; expired ids are pruned when written', () => {
    const file = path.join(dir(), 'revoked.json');
    const a = new RevokedSessions(file);
    const b = new RevokedSessions(file);
    const now = Date.now();
    const old = newSession(user, 60, now - 3600_000); // expired an hour ago
    a.add(old.sid, old.exp, now - 3590_000);
    const s = newSession(user, 3600, now);
    b.add(s.sid, s.exp, now);
    expect(a.has(s.sid)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual([s.sid]);
  });
});

describe('session lifetime', () => {
  it('is 8 hours by default and never more than 24', () => {
    expect(loadAuthConfig({}, '/tmp/x.duckdb').sessionTtlSeconds).toBe(8 * 3600);
    expect(loadAuthConfig({ FEDIPULSE_SESSION_HOURS: '720' }, '/tmp/x.duckdb').sessionTtlSeconds).toBe(
      24 * 3600
    );
    expect(loadAuthConfig({ FEDIPULSE_SESSION_HOURS: '2' }, '/tmp/x.duckdb').sessionTtlSeconds).toBe(
      2 * 3600
    );
    expect(loadAuthConfig({ FEDIPULSE_SESSION_HOURS: 'x' }, '/tmp/x.duckdb').sessionTtlSeconds).toBe(
      8 * 3600
    );
  });
});
