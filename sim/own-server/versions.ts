/** Which Mastodon the co-op ran when, and which API features each version has. */

/** The co-op upgrades within a few weeks of each release; the stack beneath moves more slowly. */
const UPGRADES: [string, string, string, string, string][] = [
  // date, mastodon, ruby, postgresql, redis
  ['2023-10-01', '4.2.0', '3.2.2p53', '15.4', '7.2.1'],
  ['2023-12-05', '4.2.3', '3.2.2p53', '15.5', '7.2.3'],
  ['2024-02-16', '4.2.7', '3.2.3p157', '15.6', '7.2.4'],
  ['2024-07-05', '4.2.10', '3.2.4p170', '15.7', '7.2.5'],
  ['2024-10-14', '4.3.0', '3.3.5p100', '16.4', '7.2.5'],
  ['2024-12-04', '4.3.2', '3.3.6p108', '16.6', '7.4.1'],
  ['2025-03-14', '4.3.6', '3.3.7p123', '16.8', '7.4.2'],
  ['2025-07-10', '4.4.1', '3.4.4p34', '17.5', '7.4.4'],
  ['2025-10-22', '4.4.8', '3.4.7p58', '17.6', '8.0.4'],
  ['2025-11-12', '4.5.0', '3.4.7p58', '17.6', '8.0.4'],
  ['2026-02-18', '4.5.6', '3.4.8p72', '17.8', '8.2.2'],
  ['2026-07-02', '4.5.11', '3.4.9p82', '18.1', '8.2.3']
];

export interface Stack {
  mastodon: string;
  ruby: string;
  postgresql: string;
  redis: string;
}

export function stackAt(ms: number, pinned?: string): Stack {
  let row = UPGRADES[0];
  for (const u of UPGRADES) if (Date.parse(u[0]) + 3 * 3_600_000 <= ms) row = u;
  const mastodon = pinned ?? row[1];
  // A pinned old version runs on the stack it shipped with.
  if (pinned && !atLeast(pinned, '4.0'))
    return { mastodon, ruby: '3.0.4p208', postgresql: '14.5', redis: '6.2.7' };
  return { mastodon, ruby: row[2], postgresql: row[3], redis: row[4] };
}

/** Numeric comparison of dotted versions, ignoring suffixes (`4.3.2+glitch` >= `4.3`). */
export function atLeast(version: string, min: string): boolean {
  const a = version
    .split(/[^\d.]/)[0]
    .split('.')
    .map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    if (x !== b[i]) return x > b[i];
  }
  return true;
}

/**
 * The security releases 4.4.21, 4.5.14 and 4.6.4 cap `Admin::Metrics::Retention` to the last 12 months
 * (monthly) or 31 days (daily) before `end_at` (app/lib/admin/metrics/retention.rb).
 */
export function retentionCapped(version: string): boolean {
  if (atLeast(version, '4.7')) return true;
  if (atLeast(version, '4.6')) return atLeast(version, '4.6.4');
  if (atLeast(version, '4.5')) return atLeast(version, '4.5.14');
  if (atLeast(version, '4.4')) return atLeast(version, '4.4.21');
  return false;
}

/**
 * From 4.6 `ReportFilter` casts `resolved` to a boolean (app/models/report_filter.rb), so `resolved=false` lists
 * open reports; before, any non-empty `resolved` merged `Report.resolved`.
 */
export const resolvedParamIsBoolean = (version: string): boolean => atLeast(version, '4.6');
