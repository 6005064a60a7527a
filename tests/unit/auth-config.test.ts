import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadAuthConfig,
  loadSessionSecret,
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

  it('Owner, Admin and Moderator roles are staff by default; other roles are not', () => {
    for (const role of ['Owner', 'Admin', 'Moderator', 'moderator']) {
      expect(staffReason({ acct: 'x@social.coop.example', roleName: role }, cfg)).toBe('role');
    }
    expect(staffReason({ acct: 'x@social.coop.example', roleName: '' }, cfg)).toBeNull();
    expect(staffReason({ acct: 'x@social.coop.example', roleName: 'Helper' }, cfg)).toBeNull();
  });

  it('allowlisted handles are staff whatever their role; bare names are on the own server', () => {
    expect(staffReason({ acct: 'dana@social.coop.example', roleName: '' }, cfg)).toBe('allowlist');
    expect(staffReason({ acct: 'treasurer@other.example', roleName: '' }, cfg)).toBe('allowlist');
    expect(staffReason({ acct: 'dana@other.example', roleName: '' }, cfg)).toBeNull();
    expect(cfg.staffHandles.size).toBe(2);
  });

  it('normalises handles', () => {
    expect(normaliseHandle('@Alice@Social.Example', null)).toBe('alice@social.example');
    expect(normaliseHandle('alice', 'social.example')).toBe('alice@social.example');
    expect(normaliseHandle('alice', null)).toBeNull();
    expect(normaliseHandle('a@b@c', 'x')).toBeNull();
  });

  it('FEDIPULSE_STAFF_ROLES replaces the role list', () => {
    const c = loadAuthConfig({ FEDIPULSE_STAFF_ROLES: 'Owner' }, '/tmp/x.duckdb');
    expect(staffReason({ acct: 'a@b', roleName: 'Moderator' }, c)).toBeNull();
    expect(staffReason({ acct: 'a@b', roleName: 'Owner' }, c)).toBe('role');
  });
});

describe('the session secret', () => {
  it('is generated once beside the database, readable by the owner only', () => {
    const file = path.join(
      mkdtempSync(path.join(os.tmpdir(), 'fp-auth-')),
      'sub',
      'db.duckdb.session-secret'
    );
    const a = loadSessionSecret({}, file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSessionSecret({}, file).equals(a)).toBe(true);
    expect(a.length).toBe(32);
  });

  it('comes from FEDIPULSE_SESSION_SECRET when set, and a short one is refused', () => {
    expect(loadSessionSecret({ FEDIPULSE_SESSION_SECRET: 'x'.repeat(20) }, '/nonexistent/f').toString()).toBe(
      'x'.repeat(20)
    );
    expect(() => loadSessionSecret({ FEDIPULSE_SESSION_SECRET: 'short' }, '/nonexistent/f')).toThrow(/16/);
  });
});
