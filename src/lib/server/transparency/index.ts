import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../../../../collectors/store/database.ts';
import {
  closedPeriods,
  isClosed,
  latestClosed,
  parsePeriod,
  type Period,
  type PeriodKind
} from './period.ts';
import { decideAll } from './cells.ts';
import { computeRaw, ownDecision, publish, type PublishedReport, type RawReport } from './report.ts';

/** Transparency settings from the environment (docs/transparency.md). */
export interface TransparencyConfig {
  /** k: counts from 1 to k−1 are published as "fewer than k". */
  minCount: number;
  prefaceDir: string;
  /** What /transparency shows: the latest closed month, quarter or year. */
  defaultKind: PeriodKind;
}

export function loadTransparencyConfig(env: NodeJS.ProcessEnv = process.env): TransparencyConfig {
  const k = Number(env.FEDIPULSE_MIN_COUNT ?? '5');
  const kind = (env.FEDIPULSE_TRANSPARENCY_PERIOD ?? 'quarter').trim().toLowerCase();
  return {
    // Below 2 nothing would be suppressed; the privacy promise does not allow that.
    minCount: Number.isInteger(k) && k >= 2 ? Math.min(k, 1000) : 5,
    prefaceDir: path.resolve(env.FEDIPULSE_PREFACE_DIR?.trim() || 'data/prefaces'),
    defaultKind: kind === 'month' || kind === 'year' ? kind : 'quarter'
  };
}

export const transparencyConfig = loadTransparencyConfig();

export type Resolved = { ok: true; period: Period } | { ok: false; status: 404; message: string };

/** A period that may be published: well-formed and closed. */
export function resolvePeriod(id: string, now: Date = new Date()): Resolved {
  const p = parsePeriod(id);
  if (!p) {
    return {
      ok: false,
      status: 404,
      message: `“${id.slice(0, 40)}” is not a reporting period: use a month (2026-09), a quarter (2026-Q3) or a year (2026).`
    };
  }
  if (!isClosed(p, now)) {
    return {
      ok: false,
      status: 404,
      message: `${p.label} is not over yet. The transparency report covers closed periods only, so that open cases are never published; this one appears on ${p.end}.`
    };
  }
  return { ok: true, period: p };
}

/** The board's preface for a period: data/prefaces/<period>.md (FEDIPULSE_PREFACE_DIR), if written. */
export function readPreface(p: Period, dir: string = transparencyConfig.prefaceDir): string | null {
  const file = path.join(dir, `${p.id}.md`); // p.id is validated: digits, '-' and 'Q' only
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  return text.length > 100_000 ? text.slice(0, 100_000) : text;
}

/**
 * Every closed month, quarter and year from the first of January of the earliest data on, with the one
 * suppression decision they all publish from. Whole years, so that every month of a published quarter or
 * year is in the table with it (a month before the data is a zero that a reader would subtract too).
 */
interface Table {
  /** The counts of each period (computeRaw countsOnly). */
  raws: Map<string, RawReport>;
  hidden: Set<string>;
}

async function buildTable(db: Db, k: number, now: Date): Promise<Table> {
  const first = await db.one<{ day: string | null }>(
    `SELECT strftime(least(
        (SELECT min(day) FROM daily_metrics),
        (SELECT min(timezone('UTC', created_at))::DATE FROM reports),
        (SELECT min(timezone('UTC', resolved_at))::DATE FROM reports)), '%Y-%m-%d') AS day`
  );
  const raws = new Map<string, RawReport>();
  if (!first?.day) return { raws, hidden: new Set() };
  const from = new Date(`${first.day.slice(0, 4)}-01-01T00:00:00Z`);
  const periods: Period[] = (['month', 'quarter', 'year'] as const).flatMap((kind) =>
    closedPeriods(kind, from, now, 100_000)
  );
  for (const p of periods) raws.set(p.id, await computeRaw(db, p, true));
  return {
    raws,
    hidden: decideAll(
      periods.map((p) => ({ period: p, raw: raws.get(p.id)! })),
      k
    )
  };
}

const tables = new Map<string, Promise<Table>>();
const reports = new Map<string, PublishedReport>();

/**
 * The published report of a closed period. Page, JSON and CSV of every period read from one suppression
 * decision, made over all closed periods at once and cached per snapshot (a new snapshot, a newly closed
 * month or another k gives a new one).
 */
export async function reportFor(
  db: Db,
  p: Period,
  cfg: TransparencyConfig = transparencyConfig,
  now: Date = new Date()
): Promise<PublishedReport> {
  const preface = readPreface(p, cfg.prefaceDir);
  const tableKey = `${db.path}|${cfg.minCount}|${latestClosed('month', now).id}`;
  const key = `${tableKey}|${p.id}`;
  const hit = reports.get(key);
  if (hit) return { ...hit, preface_markdown: preface };
  let table = tables.get(tableKey);
  if (!table) {
    if (tables.size >= 4) tables.clear();
    table = buildTable(db, cfg.minCount, now);
    tables.set(tableKey, table);
    table.catch(() => tables.delete(tableKey));
  }
  const t = await table;
  const inTable = t.raws.has(p.id);
  const raw = await computeRaw(db, p);
  // Outside the table (before any data) a period has only zeros and gaps: its own decision is enough.
  const hidden = inTable ? t.hidden : ownDecision(raw, p, cfg.minCount);
  const report = publish(raw, p, cfg.minCount, preface, hidden);
  if (reports.size > 500) reports.clear();
  reports.set(key, report);
  return report;
}

/** Closed periods with data, for the picker (newest first). */
export async function availablePeriods(
  db: Db | null,
  now: Date = new Date()
): Promise<{ kind: PeriodKind; periods: { id: string; label: string }[] }[]> {
  const first = db
    ? await db.one<{ day: string | null }>(`SELECT strftime(min(day), '%Y-%m-%d') AS day FROM daily_metrics`)
    : null;
  const from = first?.day ? new Date(`${first.day}T00:00:00Z`) : null;
  return (['quarter', 'month', 'year'] as const).map((kind) => ({
    kind,
    periods: from ? closedPeriods(kind, from, now).map((p) => ({ id: p.id, label: p.label })) : []
  }));
}

export function defaultPeriod(now: Date = new Date(), cfg: TransparencyConfig = transparencyConfig): Period {
  return latestClosed(cfg.defaultKind, now);
}

/** Closed periods never change much: an hour in any cache; signed-in views are private (hooks). */
export const PUBLIC_CACHE = 'public, max-age=3600';
