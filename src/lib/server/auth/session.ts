import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed cookies: base64url(JSON payload) "." base64url(HMAC-SHA256). Nothing secret is inside (no
 * access token is ever kept): the signature only proves the server wrote it, and `exp` bounds its life.
 */
export interface SessionUser {
  /** Account id on the own server. */
  id: string;
  /** Full handle, user@domain. */
  acct: string;
  displayName: string;
  /** Role name from verify_credentials ('' for none). */
  role: string;
  /** Why this account may see the staff pages: its role, or the FEDIPULSE_STAFF allowlist. */
  via: 'role' | 'allowlist';
}

export interface Session {
  v: 1;
  /** Session id: sign-out puts it on a deny-list until it expires. */
  sid: string;
  user: SessionUser;
  /** Issued at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
}

const b64 = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

function mac(secret: Buffer, purpose: string, body: string): Buffer {
  // The purpose is part of the MAC so that a cookie of one kind is never accepted as another.
  return createHmac('sha256', secret).update(`${purpose}.${body}`).digest();
}

/** Sign any JSON value for one purpose ('session', 'oauth', 'refused'). */
export function seal(secret: Buffer, purpose: string, value: unknown): string {
  const body = b64(JSON.stringify(value));
  return `${body}.${b64(mac(secret, purpose, body))}`;
}

/** The value, or null when the cookie is malformed, forged, tampered with, or signed for another purpose. */
export function unseal<T>(secret: Buffer, purpose: string, cookie: string | undefined | null): T | null {
  if (!cookie || cookie.length > 4096) return null;
  const dot = cookie.indexOf('.');
  if (dot <= 0 || dot !== cookie.lastIndexOf('.')) return null;
  const body = cookie.slice(0, dot);
  const given = Buffer.from(cookie.slice(dot + 1), 'base64url');
  const want = mac(secret, purpose, body);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

export function newSession(user: SessionUser, ttlSeconds: number, nowMs: number = Date.now()): Session {
  const iat = Math.floor(nowMs / 1000);
  return { v: 1, sid: randomBytes(16).toString('base64url'), user, iat, exp: iat + ttlSeconds };
}

/** A session cookie's content when it is genuine and not expired; null otherwise. */
export function readSession(
  secret: Buffer,
  cookie: string | undefined | null,
  nowMs: number = Date.now(),
  revoked: { has(sid: string): boolean } = new Set<string>()
): Session | null {
  const s = unseal<Session>(secret, 'session', cookie);
  if (!s || s.v !== 1 || typeof s.exp !== 'number' || typeof s.sid !== 'string') return null;
  if (!s.user || typeof s.user.acct !== 'string') return null;
  if (s.exp * 1000 <= nowMs || s.iat * 1000 > nowMs + 300_000) return null;
  if (revoked.has(s.sid)) return null;
  return s;
}

/** Sign-out: the session id is refused until the cookie would have expired anyway (per process). */
export class RevokedSessions {
  private map = new Map<string, number>();
  add(sid: string, exp: number): void {
    this.map.set(sid, exp);
    if (this.map.size > 10_000) this.prune(Date.now());
  }
  has(sid: string): boolean {
    return this.map.has(sid);
  }
  prune(nowMs: number): void {
    for (const [sid, exp] of this.map) if (exp * 1000 <= nowMs) this.map.delete(sid);
  }
}
