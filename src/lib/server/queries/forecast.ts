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
