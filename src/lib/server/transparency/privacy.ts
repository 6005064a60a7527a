/**
 * Small-count suppression: a count from 1 to k−1 is published as "fewer than k", and so is anything
 * derived from such a small group (a share, a median). Zero is published: it names nobody. Which further
 * numbers are hidden so that no small count can be worked out from the rest is decided in disclosure.ts.
 */
export interface Num {
  /** null when suppressed or when there is no data. */
  value: number | null;
  suppressed: boolean;
  /**
   * Why, when suppressed: `small` is itself a count from 1 to k−1 (or computed from one); `complementary`
   * is hidden so that a small count cannot be worked out from the published numbers.
   */
  reason?: 'small' | 'complementary';
}

export const NONE: Num = { value: null, suppressed: false };

const SMALL: Num = { value: null, suppressed: true, reason: 'small' };

export const isSmall = (n: number | null | undefined, k: number): boolean =>
  n !== null && n !== undefined && n > 0 && n < k;

/** A count of people or reports, on its own (no identity ties it to other published numbers). */
export function count(n: number | null | undefined, k: number): Num {
  if (n === null || n === undefined || !Number.isFinite(n)) return NONE;
  return isSmall(n, k) ? SMALL : { value: n, suppressed: false };
}

/** A statistic over a group of n items (a median): suppressed when the group is small. */
export function statistic(value: number | null, n: number, k: number): Num {
  if (n === 0 || value === null) return NONE;
  return isSmall(n, k) ? SMALL : { value, suppressed: false };
}
