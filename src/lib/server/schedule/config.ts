import { Cron } from 'croner';

/**
 * When `npm start` runs collections by itself. Pure: reads an environment object, never the process.
 *
 *   FEDIPULSE_SCHEDULE                 on | off (default: on when FEDIPULSE_INSTANCE_URL is set)
 *   FEDIPULSE_SCHEDULE_INSTANCE        cron for the own server (default hourly at :07), or off
 *   FEDIPULSE_SCHEDULE_PEERS           cron for the peer crawl (default daily 03:23), or off
 *   FEDIPULSE_SCHEDULE_JITTER_MINUTES  random delay added to each peer crawl (default 30)
 *   FEDIPULSE_SCHEDULE_TIMEOUT_MINUTES a collection running longer is stopped (default 360)
 *   FEDIPULSE_SCHEDULE_TZ              time zone for the cron expressions (default: the system's)
 */
export const SCHEDULED_KINDS = ['instance', 'peers'] as const;
export type ScheduledKind = (typeof SCHEDULED_KINDS)[number];

export const DEFAULT_CRON: Record<ScheduledKind, string> = {
  instance: '7 * * * *',
  peers: '23 3 * * *'
};

export interface ScheduleConfig {
  enabled: boolean;
  /** Why it is on or off, in words (logged at start, shown on /status). */
  reason: string;
  /** Cron per kind; null = that kind is not scheduled. */
  cron: Record<ScheduledKind, string | null>;
  /** Upper bound of the random delay before each run of a kind (ms). */
  jitterMs: Record<ScheduledKind, number>;
  timeoutMs: number;
  timezone: string | null;
}

function minutes(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback * 60_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name} must be a number of minutes (0 or more), not "${raw}"`);
  return n * 60_000;
}

function cronFor(env: NodeJS.ProcessEnv, kind: ScheduledKind, timezone: string | null): string | null {
  const name = `FEDIPULSE_SCHEDULE_${kind.toUpperCase()}`;
  const raw = env[name]?.trim() || DEFAULT_CRON[kind];
  if (/^(off|none|false|0)$/i.test(raw)) return null;
  try {
    new Cron(raw, { paused: true, ...(timezone ? { timezone } : {}) }).stop();
  } catch (err) {
    throw new Error(`${name}="${raw}" is not a cron expression (${(err as Error).message})`, { cause: err });
  }
  return raw;
}

export function scheduleConfig(env: NodeJS.ProcessEnv = process.env): ScheduleConfig {
  const switchRaw = env.FEDIPULSE_SCHEDULE?.trim().toLowerCase() ?? '';
  if (switchRaw && !['on', 'off', 'true', 'false', '1', '0'].includes(switchRaw)) {
    throw new Error(`FEDIPULSE_SCHEDULE must be on or off, not "${env.FEDIPULSE_SCHEDULE}"`);
  }
  const timezone = env.FEDIPULSE_SCHEDULE_TZ?.trim() || null;
  let enabled: boolean;
  let reason: string;
  if (switchRaw) {
    enabled = ['on', 'true', '1'].includes(switchRaw);
    reason = `FEDIPULSE_SCHEDULE=${switchRaw}`;
  } else {
    enabled = Boolean(env.FEDIPULSE_INSTANCE_URL?.trim());
    reason = enabled ? 'FEDIPULSE_INSTANCE_URL is set' : 'FEDIPULSE_INSTANCE_URL is not set';
  }
  const cron = {
    instance: cronFor(env, 'instance', timezone),
    peers: cronFor(env, 'peers', timezone)
  };
  return {
    enabled: enabled && (cron.instance !== null || cron.peers !== null),
    reason,
    cron,
    jitterMs: { instance: 0, peers: minutes(env, 'FEDIPULSE_SCHEDULE_JITTER_MINUTES', 30) },
    timeoutMs: minutes(env, 'FEDIPULSE_SCHEDULE_TIMEOUT_MINUTES', 360),
    timezone
  };
}
