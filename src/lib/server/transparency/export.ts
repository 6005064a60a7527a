import { csvCell as cell } from '../csv.ts';
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

/** Every CSV cell goes through the one helper (src/lib/server/csv.ts); it defuses any string cell. */
export function csvCell(v: string | number | boolean | null, _isText = false): string {
  return cell(v);
}

/** The words for a suppressed number, as on the page. */
export function suppressedText(n: Num, k: number): string {
  return n.reason === 'complementary' ? 'not shown: would reveal a small count' : `fewer than ${k}`;
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
        // A suppressed number says so in words too, never as an empty cell a spreadsheet sums as zero.
        csvCell(text ?? (n?.suppressed ? suppressedText(n, r.privacy.min_count) : null), true)
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
    const n = r.defederation[`${e}_count`];
    if (r.defederation.shown === 'counts' && n !== null)
      add(
        'defederation',
        `${e}_count`,
        '',
        { value: n, suppressed: false },
        'servers',
        null,
        r.defederation.note
      );
    for (const d of r.defederation[e])
      add('defederation', e, d.domain, null, '', d.date, d.public_comment, d.severity);
  }
  for (const rule of r.rules) add('rules', 'in_force', rule.id, null, '', r.period.end, rule.text);
  add('federation', 'peers_limiting_us', '', r.federation.peers_limiting_us, 'servers');
  if (r.finances) {
    for (const f of financeSectionRows(r.finances)) {
      const numeric = typeof f.value === 'number' || f.value === null;
      const hidden = f.metric === 'cost_per_active_member' && r.finances.costPerActiveMemberSuppressed;
      add(
        f.section,
        f.metric,
        '',
        hidden
          ? { value: null, suppressed: true, reason: 'complementary' }
          : numeric
            ? { value: f.value as number | null, suppressed: false }
            : null,
        f.unit,
        null,
        numeric ? null : String(f.value)
      );
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
