import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Configuration comes from the environment only (secrets never from files in the repo);
 * a `.env` file in the working directory fills in what the environment leaves unset.
 */
export interface ConnectToRule {
  fromHost: string; // '' = any
  fromPort: string; // '' = any
  toHost: string; // '' = keep
  toPort: string; // '' = keep
}

export interface Config {
  dbPath: string;
  instanceUrl: string | null;
  contact: string | null;
  connectTo: ConnectToRule[];
  /** Read through tokenFor() so that the token never sits in a logged object. */
  hasToken: boolean;
  /** FEDIPULSE_METRICS_PUBLIC=true: /metrics answers anyone (unless FEDIPULSE_METRICS_TOKEN is set). */
  metricsPublic: boolean;
}

let envLoaded = false;
/** Set (to 1) in the environment of collector processes started by the scheduler. */
export const NO_DOTENV = 'FEDIPULSE_NO_DOTENV';

/** Load `.env` once; variables already set in the environment win. */
export function loadDotEnv(cwd: string = process.cwd()): void {
  if (envLoaded) return;
  envLoaded = true;
  // A scheduled collection gets its environment, filtered, from `npm start` (collectors/process.ts): the
  // `.env` file would hand it the secrets the filter left out.
  if (process.env[NO_DOTENV] === '1') return;
  const file = path.join(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

/** curl's --connect-to syntax: HOST1:PORT1:HOST2:PORT2, empty parts are wildcards; IPv6 hosts in brackets. */
export function parseConnectTo(spec: string): ConnectToRule {
  const parts: string[] = [];
  let rest = spec.trim();
  for (let i = 0; i < 4; i++) {
    if (i === 3) {
      parts.push(rest);
      break;
    }
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) throw new Error(`connect-to rule "${spec}": unclosed [ in an IPv6 address`);
      parts.push(rest.slice(1, end));
      rest = rest.slice(end + 1);
      if (!rest.startsWith(':')) throw new Error(`connect-to rule "${spec}": expected ':' after ]`);
      rest = rest.slice(1);
    } else {
      const colon = rest.indexOf(':');
      if (colon < 0)
        throw new Error(`connect-to rule "${spec}" must be HOST1:PORT1:HOST2:PORT2 (parts may be empty)`);
      parts.push(rest.slice(0, colon));
      rest = rest.slice(colon + 1);
    }
  }
  const [fromHost, fromPort, toHost, toPort] = parts as [string, string, string, string];
  for (const p of [fromPort, toPort]) {
    if (p !== '' && !/^\d{1,5}$/.test(p)) throw new Error(`connect-to rule "${spec}": "${p}" is not a port`);
  }
  return { fromHost: fromHost.toLowerCase(), fromPort, toHost, toPort };
}

/** The first rule that matches host:port, as curl applies them. */
export function applyConnectTo(
  rules: ConnectToRule[],
  host: string,
  port: number
): { host: string; port: number; mapped: boolean } {
  const h = host.toLowerCase();
  for (const r of rules) {
    if ((r.fromHost === '' || r.fromHost === h) && (r.fromPort === '' || Number(r.fromPort) === port)) {
      return { host: r.toHost || host, port: r.toPort ? Number(r.toPort) : port, mapped: true };
    }
  }
  return { host, port, mapped: false };
}

/** true/yes/on/1 or false/no/off/0 (unset: false); anything else is a mistake worth stopping for. */
export function parseBool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase() ?? '';
  if (['true', 'yes', 'on', '1'].includes(raw)) return true;
  if (['', 'false', 'no', 'off', '0'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, not "${env[name]}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, extraConnectTo: string[] = []): Config {
  const specs = [...(env.FEDIPULSE_CONNECT_TO ?? '').split(/\s+/).filter(Boolean), ...extraConnectTo];
  const instanceUrl = env.FEDIPULSE_INSTANCE_URL?.trim() || null;
  if (instanceUrl) {
    let u: URL;
    try {
      u = new URL(instanceUrl);
    } catch {
      throw new Error(
        `FEDIPULSE_INSTANCE_URL "${instanceUrl}" is not a URL; use e.g. https://social.example`
      );
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new Error(`FEDIPULSE_INSTANCE_URL must start with https:// (or http:// for a local server)`);
    }
  }
  return {
    dbPath: path.resolve(env.FEDIPULSE_DB?.trim() || 'data/fedipulse.duckdb'),
    instanceUrl: instanceUrl ? instanceUrl.replace(/\/+$/, '') : null,
    contact: env.FEDIPULSE_CONTACT?.trim() || null,
    connectTo: specs.map(parseConnectTo),
    hasToken: Boolean(env.FEDIPULSE_TOKEN?.trim()),
    metricsPublic: parseBool(env, 'FEDIPULSE_METRICS_PUBLIC')
  };
}

/** The admin token, only ever handed to the client for the own server's origin. */
export function tokenFor(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.FEDIPULSE_TOKEN?.trim() || null;
}
