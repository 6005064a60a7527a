import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openReadOnly } from '../../../../collectors/store/database.ts';
import { latestSnapshot } from '../../../../collectors/store/snapshots.ts';
import { scheduleStatus } from '../schedule/status.ts';
import { alertConfig, currentAlerts, mergeAlerts, scheduleAlerts, type Alert } from './index.ts';

/**
 * The webhook sender (FEDIPULSE_ALERT_WEBHOOK): after each scheduled run, POSTs the alert conditions that
 * are new since the last message, once each. What was sent is remembered in `<db>.alerts.json`; a condition
 * that clears and comes back later is new again. A failed POST is retried after the next run.
 */
export interface AlertState {
  version: 1;
  /** Conditions holding at the last check, by key, and when the webhook accepted them (null: not yet). */
  active: Record<string, { first_seen_at: string; sent_at: string | null }>;
}

export const alertStatePath = (dbPath: string) => `${dbPath}.alerts.json`;

function readState(dbPath: string): AlertState {
  try {
    const s = JSON.parse(readFileSync(alertStatePath(dbPath), 'utf8')) as AlertState;
    if (s && s.version === 1 && typeof s.active === 'object' && s.active) return s;
  } catch {
    // No state yet (or unreadable): every current condition counts as new, the safe side for an alert.
  }
  return { version: 1, active: {} };
}

function writeState(dbPath: string, s: AlertState): void {
  const file = alertStatePath(dbPath);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, file);
}

const ICON = { critical: '🔴', warning: '🟠' } as const;

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const ZWSP = '\u200b';
const MAX_LINE = 500;

/**
 * Alert text made inert for every place a webhook's message lands (Slack, Discord, Matrix, a Mastodon bot),
 * because parts of it come from outside: peer domains and collector messages (which quote what a peer
 * answered). A zero-width space after `@` stops @everyone, @here, @room, <@U…> and @user@host from
 * notifying anyone; `<` and `>` become ‹ › so Slack's control sequences (<!channel>, <url|label>), Discord's
 * <@id> and HTML never form; `](` and `://` are split so no markdown link, image or bare URL is made; line
 * breaks and control characters become spaces, so a message cannot forge extra lines. Our own wording uses
 * none of these, so it reads unchanged.
 */
export function inert(s: string): string {
  const t = s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ')
    .replace(/@/g, `@${ZWSP}`)
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/\]\s*\(/g, `]${ZWSP}(`)
    .replace(/:\/\//g, `:${ZWSP}//`);
  return t.length > MAX_LINE ? `${t.slice(0, MAX_LINE - 1)}…` : t;
}

/** An alert as the webhook carries it: every string inert (see inert()). */
function inertAlert(a: Alert): Alert {
  const fields: Alert['fields'] = {};
  for (const [k, v] of Object.entries(a.fields)) fields[k] = typeof v === 'string' ? inert(v) : v;
  return { ...a, key: inert(a.key), title: inert(a.title), text: inert(a.text), fields };
}

/**
 * The JSON body: `text` (Slack, Matrix hookshot, most relays post it as is), `html` (Matrix), and the
 * structured `alerts` for relays that format their own message. Text from outside is made inert first.
 */
export function webhookBody(raw: Alert[], instance: string | null, now: Date, dashboardUrl: string | null) {
  const alerts = raw.map(inertAlert);
  const head = `fedipulse${instance ? ` (${instance})` : ''}: ${alerts.length} new alert${alerts.length === 1 ? '' : 's'}`;
  const lines = alerts.map((a) => `${ICON[a.severity]} ${a.title}. ${a.text}`);
  const tail = dashboardUrl ? `\n${dashboardUrl}` : '';
  return {
    text: [head, ...lines].join('\n') + tail,
    html:
      `<p><strong>${escapeHtml(head)}</strong></p><ul>` +
      alerts
        .map(
          (a) => `<li>${ICON[a.severity]} <strong>${escapeHtml(a.title)}</strong>. ${escapeHtml(a.text)}</li>`
        )
        .join('') +
      `</ul>` +
      (dashboardUrl ? `<p><a href="${escapeHtml(dashboardUrl)}">${escapeHtml(dashboardUrl)}</a></p>` : ''),
    username: 'fedipulse',
    source: 'fedipulse',
    instance,
    sent_at: now.toISOString(),
    dashboard_url: dashboardUrl,
    alerts
  };
}

export interface NotifyOptions {
  dbPath: string;
  now?: Date;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  log?: (line: string) => void;
}

export interface NotifyResult {
  active: Alert[];
  sent: Alert[];
  error: string | null;
}

/** Checks the conditions on the newest snapshot and sends the new ones; a no-op without a webhook. */
export async function notifyAlerts(o: NotifyOptions): Promise<NotifyResult> {
  const env = o.env ?? process.env;
  const url = env.FEDIPULSE_ALERT_WEBHOOK?.trim();
  if (!url) return { active: [], sent: [], error: null };
  const now = o.now ?? new Date();
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const config = alertConfig(env);
  let fromDb: Alert[] = [];
  const snapshot = latestSnapshot(o.dbPath);
  if (snapshot) {
    const db = await openReadOnly(snapshot, { sandboxed: true });
    try {
      fromDb = await currentAlerts(db, now, config);
    } finally {
      db.close();
    }
  }
  // Overview-only conditions (a single failed run) are not pushed.
  const active = mergeAlerts(fromDb, scheduleAlerts(scheduleStatus(o.dbPath), config)).filter(
    (a) => a.notify
  );
  const prev = readState(o.dbPath);
  const next: AlertState = { version: 1, active: {} };
  for (const a of active) {
    next.active[a.key] = prev.active[a.key] ?? { first_seen_at: now.toISOString(), sent_at: null };
  }
  const fresh = active.filter((a) => !next.active[a.key].sent_at);
  let error: string | null = null;
  if (fresh.length > 0) {
    let instance: string | null;
    try {
      instance = env.FEDIPULSE_INSTANCE_URL ? new URL(env.FEDIPULSE_INSTANCE_URL).host : null;
    } catch {
      instance = null;
    }
    const body = webhookBody(fresh, instance, now, env.ORIGIN?.trim() || null);
    const where = (() => {
      try {
        return new URL(url).host; // the rest of a webhook URL is often its secret: never logged
      } catch {
        return 'the webhook';
      }
    })();
    try {
      const res = await (o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'fedipulse-alerts' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000)
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      for (const a of fresh) next.active[a.key].sent_at = now.toISOString();
      log(`fedipulse alerts: sent ${fresh.length} new alert(s) to ${where}`);
    } catch (err) {
      error = `could not send ${fresh.length} alert(s) to ${where}: ${(err as Error).message}; will retry after the next run`;
      log(`fedipulse alerts: ${error}`);
    }
  }
  writeState(o.dbPath, next);
  return { active, sent: error ? [] : fresh, error };
}
