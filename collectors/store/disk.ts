import { statfsSync } from 'node:fs';
import path from 'node:path';

/** DuckDB says "No space left on device" (or "disk is full"); Node says ENOSPC (or EDQUOT for a quota). */
export function isDiskFull(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return true;
  const msg = typeof err === 'string' ? err : (e?.message ?? '');
  return /no space left on device|disk is full|disk quota exceeded|ENOSPC/i.test(msg);
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * The one line a person sees when a collection stops on a full disk: what happened, that nothing is lost,
 * and what to do. Committed items stay in the database (DuckDB keeps them in its write-ahead log until a
 * checkpoint succeeds), and the dashboard keeps serving the last published snapshot.
 */
export function diskFullMessage(dbPath: string): string {
  const dir = path.dirname(dbPath);
  const free = freeBytes(dir);
  const freeText = free === null ? '' : ` (${(free / 2 ** 20).toFixed(1)} MB free)`;
  return (
    `disk full: no space left on the disk holding ${dbPath}${freeText}. ` +
    `Nothing already collected is lost and the dashboard keeps showing the last published snapshot; ` +
    `free some space (or move FEDIPULSE_DB to a larger disk), then run the collection again. ` +
    `Each run needs room for one more copy of the database (its snapshot).`
  );
}
