/**
 * A careful reader with a spreadsheet: takes every published report (JSON and CSV) of every period, writes
 * down every exact identity a reader knows between their numbers, and solves them all at once for the
 * numbers marked suppressed. Written apart from the code under test (src/lib/server/transparency/
 * disclosure.ts): it knows only the published documents and the definitions in docs/transparency.md.
 */
import { parsePeriod } from '../../src/lib/server/transparency/period.ts';

interface NumLike {
  value: number | null;
  suppressed: boolean;
}
/** The parts of a published report (JSON) the reader uses. */
export interface ReportJson {
  period: { id: string; end: string; previous: string };
  members: Record<string, NumLike>;
  reports: Record<string, NumLike | { category: string; count: NumLike }[]> & {
    by_category: { category: string; count: NumLike }[];
  };
  finances?: { activeMembers: number | null } | null;
}

export interface Leak {
  variable: string;
  value: number;
  how: string;
}

type Term = [string, number];

const FLOW_FIELDS: Record<string, string> = {
  received: 'rec',
  handled: 'han',
  about_local_accounts: 'loc',
  about_remote_accounts: 'rem',
  signups: 'sign'
};

/** Last day (inclusive) of a period id. */
const lastDay = (id: string) => parsePeriod(id)!.last;

export class Reader {
  known = new Map<string, number>();
  suppressed = new Set<string>();
  identities: { terms: Term[]; what: string }[] = [];
  problems: string[] = [];
  private periods = new Set<string>();

  private learn(v: string, n: NumLike | null | undefined, where: string): void {
    if (!n) return;
    if (n.suppressed) {
      this.suppressed.add(v);
      if (n.value !== null) this.problems.push(`${where}: suppressed but carries ${n.value}`);
      return;
    }
    if (n.value === null) return;
    const had = this.known.get(v);
    if (had !== undefined && Math.abs(had - n.value) > 1e-9)
      this.problems.push(`${where}: ${v} published as ${had} and as ${n.value}`);
    this.known.set(v, n.value);
  }

  /** What one report's JSON says. */
  readJson(r: ReportJson): void {
    const P = r.period.id;
    this.periods.add(P);
    const end = r.period.end;
    const prevEnd = lastDay(r.period.previous);
    const m = r.members;
    this.learn(`tot@${end}`, m.total, `${P}.json members.total`);
    this.learn(`tot@${prevEnd}`, m.total_previous, `${P}.json members.total_previous`);
    this.learn(`act@${end}`, m.active, `${P}.json members.active`);
    this.learn(`act@${prevEnd}`, m.active_previous, `${P}.json members.active_previous`);
    this.learn(`tchg@${P}`, m.total_change, `${P}.json members.total_change`);
    this.learn(`achg@${P}`, m.active_change, `${P}.json members.active_change`);
    this.learn(`sign@${P}`, m.signups, `${P}.json members.signups`);
    for (const [field, v] of Object.entries(FLOW_FIELDS)) {
      if (field !== 'signups')
        this.learn(`${v}@${P}`, r.reports[field] as NumLike, `${P}.json reports.${field}`);
    }
    this.learn(`open@${end}`, r.reports.open_at_end as NumLike, `${P}.json reports.open_at_end`);
    for (const c of r.reports.by_category)
      this.learn(`cat.${c.category}@${P}`, c.count, `${P}.json ${c.category}`);
    if (r.finances && r.finances.activeMembers !== null) {
      this.learn(`act@${end}`, { value: r.finances.activeMembers, suppressed: false }, `${P}.json finances`);
    }
    // Identities from the definitions.
    this.identities.push(
      {
        terms: [
          [`rec@${P}`, 1],
          [`loc@${P}`, -1],
          [`rem@${P}`, -1]
        ],
        what: `${P}: received = local + remote`
      },
      {
        terms: [[`rec@${P}`, 1], ...r.reports.by_category.map((c): Term => [`cat.${c.category}@${P}`, -1])],
        what: `${P}: received = Σ categories`
      },
      {
        terms: [
          [`open@${prevEnd}`, 1],
          [`rec@${P}`, 1],
          [`han@${P}`, -1],
          [`open@${end}`, -1]
        ],
        what: `${P}: open before + received − handled = open at end`
      },
      {
        terms: [
          [`tchg@${P}`, 1],
          [`tot@${end}`, -1],
          [`tot@${prevEnd}`, 1]
        ],
        what: `${P}: total change = total − previous`
      },
      {
        terms: [
          [`achg@${P}`, 1],
          [`act@${end}`, -1],
          [`act@${prevEnd}`, 1]
        ],
        what: `${P}: active change = active − previous`
      }
    );
    // A published share ties its numerator to the count it divides: w = share × received.
    for (const [field, v] of [
      ['resolved_within_24h_share', 'w24'],
      ['resolved_within_7d_share', 'w7']
    ] as const) {
      const s = r.reports[field] as NumLike;
      if (s && !s.suppressed && s.value !== null)
        this.identities.push({
          terms: [
            [`${v}@${P}`, 1],
            [`rec@${P}`, -s.value]
          ],
          what: `${P}: ${field} × received`
        });
    }
    for (const [field, chg, stock] of [
      ['total_change_share', 'tchg', 'tot'],
      ['active_change_share', 'achg', 'act']
    ] as const) {
      const s = m[field];
      if (s && !s.suppressed && s.value !== null)
        this.identities.push({
          terms: [
            [`${chg}@${P}`, 1],
            [`${stock}@${prevEnd}`, -s.value]
          ],
          what: `${P}: ${field} × previous`
        });
    }
  }

