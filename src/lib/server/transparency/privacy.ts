/**
 * Small-count suppression: a count from 1 to k−1 is published as "fewer than k", and so is anything
 * derived from such a small group (a share, a median, a change). Zero is published: it names nobody.
 */
export interface Num {
  /** null when suppressed or when there is no data. */
  value: number | null;
  suppressed: boolean;
}

export const NONE: Num = { value: null, suppressed: false };

export const isSmall = (n: number | null | undefined, k: number): boolean =>
  n !== null && n !== undefined && n > 0 && n < k;

/** A count of people or reports. */
export function count(n: number | null | undefined, k: number): Num {
  if (n === null || n === undefined || !Number.isFinite(n)) return NONE;
  return isSmall(n, k) ? { value: null, suppressed: true } : { value: n, suppressed: false };
}

/** A share num/den in 0..1, suppressed when either group is small. */
export function share(num: number | null, den: number | null, k: number): Num {
  if (num === null || den === null || den === 0) return NONE;
  if (isSmall(den, k) || isSmall(num, k)) return { value: null, suppressed: true };
  return { value: num / den, suppressed: false };
}

/** A statistic over a group of n items (a median): suppressed when the group is small. */
export function statistic(value: number | null, n: number, k: number): Num {
  if (n === 0 || value === null) return NONE;
  return isSmall(n, k) ? { value: null, suppressed: true } : { value, suppressed: false };
}

/** The change from one published count to the next; a small difference is itself a small count. */
export function change(cur: Num, prev: Num, k: number): { change: Num; changeShare: Num } {
  if (cur.suppressed || prev.suppressed) {
    return { change: { value: null, suppressed: true }, changeShare: { value: null, suppressed: true } };
  }
  if (cur.value === null || prev.value === null) return { change: NONE, changeShare: NONE };
  const d = cur.value - prev.value;
  if (isSmall(Math.abs(d), k)) {
    return { change: { value: null, suppressed: true }, changeShare: { value: null, suppressed: true } };
  }
  return {
    change: { value: d, suppressed: false },
    changeShare: prev.value === 0 ? NONE : { value: d / prev.value, suppressed: false }
  };
}

/**
 * A breakdown that adds up to a published total (reports by category, local/remote): when exactly one
 * cell is suppressed, total minus the others would reveal it, so the next smallest non-zero cell is
 * suppressed too (secondary suppression).
 */
export function partition<K extends string>(parts: Record<K, number>, k: number): Record<K, Num> {
  const out = {} as Record<K, Num>;
  const keys = Object.keys(parts) as K[];
  for (const key of keys) out[key] = count(parts[key], k);
  const hidden = keys.filter((key) => out[key].suppressed);
  if (hidden.length === 1) {
    const next = keys
      .filter((key) => !out[key].suppressed && parts[key] > 0)
      .sort((a, b) => parts[a] - parts[b])[0];
    if (next !== undefined) out[next] = { value: null, suppressed: true };
  }
  return out;
}

/** How a Num reads on a page. */
export function show(
  n: Num,
  k: number,
  format: (v: number) => string = (v) => v.toLocaleString('en-GB')
): string {
  if (n.suppressed) return `fewer than ${k}`;
  if (n.value === null) return '—';
  return format(n.value);
}
