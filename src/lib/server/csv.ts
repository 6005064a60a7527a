/**
 * One CSV cell (RFC 4180), the single helper behind every CSV fedipulse serves.
 *
 * Strings that start with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading apostrophe (OWASP,
 * "CSV Injection"): a spreadsheet would otherwise run them as a formula, and peers control some of the text
 * we export (software names, block comments). Only strings are defused: a number we write (-5) stays a
 * number; a string that merely looks like one ("-5") is text from somewhere and is defused like any other.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows of cells as CSV text: CRLF line ends, a final line end (RFC 4180). */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
