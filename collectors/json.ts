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
