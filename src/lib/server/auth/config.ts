import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parsePublicPages } from './paths.ts';

/** Everything sign-in and access control read from the environment (see docs/auth.md). */
export interface AuthConfig {
  /** The own Mastodon server, for the server-to-server part of OAuth (token, verify_credentials). */
  instanceUrl: string | null;
  /** Where the browser is sent to authorise (default: instanceUrl). The demo points it at the simulator. */
  browserUrl: string | null;
  /** Handles allowed regardless of role, normalised to user@domain. */
  staffHandles: Set<string>;
  publicPages: Set<string>;
  unknownPublicPages: string[];
  sessionTtlSeconds: number;
  /**
   * The dashboard's public origin, from ORIGIN (adapter-node's own variable). Sign-in is off without it: the
   * OAuth redirect URI is never built from a request, whose Host header anyone can choose.
   */
  origin: string | null;
  metricsToken: string | null;
  /** Fixed OAuth client (skips registration), from FEDIPULSE_OAUTH_CLIENT_ID / _SECRET. */
  fixedClient: { clientId: string; clientSecret: string } | null;
  /** Beside the database: the registered app, the generated session keys, the signed-out sessions. */
  appFile: string;
  secretFile: string;
  revokedFile: string;
}

/** Session lifetime: 8 hours by default (a working day), at most 24 (see docs/auth.md, "Sessions"). */
export const SESSION_HOURS = { default: 8, max: 24 } as const;

/** "https://stats.example/" → "https://stats.example"; null when unset or not an http(s) origin. */
export function parseOrigin(value: string | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** "@Alice@Social.Example" → "alice@social.example"; a bare "alice" is a user of the own server. */
export function normaliseHandle(handle: string, ownDomain: string | null): string | null {
  const h = handle.trim().replace(/^@/, '').toLowerCase();
  if (!h) return null;
  const [user, domain, extra] = h.split('@');
  if (extra !== undefined || !user) return null;
  if (domain) return `${user}@${domain}`;
  return ownDomain ? `${user}@${ownDomain.toLowerCase()}` : null;
}

export function loadAuthConfig(env: NodeJS.ProcessEnv, dbPath: string): AuthConfig {
  const instanceUrl = env.FEDIPULSE_INSTANCE_URL?.trim().replace(/\/+$/, '') || null;
  const ownDomain = instanceUrl ? new URL(instanceUrl).hostname : null;
  const { pages, unknown } = parsePublicPages(env.FEDIPULSE_PUBLIC_PAGES);
  const hours = Number(env.FEDIPULSE_SESSION_HOURS ?? SESSION_HOURS.default);
  const handles = (env.FEDIPULSE_STAFF ?? '')
    .split(/[\s,]+/)
    .map((h) => normaliseHandle(h, ownDomain))
    .filter((h): h is string => Boolean(h));
  const clientId = env.FEDIPULSE_OAUTH_CLIENT_ID?.trim();
  const clientSecret = env.FEDIPULSE_OAUTH_CLIENT_SECRET?.trim();
  return {
    instanceUrl,
    browserUrl: env.FEDIPULSE_OAUTH_BROWSER_URL?.trim().replace(/\/+$/, '') || instanceUrl,
    staffHandles: new Set(handles),
    publicPages: pages,
    unknownPublicPages: unknown,
    sessionTtlSeconds: Math.round(
      (Number.isFinite(hours) && hours > 0 ? Math.min(hours, SESSION_HOURS.max) : SESSION_HOURS.default) *
        3600
    ),
    origin: parseOrigin(env.ORIGIN),
    metricsToken: env.FEDIPULSE_METRICS_TOKEN?.trim() || null,
    fixedClient: clientId && clientSecret ? { clientId, clientSecret } : null,
    appFile: `${dbPath}.oauth-app.json`,
    secretFile: `${dbPath}.session-secret`,
    revokedFile: `${dbPath}.revoked-sessions.json`
  };
}

/** Write a small private file (mode 0600) beside the database, creating its folder. */
export function writePrivateFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode otherwise
}

/**
 * The HMAC keys for cookies, newest first (the first signs, all verify): FEDIPULSE_SESSION_SECRET and
 * then FEDIPULSE_SESSION_PREVIOUS_SECRETS (comma-separated), else the keys in the file beside the database,
 * one per line, newest first; the file is created with one random key on first use, so sessions survive a
 * restart and every worker agrees. docs/auth.md says how to rotate.
 */
export function loadSessionKeys(env: NodeJS.ProcessEnv, secretFile: string): Buffer[] {
  const fromEnv = env.FEDIPULSE_SESSION_SECRET?.trim();
  if (fromEnv) {
    const previous = (env.FEDIPULSE_SESSION_PREVIOUS_SECRETS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    for (const k of [fromEnv, ...previous]) {
      if (k.length < 16)
        throw new Error(
          'FEDIPULSE_SESSION_SECRET and each of FEDIPULSE_SESSION_PREVIOUS_SECRETS must be at least 16 characters'
        );
    }
    return [fromEnv, ...previous].map((k) => Buffer.from(k, 'utf8'));
  }
  if (existsSync(secretFile)) {
    const keys = readFileSync(secretFile, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length >= 32)
      .map((line) => Buffer.from(line, 'base64url')); // standard base64 (openssl rand -base64) reads too
    if (keys.length) return keys;
  }
  const key = randomBytes(32).toString('base64url');
  writePrivateFile(secretFile, `${key}\n`);
  return [Buffer.from(key, 'base64url')];
}

/**
 * Mastodon's UserRole::FLAGS (app/models/user_role.rb): administrator is 1 << 0, view_dashboard 1 << 3.
 * verify_credentials gives the role's computed permissions as a decimal string.
 */
export const ROLE_FLAGS = { administrator: 1n << 0n, viewDashboard: 1n << 3n } as const;

/** May this permission bit field see the admin dashboard? The check Mastodon's own dashboard makes. */
export function canViewDashboard(permissions: string | number | null | undefined): boolean {
  const text = String(permissions ?? '').trim();
  if (!/^\d{1,20}$/.test(text)) return false;
  const bits = BigInt(text);
  return (bits & (ROLE_FLAGS.administrator | ROLE_FLAGS.viewDashboard)) !== 0n;
}

/** Staff by role permissions or allowlisted handle; a role's name never matters. Anything else is refused. */
export function staffReason(
  account: { acct: string; permissions: string },
  cfg: Pick<AuthConfig, 'staffHandles'>
): 'role' | 'allowlist' | null {
  if (canViewDashboard(account.permissions)) return 'role';
  if (cfg.staffHandles.has(account.acct.toLowerCase())) return 'allowlist';
  return null;
}
