import { describe, expect, it } from 'vitest';
import { canViewDashboard, staffReason } from '../../src/lib/server/auth/config.ts';
import { computedPermissions, CUSTOM_ROLES, DEFAULT_ACCOUNTS, ROLES } from '../../sim/oauth/index.ts';

/**
 * Staff are decided by what a role may do, never by what it is called. Truth: Mastodon's UserRole::FLAGS
 * (app/models/user_role.rb: administrator = 1 << 0, view_dashboard = 1 << 3, invite_users = 1 << 16,
 * manage_custom_emojis = 1 << 14; 20 flags in 4.x) and the bit sums worked out by hand below.
 */
const none = { staffHandles: new Set<string>() };

describe('role permissions, not role names', () => {
  it('the simulator serves computed permissions as Mastodon does (worked out by hand)', () => {
    expect(computedPermissions(ROLES.owner)).toBe(String(2 ** 20 - 1)); // administrator → every flag
    expect(computedPermissions(ROLES.admin)).toBe(String(983036 + 65536));
    expect(computedPermissions(ROLES.moderator)).toBe(String(1308 + 65536));
    expect(computedPermissions(ROLES.everyone)).toBe('65536');
    expect(computedPermissions(CUSTOM_ROLES.fakeAdmin)).toBe(String(16384 + 65536));
    expect(CUSTOM_ROLES.gardener.permissions).toBe(ROLES.moderator.permissions);
  });

  it('only administrator (1) or view_dashboard (8) count', () => {
    expect(canViewDashboard('1')).toBe(true);
    expect(canViewDashboard('8')).toBe(true);
    expect(canViewDashboard(9)).toBe(true);
    // Every other single flag, and all of them together without bits 0 and 3.
    for (let bit = 0; bit < 20; bit++) {
      if (bit === 0 || bit === 3) continue;
      expect(canViewDashboard(String(2 ** bit)), `bit ${bit}`).toBe(false);
    }
    expect(canViewDashboard(String(2 ** 20 - 1 - 1 - 8))).toBe(false);
    for (const junk of ['', ' ', 'Admin', '0x1', '-1', '1.5', '1e3', null, undefined, '9'.repeat(30)])
      expect(canViewDashboard(junk), String(junk)).toBe(false);
    // Bits beyond 2^53 are read exactly (bigint), not rounded.
    expect(canViewDashboard(String(2n ** 60n + 8n))).toBe(true);
    expect(canViewDashboard(String(2n ** 60n + 16n))).toBe(false);
  });

  it('a custom role named "Admin" is refused; the Moderator role renamed "Gardener" is let in', () => {
    const expected: Record<string, 'role' | null> = {
      ada: 'role', // Owner
      bram: 'role', // Admin (the built-in one)
      chidi: 'role', // Moderator
      dana: null, // no role
      mallory: null, // no role
      emil: null, // custom role called Admin: emoji and invites only
      gwen: 'role' // the Moderator role renamed Gardener
    };
    for (const a of DEFAULT_ACCOUNTS) {
      const got = staffReason(
        { acct: `${a.username}@social.coop.example`, permissions: computedPermissions(a.role) },
        none
      );
      expect(got, `${a.username} (${a.role.name || 'no role'})`).toBe(expected[a.username]);
    }
    expect(DEFAULT_ACCOUNTS.find((a) => a.username === 'emil')?.role.name).toBe('Admin');
    expect(DEFAULT_ACCOUNTS.find((a) => a.username === 'gwen')?.role.name).toBe('Gardener');
  });
});
