/**
 * The shape checks every parser of network JSON makes before it trusts a value: JSON.parse can hand back
 * anything, and a field typed in TypeScript is only a hope until it has been checked.
 */
export type JsonObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string as sent, or null for anything else. */
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Deepest nesting accepted in a peer's JSON. Real NodeInfo, instance and block-list documents stay under 10
 * levels; JSON.parse is iterative in V8, but JSON.stringify and any recursive walk are not, and a 400 KB
 * `[[[[…` of 200,000 levels overflows the stack (issue 14).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Nesting depth of JSON text by a scan (no parse, no recursion), counted up to `limit` + 1 and no further.
 * Brackets inside strings do not count; the text need not be valid JSON.
 */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * A short, bounded description of a JSON value for a message (quirks, errors): scalars as JSON, cut to
 * `max` characters; arrays and objects by kind and size, never serialised (that would walk them).
 */
export function preview(v: unknown, max = 60): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) return 'an object';
  if (typeof v === 'string') {
    const s = JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
    return s;
  }
  return String(v);
}

/** Text that is safe to store: well-formed UTF-16 (a lone surrogate becomes U+FFFD) and at most `max` long. */
export function cleanText(s: string, max: number): string {
  const t = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  return t.isWellFormed() ? t : t.toWellFormed();
}
