/**
 * Complementary suppression, decided once for every published cell of every closed period.
 *
 * A cell is one number that some report publishes (reports received in 2026-Q3, members on 2026-09-30).
 * An identity is a linear equation Σ coef × cell = 0 that holds exactly between cells (a quarter is the sum
 * of its months; open at start + received − handled = open at end; a change is end minus start). A reader
 * who has every published page, JSON and CSV can combine those equations; the decision below suppresses
 * enough cells that no suppressed value is determined by them, as statistical offices do:
 *
 * 1. primary: every count from 1 to k−1;
 * 2. secondary, to a fixed point: an identity with exactly one suppressed cell gets a second one;
 * 3. audit: Gaussian elimination over all identities at once (several equations can pin a cell that no single
 *    one does); while some suppressed cell is still determined, one more cell of an identity that holds it
 *    is suppressed and step 2 runs again.
 *
 * Which cell goes in step 2 and 3: one of the period that closed last (so that a number published in an
 * earlier month is seldom taken back, where an archived copy would still give it away; best effort, as no
 * record of past publications is kept), then the smallest non-zero value (fewest useful numbers lost).
 */

export interface Cell {
  key: string;
  value: number;
  /** A count from 1 to k−1: never published. */
  primary: boolean;
  /** Known to any reader without being published (a structural zero, an unpublished remainder taken as known): never suppressed, never counted as hidden. */
  fixed: boolean;
  /** YYYY-MM-DD: when the first period publishing this cell closed. */
  closes: string;
}

/** Σ coef × value = 0 over the named cells. */
export type Identity = [key: string, coef: number][];

const EPS = 1e-9;

/** The cell to suppress next among the published, suppressible terms of some identities, or null. */
function choose(candidates: Cell[]): Cell | null {
  let best: Cell | null = null;
  for (const c of candidates) {
    if (!best) {
      best = c;
      continue;
    }
    if (c.closes !== best.closes) {
      if (c.closes > best.closes) best = c;
      continue;
    }
    const cz = Math.abs(c.value) === 0;
    const bz = Math.abs(best.value) === 0;
    if (cz !== bz) {
      if (bz) best = c;
      continue;
    }
    if (Math.abs(c.value) !== Math.abs(best.value)) {
      if (Math.abs(c.value) < Math.abs(best.value)) best = c;
      continue;
    }
    if (c.key < best.key) best = c;
  }
  return best;
}

/**
 * A suppressed cell whose value the identities and the published cells determine, or null when none is.
 * Reduced row echelon form over the suppressed cells: a cell is determined exactly when some reduced row
 * has it as its only non-zero entry.
 */
export function determined(
  cells: ReadonlyMap<string, Cell>,
  identities: readonly Identity[],
  hidden: ReadonlySet<string>
): string | null {
  // Sparse rows (cell key → coefficient) over the hidden cells only: the published ones are constants.
  const rows: Map<string, number>[] = [];
  for (const id of identities) {
    const row = new Map<string, number>();
    for (const [k, coef] of id) {
      if (!hidden.has(k) || !cells.has(k)) continue;
      const v = (row.get(k) ?? 0) + coef;
      if (Math.abs(v) > EPS) row.set(k, v);
      else row.delete(k);
    }
    if (row.size > 0) rows.push(row);
  }
  const done: Map<string, number>[] = [];
  let rest = rows;
  while (rest.length > 0) {
    const pivotRow = rest.reduce((a, b) => (b.size < a.size ? b : a));
    const [col, coef] = [...pivotRow.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))[0];
    const next: Map<string, number>[] = [];
    for (const row of rest) {
      if (row === pivotRow) continue;
      const f = row.get(col);
      if (f !== undefined) {
        for (const [k, v] of pivotRow) {
          const nv = (row.get(k) ?? 0) - (f / coef) * v;
          if (Math.abs(nv) > EPS) row.set(k, nv);
          else row.delete(k);
        }
      }
      if (row.size > 0) next.push(row);
    }
    // Back-substitute into the rows already reduced, so the final rows are in reduced form.
    for (const row of done) {
      const f = row.get(col);
      if (f === undefined) continue;
      for (const [k, v] of pivotRow) {
        const nv = (row.get(k) ?? 0) - (f / coef) * v;
        if (Math.abs(nv) > EPS) row.set(k, nv);
        else row.delete(k);
      }
    }
    done.push(pivotRow);
    rest = next;
  }
  for (const row of done) if (row.size === 1) return [...row.keys()][0];
  return null;
}

/** The set of cell keys to suppress (primary and complementary). */
export function decide(cells: ReadonlyMap<string, Cell>, identities: readonly Identity[]): Set<string> {
  const hidden = new Set<string>();
  for (const c of cells.values()) if (c.primary && !c.fixed) hidden.add(c.key);
  // Only identities over known cells: a term with no cell is never published, so it is not an equation a
  // reader can use, and would make the count below wrong.
  const usable = identities.filter((id) => id.length > 1 && id.every(([k]) => cells.has(k)));
  const byCell = new Map<string, Identity[]>();
  for (const id of usable) {
    for (const [k] of id) {
      const list = byCell.get(k) ?? [];
      list.push(id);
      byCell.set(k, list);
    }
  }
  const openAny = (id: Identity) =>
    id.map(([k]) => cells.get(k)!).filter((c) => !c.fixed && !hidden.has(c.key));
  for (;;) {
    let changed = true;
    while (changed) {
      changed = false;
      for (const id of usable) {
        if (id.filter(([k]) => hidden.has(k)).length !== 1) continue;
        const next = choose(openAny(id));
        if (next) {
          hidden.add(next.key);
          changed = true;
        }
      }
    }
    const leak = determined(cells, usable, hidden);
    if (leak === null) return hidden;
    const next = choose((byCell.get(leak) ?? []).flatMap((id) => openAny(id)));
    if (!next) {
      // Nothing left to hide that could help: fixed cells alone pin it. Cannot happen with the report's
      // identities (a fixed cell never stands alone with one count); fail loudly rather than leak.
      throw new Error(`suppression cannot protect ${leak}`);
    }
    hidden.add(next.key);
  }
}
