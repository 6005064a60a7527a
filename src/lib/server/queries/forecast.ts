/**
 * Forecasts for capacity: a robust straight line (Theil–Sen: the median of pairwise slopes, so a cleanup
 * or a spike does not tilt it) fitted to the last `window` days, with a band from the residuals that
 * widens with the horizon. Pure functions: unit-tested without a database.
 */
export interface Fit {
  slope: number; // per day
  intercept: number; // value at x = 0
  sigma: number; // residual spread (robust: 1.4826 × MAD)
  n: number;
  lastX: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Fit y over x (days); nulls are skipped. Returns null with fewer than 14 points. */
export function theilSen(points: [number, number | null][]): Fit | null {
  const p = points.filter((q): q is [number, number] => q[1] !== null && Number.isFinite(q[1]));
  if (p.length < 14) return null;
  // Sub-sample pairs for long windows: the median slope is stable and this keeps the fit O(n) per page.
  const step = Math.max(1, Math.floor(p.length / 60));
  const slopes: number[] = [];
  for (let i = 0; i < p.length; i += step)
    for (let j = i + 1; j < p.length; j += step) {
      const dx = p[j][0] - p[i][0];
      if (dx > 0) slopes.push((p[j][1] - p[i][1]) / dx);
    }
  const slope = median(slopes);
  const intercept = median(p.map(([x, y]) => y - slope * x));
  const resid = p.map(([x, y]) => y - (intercept + slope * x));
  const mad = median(resid.map((r) => Math.abs(r - median(resid))));
  return { slope, intercept, sigma: 1.4826 * mad, n: p.length, lastX: p[p.length - 1][0] };
}

/** Value and 90 % band at x; the band grows with the distance past the fitted window. */
export function predict(f: Fit, x: number): { y: number; lo: number; hi: number } {
  const y = f.intercept + f.slope * x;
  const h = Math.max(0, x - f.lastX);
  // Residual noise plus a 15 % uncertainty on the slope, which dominates far out.
  const spread = 1.645 * f.sigma * Math.sqrt(1 + h / f.n) + Math.abs(f.slope) * h * 0.15;
  return { y, lo: y - spread, hi: y + spread };
}

/** Days after lastX until the forecast reaches `limit` (null when it never does: flat or shrinking). */
export function daysUntil(f: Fit, limit: number, current: number): number | null {
  if (current >= limit) return 0;
  if (f.slope <= 0) return null;
  const x = (limit - f.intercept) / f.slope;
  return Math.max(0, Math.ceil(x - f.lastX));
}

/*
 * Volumes: where the stores Mastodon measures (admin dimension space_usage) live. PostgreSQL, search
 * (Elasticsearch/OpenSearch) and media take disk or bucket space; Redis's figure is `used_memory`, RAM, so
 * it is never part of a volume. Days until full is a property of a volume, not of the sum of everything.
 */
export const DISK_COMPONENTS = ['postgresql', 'search', 'media'] as const;
export type DiskComponent = (typeof DISK_COMPONENTS)[number];
export const storageMetric = (c: DiskComponent | 'redis') => `storage_${c}_bytes`;

export interface Volume {
  name: string;
  components: DiskComponent[];
  /** Size in bytes; null = not given, so no days until full. */
  bytes: number | null;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50
};

/** `2TB` (decimal, as disks are sold), `1.5TiB` (binary) or plain bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim().replace(/_/g, ''));
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(n) || n < 1)
    throw new Error(`"${text}" is not a size: use bytes or a unit (GB, TB, GiB, TiB), e.g. 400GB`);
  return Math.round(n);
}

/**
 * FEDIPULSE_VOLUMES: `name=component,component[:size]` separated by `;`, e.g.
 * `db=postgresql,search:400GB; media=media:2TB`. Each component sits on at most one volume.
 */
export function parseVolumes(spec: string): Volume[] {
  const out: Volume[] = [];
  const placed = new Map<string, string>();
  for (const part of spec.split(';').map((s) => s.trim())) {
    if (!part) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*=\s*([^:]+?)\s*(?::\s*(.+))?$/.exec(part);
    if (!m) throw new Error(`FEDIPULSE_VOLUMES: "${part}" is not name=component,…[:size]`);
    const [, name, list, size] = m;
    if (out.some((v) => v.name === name))
      throw new Error(`FEDIPULSE_VOLUMES: volume "${name}" is named twice`);
    const components: DiskComponent[] = [];
    for (const c of list.split(',').map((s) => s.trim().toLowerCase())) {
      if (c === 'redis')
        throw new Error(
          'FEDIPULSE_VOLUMES: Redis is measured as memory (used_memory), not disk; leave it out of volumes'
        );
      if (!(DISK_COMPONENTS as readonly string[]).includes(c))
        throw new Error(`FEDIPULSE_VOLUMES: unknown component "${c}" (use ${DISK_COMPONENTS.join(', ')})`);
      const other = placed.get(c);
      if (other) throw new Error(`FEDIPULSE_VOLUMES: ${c} is on both "${other}" and "${name}"`);
      placed.set(c, name);
      components.push(c as DiskComponent);
    }
    let bytes: number | null = null;
    if (size !== undefined)
      try {
        bytes = parseSize(size);
      } catch (e) {
        throw new Error(`FEDIPULSE_VOLUMES: volume "${name}": ${(e as Error).message}`, { cause: e });
      }
    out.push({ name, components, bytes });
  }
  return out;
}

/**
 * The volumes from the environment. FEDIPULSE_DISK_BYTES (the older, single-disk setting) still works: one
 * volume "disk" holding PostgreSQL, search and media, everything but Redis on one machine. Both at once is
 * refused, since it is unclear which one is meant.
 */
export function volumesFromEnv(env: Record<string, string | undefined>): Volume[] {
  const spec = env.FEDIPULSE_VOLUMES?.trim();
  const disk = env.FEDIPULSE_DISK_BYTES?.trim();
  if (spec && disk)
    throw new Error(
      'Set FEDIPULSE_VOLUMES or FEDIPULSE_DISK_BYTES, not both (FEDIPULSE_VOLUMES replaces it)'
    );
  if (spec) return parseVolumes(spec);
  if (!disk) return [];
  const n = Number(disk.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 1)
    throw new Error(`FEDIPULSE_DISK_BYTES must be a number ≥ 1, not "${disk}"`);
  return [{ name: 'disk', components: [...DISK_COMPONENTS], bytes: n }];
}

export interface VolumeStatus extends Volume {
  /** The volume's components the server reported in the window (search is absent without Elasticsearch, or before 4.3). */
  reported: DiskComponent[];
  /** Bytes used on the last whole day, and that day. */
  used: number | null;
  lastDay: string | null;
  /** Growth per day of the fitted line (bytes), null without a fit. */
  slope: number | null;
  /** Days from lastDay until the forecast reaches the size; null without a size, a fit, or growth. */
  daysToFull: number | null;
  fullOn: string | null;
}

/**
 * A volume's daily use over consecutive `days` (ascending): the sum of its components on days where every
 * component the server reported at all in the window is present (a missing one would read as a drop).
 */
export function volumeSeries(
  days: string[],
  values: ReadonlyMap<string, ReadonlyMap<string, number>>,
  components: readonly DiskComponent[]
): { reported: DiskComponent[]; used: (number | null)[] } {
  const reported = components.filter((c) => (values.get(storageMetric(c))?.size ?? 0) > 0);
  const used = days.map((d) => {
    if (reported.length === 0) return null;
    let s = 0;
    for (const c of reported) {
      const x = values.get(storageMetric(c))?.get(d);
      if (x === undefined) return null;
      s += x;
    }
    return s;
  });
  return { reported, used };
}

/** Where a volume stands: used, growth, days until full, from the last `fitDays` days of `days`. */
export function volumeStatus(
  v: Volume,
  days: string[],
  values: ReadonlyMap<string, ReadonlyMap<string, number>>,
  fitDays = 90
): VolumeStatus {
  const { reported, used } = volumeSeries(days, values, v.components);
  let last = -1;
  for (let i = used.length - 1; i >= 0 && last < 0; i--) if (used[i] !== null) last = i;
  const base = { ...v, reported, used: null, lastDay: null, slope: null, daysToFull: null, fullOn: null };
  if (last < 0) return base;
  const from = Math.max(0, last - fitDays + 1);
  const fit = theilSen(used.slice(from, last + 1).map((y, i) => [i, y]));
  const now = used[last]!;
  const daysToFull = v.bytes === null ? null : now >= v.bytes ? 0 : fit ? daysUntil(fit, v.bytes, now) : null;
  const lastDay = days[last];
  return {
    ...base,
    used: now,
    lastDay,
    slope: fit ? fit.slope : null,
    daysToFull,
    fullOn:
      daysToFull === null
        ? null
        : new Date(Date.parse(lastDay) + daysToFull * 86_400_000).toISOString().slice(0, 10)
  };
}
