import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
  /** Role name from verify_credentials ('' for none), shown only: access is decided by its permissions. */
  role: string;
  /** Why this account may see the staff pages: its role's permissions, or the FEDIPULSE_STAFF allowlist. */
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

/**
 * The signing keys, newest first: the first signs, every one verifies. Rotation puts a new key in front
 * and drops the old one once every cookie it signed has expired. A single Buffer is a ring of one.
 */
export type KeyRing = Buffer | readonly Buffer[];

const ringOf = (keys: KeyRing): readonly Buffer[] => (Buffer.isBuffer(keys) ? [keys] : keys);

const b64 = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

function mac(secret: Buffer, purpose: string, body: string): Buffer {
  // The purpose is part of the MAC so that a cookie of one kind is never accepted as another.
  return createHmac('sha256', secret).update(`${purpose}.${body}`).digest();
}

/** Sign any JSON value for one purpose ('session', 'oauth', 'refused') with the ring's newest key. */
export function seal(keys: KeyRing, purpose: string, value: unknown): string {
  const [current] = ringOf(keys);
  if (!current) throw new Error('no session signing key');
  const body = b64(JSON.stringify(value));
  return `${body}.${b64(mac(current, purpose, body))}`;
}

/** The value, or null when the cookie is malformed, forged, tampered with, or signed for another purpose. */
export function unseal<T>(keys: KeyRing, purpose: string, cookie: string | undefined | null): T | null {
  if (!cookie || cookie.length > 4096) return null;
  const dot = cookie.indexOf('.');
  if (dot <= 0 || dot !== cookie.lastIndexOf('.')) return null;
  const body = cookie.slice(0, dot);
  const given = Buffer.from(cookie.slice(dot + 1), 'base64url');
  const genuine = ringOf(keys).some((key) => {
    const want = mac(key, purpose, body);
    return given.length === want.length && timingSafeEqual(given, want);
  });
  if (!genuine) return null;
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
  keys: KeyRing,
  cookie: string | undefined | null,
  nowMs: number = Date.now(),
  revoked: { has(sid: string): boolean } = new Set<string>()
): Session | null {
  const s = unseal<Session>(keys, 'session', cookie);
  if (!s || s.v !== 1 || typeof s.exp !== 'number' || typeof s.sid !== 'string') return null;
  if (!s.user || typeof s.user.acct !== 'string') return null;
  if (s.exp * 1000 <= nowMs || s.iat * 1000 > nowMs + 300_000) return null;
  if (revoked.has(s.sid)) return null;
  return s;
}

/**
 * Sign-out: the session id is refused until the cookie would have expired anyway. With a file (beside the
 * database, mode 0600) the list outlives a restart and is shared by every process serving the dashboard:
 * a change to the file is read back before the next check. Expired entries are dropped whenever the list
 * is written, so it never holds more than the sign-outs of one session lifetime.
 */
export class RevokedSessions {
  private map = new Map<string, number>();
  private readonly file: string | null;
  private seen = ''; // the file's mtime and size when last read

  constructor(file: string | null = null) {
    this.file = file;
    this.reload();
  }

  add(sid: string, exp: number, nowMs: number = Date.now()): void {
    this.reload();
    this.map.set(sid, exp);
    this.prune(nowMs);
    this.save();
  }

  has(sid: string): boolean {
    this.reload();
    return this.map.has(sid);
  }

  prune(nowMs: number): void {
    for (const [sid, exp] of this.map) if (exp * 1000 <= nowMs) this.map.delete(sid);
  }

  private stamp(): string {
    if (!this.file) return '';
    try {
      const st = statSync(this.file);
      return `${st.mtimeMs}:${st.size}`;
    } catch {
      return '';
    }
  }

  private reload(): void {
    const stamp = this.stamp();
    if (!this.file || !stamp || stamp === this.seen) return;
    this.seen = stamp;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
      for (const [sid, exp] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof exp === 'number' && Number.isFinite(exp)) this.map.set(sid, exp);
      }
    } catch (err) {
      console.warn(`cannot read the signed-out sessions in ${this.file}: ${(err as Error).message}`);
    }
  }

  private save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(this.map))}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file); // atomic: a reader sees the old list or the new one, never half
      this.seen = this.stamp();
    } catch (err) {
      // A read-only data folder: the sign-out still holds in this process until the cookie expires.
      console.warn(`cannot keep signed-out sessions in ${this.file}: ${(err as Error).message}`);
    }
  }
}
