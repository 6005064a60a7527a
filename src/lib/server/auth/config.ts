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
  /** Role names that may see the staff pages (case-insensitive). */
  staffRoles: Set<string>;
  /** Handles allowed regardless of role, normalised to user@domain. */
  staffHandles: Set<string>;
  publicPages: Set<string>;
  unknownPublicPages: string[];
  sessionTtlSeconds: number;
  /** ORIGIN when set (adapter-node's own variable); otherwise the request's origin is used. */
  origin: string | null;
  metricsToken: string | null;
  /** Fixed OAuth client (skips registration), from FEDIPULSE_OAUTH_CLIENT_ID / _SECRET. */
  fixedClient: { clientId: string; clientSecret: string } | null;
  /** Beside the database: the registered app and the generated session secret. */
  appFile: string;
  secretFile: string;
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
  const hours = Number(env.FEDIPULSE_SESSION_HOURS ?? '12');
  const roles = (env.FEDIPULSE_STAFF_ROLES ?? 'Owner,Admin,Moderator')
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter(Boolean);
  const handles = (env.FEDIPULSE_STAFF ?? '')
    .split(/[\s,]+/)
    .map((h) => normaliseHandle(h, ownDomain))
    .filter((h): h is string => Boolean(h));
  const clientId = env.FEDIPULSE_OAUTH_CLIENT_ID?.trim();
  const clientSecret = env.FEDIPULSE_OAUTH_CLIENT_SECRET?.trim();
  return {
    instanceUrl,
    browserUrl: env.FEDIPULSE_OAUTH_BROWSER_URL?.trim().replace(/\/+$/, '') || instanceUrl,
    staffRoles: new Set(roles),
    staffHandles: new Set(handles),
    publicPages: pages,
    unknownPublicPages: unknown,
    sessionTtlSeconds: Math.round(
      (Number.isFinite(hours) && hours > 0 ? Math.min(hours, 24 * 30) : 12) * 3600
    ),
    origin: env.ORIGIN?.trim().replace(/\/+$/, '') || null,
    metricsToken: env.FEDIPULSE_METRICS_TOKEN?.trim() || null,
    fixedClient: clientId && clientSecret ? { clientId, clientSecret } : null,
    appFile: `${dbPath}.oauth-app.json`,
    secretFile: `${dbPath}.session-secret`
  };
}

/** Write a small private file (mode 0600) beside the database, creating its folder. */
export function writePrivateFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode otherwise
}

/**
 * The HMAC key for cookies: FEDIPULSE_SESSION_SECRET, else a random key generated once and kept beside
 * the database (so sessions survive a restart and every worker agrees).
 */
export function loadSessionSecret(env: NodeJS.ProcessEnv, secretFile: string): Buffer {
  const fromEnv = env.FEDIPULSE_SESSION_SECRET?.trim();
  if (fromEnv) {
    if (fromEnv.length < 16) throw new Error('FEDIPULSE_SESSION_SECRET must be at least 16 characters');
    return Buffer.from(fromEnv, 'utf8');
  }
  if (existsSync(secretFile)) {
    const text = readFileSync(secretFile, 'utf8').trim();
    if (text.length >= 32) return Buffer.from(text, 'base64url');
  }
  const key = randomBytes(32).toString('base64url');
  writePrivateFile(secretFile, `${key}\n`);
  return Buffer.from(key, 'base64url');
}

/** Staff by role name or allowlisted handle; anything else is refused. */
export function staffReason(
  account: { acct: string; roleName: string },
  cfg: Pick<AuthConfig, 'staffRoles' | 'staffHandles'>
): 'role' | 'allowlist' | null {
  if (account.roleName && cfg.staffRoles.has(account.roleName.toLowerCase())) return 'role';
  if (cfg.staffHandles.has(account.acct.toLowerCase())) return 'allowlist';
  return null;
}
