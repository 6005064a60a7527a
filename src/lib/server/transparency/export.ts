import { financeSectionRows } from '../finances/index.ts';
import type { Num, PublishedReport } from './report.ts';

/**
 * CSV of a published report, one fact per row (schema 1.0 in docs/transparency.md):
 * schema_version,period,section,metric,key,value,suppressed,unit,date,severity,text
 */
export const CSV_HEADER = [
  'schema_version',
  'period',
  'section',
  'metric',
  'key',
  'value',
  'suppressed',
  'unit',
  'date',
  'severity',
  'text'
] as const;

/** Quote when needed; text starting like a formula is defused so spreadsheets never evaluate it. */
export function csvCell(v: string | number | boolean | null, isText = false): string {
  if (v === null) return '';
  let s = String(v);
  if (isText && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(r: PublishedReport): string {
  const rows: string[] = [CSV_HEADER.join(',')];
  const add = (
    section: string,
    metric: string,
    key: string,
    n: Num | null,
    unit: string,
    date: string | null = null,
    text: string | null = null,
    severity: string | null = null
  ) =>
    rows.push(
      [
        csvCell(r.schema_version),
        csvCell(r.period.id),
        csvCell(section),
        csvCell(metric),
        csvCell(key, true),
        csvCell(n ? n.value : null),
        csvCell(n ? n.suppressed : null),
        csvCell(unit),
        csvCell(date),
        csvCell(severity, true),
        csvCell(text, true)
      ].join(',')
    );
  add('coverage', 'days_in_period', '', { value: r.coverage.days_in_period, suppressed: false }, 'days');
  add('coverage', 'days_with_data', '', { value: r.coverage.days_with_data, suppressed: false }, 'days');
  add('coverage', 'share', '', r.coverage.share, 'ratio');
  const m = r.members;
  add('members', 'total', '', m.total, 'accounts', r.period.end);
  add('members', 'total_previous', r.period.previous, m.total_previous, 'accounts');
  add('members', 'total_change', '', m.total_change, 'accounts');
  add('members', 'total_change_share', '', m.total_change_share, 'ratio');
  add('members', 'active', '', m.active, 'accounts', r.period.end);
  add('members', 'active_previous', r.period.previous, m.active_previous, 'accounts');
  add('members', 'active_change', '', m.active_change, 'accounts');
  add('members', 'active_change_share', '', m.active_change_share, 'ratio');
  add('members', 'signups', '', m.signups, 'accounts');
  const p = r.reports;
  add('reports', 'received', '', p.received, 'reports');
  add('reports', 'about_local_accounts', '', p.about_local_accounts, 'reports');
  add('reports', 'about_remote_accounts', '', p.about_remote_accounts, 'reports');
  add('reports', 'handled', '', p.handled, 'reports');
  add('reports', 'open_at_end', '', p.open_at_end, 'reports', r.period.end);
  add('reports', 'resolved_within_24h_share', '', p.resolved_within_24h_share, 'ratio');
  add('reports', 'resolved_within_7d_share', '', p.resolved_within_7d_share, 'ratio');
  add('reports', 'median_hours_to_resolve', '', p.median_hours_to_resolve, 'hours');
  for (const c of p.by_category) add('reports', 'by_category', c.category, c.count, 'reports');
  for (const e of ['added', 'removed'] as const) {
    for (const d of r.defederation[e])
      add('defederation', e, d.domain, null, '', d.date, d.public_comment, d.severity);
  }
  for (const rule of r.rules) add('rules', 'in_force', rule.id, null, '', r.period.end, rule.text);
  add('federation', 'peers_limiting_us', '', r.federation.peers_limiting_us, 'servers');
  if (r.finances) {
    for (const f of financeSectionRows(r.finances)) {
      const numeric = typeof f.value === 'number' || f.value === null;
      add(
        f.section,
        f.metric,
        '',
        numeric ? { value: f.value as number | null, suppressed: false } : null,
        f.unit,
        null,
        numeric ? null : String(f.value)
      );
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
