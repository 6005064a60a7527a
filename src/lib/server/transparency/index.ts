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
import { computeRaw, publish, type PublishedReport } from './report.ts';

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

const cache = new Map<string, PublishedReport>();

/** The published report of a closed period, cached per snapshot (a new snapshot gives new numbers). */
export async function reportFor(
  db: Db,
  p: Period,
  cfg: TransparencyConfig = transparencyConfig
): Promise<PublishedReport> {
  const preface = readPreface(p, cfg.prefaceDir);
  const key = `${db.path}|${p.id}|${cfg.minCount}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, preface_markdown: preface };
  const report = publish(await computeRaw(db, p), p, cfg.minCount, preface);
  if (cache.size > 200) cache.clear();
  cache.set(key, report);
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