  /** What one report's CSV says (section,metric,key,value,suppressed,…). */
  readCsv(csv: string): void {
    const rows = csv.trim().split('\r\n').slice(1);
    for (const line of rows) {
      const cells = line.split(',');
      const [, P, section, metric, key, value, suppressed] = cells;
      const n: NumLike =
        suppressed === 'true'
          ? { value: value === '' ? null : Number(value), suppressed: true }
          : { value: value === '' ? null : Number(value), suppressed: false };
      if (suppressed === 'true' && !/fewer than|not shown/.test(line))
        this.problems.push(`${P}.csv ${metric}: suppressed without saying so`);
      const end = lastDay(P);
      const v =
        section === 'members'
          ? {
              total: `tot@${end}`,
              total_previous: key ? `tot@${lastDay(key)}` : '',
              active: `act@${end}`,
              active_previous: key ? `act@${lastDay(key)}` : '',
              total_change: `tchg@${P}`,
              active_change: `achg@${P}`,
              signups: `sign@${P}`
            }[metric]
          : section === 'reports'
            ? metric === 'by_category'
              ? `cat.${key}@${P}`
              : metric === 'open_at_end'
                ? `open@${end}`
                : FLOW_FIELDS[metric]
                  ? `${FLOW_FIELDS[metric]}@${P}`
                  : undefined
            : undefined;
      if (v) this.learn(v, n, `${P}.csv ${section}.${metric}`);
    }
  }

  /** Quarter = Σ months, year = Σ quarters, for every flow, where the reader has all the parts. */
  private hierarchy(): void {
    const flows = [
      'rec',
      'han',
      'loc',
      'rem',
      'sign',
      'w24',
      'w7',
      'cat.spam',
      'cat.legal',
      'cat.violation',
      'cat.other'
    ];
    for (const P of this.periods) {
      const p = parsePeriod(P)!;
      const y = P.slice(0, 4);
      const parts =
        p.kind === 'quarter'
          ? [1, 2, 3].map((i) => `${y}-${String((Number(P.slice(6)) - 1) * 3 + i).padStart(2, '0')}`)
          : p.kind === 'year'
            ? [1, 2, 3, 4].map((q) => `${y}-Q${q}`)
            : [];
      if (parts.length === 0 || !parts.every((x) => this.periods.has(x))) continue;
      for (const f of flows)
        this.identities.push({
          terms: [[`${f}@${P}`, 1], ...parts.map((x): Term => [`${f}@${x}`, -1])],
          what: `${f}: ${P} = ${parts.join(' + ')}`
        });
    }
  }

  /** Every suppressed number the identities and the published numbers pin down. */
  solve(): Leak[] {
    this.hierarchy();
    const rows: { coef: Map<string, number>; rhs: number; how: string[] }[] = [];
    for (const id of this.identities) {
      const coef = new Map<string, number>();
      let rhs = 0;
      for (const [v, c] of id.terms) {
        const k = this.known.get(v);
        if (k !== undefined) rhs -= c * k;
        else coef.set(v, (coef.get(v) ?? 0) + c);
      }
      for (const [v, c] of coef) if (Math.abs(c) < 1e-12) coef.delete(v);
      if (coef.size > 0) rows.push({ coef, rhs, how: [id.what] });
    }
    // Gauss–Jordan on sparse rows.
    const reduced: typeof rows = [];
    let rest = rows;
    while (rest.length) {
      rest.sort((a, b) => a.coef.size - b.coef.size);
      const piv = rest[0];
      const [col, c0] = [...piv.coef.entries()][0];
      const eliminate = (r: (typeof rows)[number]) => {
        const f = r.coef.get(col);
        if (f === undefined) return;
        for (const [v, c] of piv.coef) {
          const nv = (r.coef.get(v) ?? 0) - (f / c0) * c;
          if (Math.abs(nv) < 1e-9) r.coef.delete(v);
          else r.coef.set(v, nv);
        }
        r.rhs -= (f / c0) * piv.rhs;
        r.how = [...new Set([...r.how, ...piv.how])];
      };
      const next: typeof rows = [];
      for (const r of rest.slice(1)) {
        eliminate(r);
        if (r.coef.size) next.push(r);
      }
      for (const r of reduced) eliminate(r);
      reduced.push(piv);
      rest = next;
    }
    const leaks: Leak[] = [];
    for (const v of this.suppressed)
      if (this.known.has(v))
        leaks.push({ variable: v, value: this.known.get(v)!, how: 'published elsewhere' });
    for (const r of reduced) {
      if (r.coef.size !== 1) continue;
      const [v, c] = [...r.coef.entries()][0];
      if (this.suppressed.has(v))
        leaks.push({ variable: v, value: Math.round((r.rhs / c) * 1e6) / 1e6, how: r.how.join('; ') });
    }
    return leaks;
  }
}
