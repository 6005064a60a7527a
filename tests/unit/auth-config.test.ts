import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadAuthConfig,
  loadSessionKeys,
  normaliseHandle,
  staffReason
} from '../../src/lib/server/auth/config.ts';

describe('who is staff', () => {
  const cfg = loadAuthConfig(
    {
      FEDIPULSE_INSTANCE_URL: 'https://social.coop.example',
      FEDIPULSE_STAFF: '@Dana, treasurer@other.example  @bad@x@y'
    },
    '/tmp/x.duckdb'
  );

  it('roles with the administrator or view_dashboard permission are staff; others are not', () => {
    // Computed permissions as verify_credentials gives them: Owner (all flags), Admin, Moderator, everyone.
    for (const permissions of ['1048575', '1048572', '66844', '8', '1']) {
      expect(staffReason({ acct: 'x@social.coop.example', permissions }, cfg)).toBe('role');
    }
    for (const permissions of ['', '0', '65536', '81920', 'Admin', '-1']) {
      expect(staffReason({ acct: 'x@social.coop.example', permissions }, cfg)).toBeNull();
    }
  });

  it('allowlisted handles are staff whatever their role; bare names are on the own server', () => {
    expect(staffReason({ acct: 'dana@social.coop.example', permissions: '' }, cfg)).toBe('allowlist');
    expect(staffReason({ acct: 'treasurer@other.example', permissions: '' }, cfg)).toBe('allowlist');
    expect(staffReason({ acct: 'dana@other.example', permissions: '' }, cfg)).toBeNull();
    expect(cfg.staffHandles.size).toBe(2);
  });

  it('normalises handles', () => {
    expect(normaliseHandle('@Alice@Social.Example', null)).toBe('alice@social.example');
    expect(normaliseHandle('alice', 'social.example')).toBe('alice@social.example');
    expect(normaliseHandle('alice', null)).toBeNull();
    expect(normaliseHandle('a@b@c', 'x')).toBeNull();
  });
});

describe('the session secret', () => {
  it('is generated once beside the database, readable by the owner only', () => {
    const file = path.join(
      mkdtempSync(path.join(os.tmpdir(), 'fp-auth-')),
      'sub',
      'db.duckdb.session-secret'
    );
    const [a, ...rest] = loadSessionKeys({}, file);
    expect(rest).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSessionKeys({}, file)[0].equals(a)).toBe(true);
    expect(a.length).toBe(32);
  });

  it('comes from FEDIPULSE_SESSION_SECRET when set, and a short one is refused', () => {
    expect(
      loadSessionKeys({ FEDIPULSE_SESSION_SECRET: 'x'.repeat(20) }, '/nonexistent/f').map(String)
    ).toEqual(['x'.repeat(20)]);
    expect(() => loadSessionKeys({ FEDIPULSE_SESSION_SECRET: 'short' }, '/nonexistent/f')).toThrow(/16/);
  });
});
