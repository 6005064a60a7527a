/** Day arithmetic and the several date formats Mastodon serialises. */

export const DAY = 86_400_000;

/** The co-op's server went live on this day; the simulated history counts days from here. */
export const FOUNDED = Date.UTC(2023, 9, 1);

export const dayOf = (ms: number): number => Math.floor((ms - FOUNDED) / DAY);
export const dayStart = (day: number): number => FOUNDED + day * DAY;
export const isWeekend = (day: number): boolean => {
  const wd = new Date(dayStart(day)).getUTCDay();
  return wd === 0 || wd === 6;
};

/** Rails' `created_at` in JSON: milliseconds and `Z`. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Measures backed by Redis (active_users, interactions, tag_*) print `2022-09-14T00:00:00Z`. */
export const redisDate = (day: number): string => iso(dayStart(day)).replace('.000Z', 'Z');

/** Measures backed by SQL print `2022-09-14T00:00:00.000+00:00`. */
export const sqlDate = (day: number): string => iso(dayStart(day)).replace('Z', '+00:00');

/** Retention cohorts print `2022-09-01T00:00:00+00:00`. */
export const cohortDate = (ms: number): string => iso(ms).replace('.000Z', '+00:00');

/** Account `created_at` inside the public Account entity is truncated to midnight. */
export const midnight = (ms: number): string => iso(Math.floor(ms / DAY) * DAY);

/** A request's `start_at`/`end_at`: Rails reads the date and ignores the time part. */
export function parseDay(v: string | string[] | undefined): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? null : dayOf(ms);
}

const UNITS = ['Bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Rails `number_to_human_size`: base 1024, three significant digits, trailing zeros stripped. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'Byte' : 'Bytes'}`;
  let exp = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), UNITS.length - 1);
  let v = bytes / 1024 ** exp;
  if (Number(v.toPrecision(3)) >= 1024 && exp < UNITS.length - 1) {
    exp++;
    v = bytes / 1024 ** exp;
  }
  return `${String(Number(v.toPrecision(3)))} ${UNITS[exp]}`;
}
