/** One CSV record and the line of the file where it starts (what a person looks for in a spreadsheet). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvResult {
  records: CsvRecord[];
  /** Problems that stop a record from being read at all (an unclosed quote). */
  errors: { line: number; message: string }[];
}

/** The delimiter a spreadsheet used: `;` when the header has semicolons and no commas (European exports). */
export function detectDelimiter(text: string): ',' | ';' {
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  return header.includes(';') && !header.includes(',') ? ';' : ',';
}

/**
 * RFC 4180 CSV: quoted fields may hold delimiters, quotes ("") and line breaks. Blank lines and lines
 * starting with # are skipped. Parsing does no I/O.
 */
export function parseCsv(input: string, delimiter: ',' | ';' = detectDelimiter(input)): CsvResult {
  const text = input.replace(/^\uFEFF/, '');
  const records: CsvRecord[] = [];
  const errors: CsvResult['errors'] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    // Skip blank lines and comments.
    if (text[i] === '\n' || text[i] === '\r') {
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      continue;
    }
    if (text[i] === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let broken = false;
    for (;;) {
      if (i >= text.length) {
        if (quoted) {
          errors.push({ line: start, message: 'a quoted value is never closed (a " is missing)' });
          broken = true;
        }
        fields.push(field);
        break;
      }
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
        continue;
      }
      if (c === '"' && field.trim() === '') {
        quoted = true;
        field = '';
        i++;
      } else if (c === delimiter) {
        fields.push(field);
        field = '';
        i++;
      } else if (c === '\n' || c === '\r') {
        fields.push(field);
        if (c === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      } else {
        field += c;
        i++;
      }
    }
    if (!broken) records.push({ line: start, fields });
  }
  return { records, errors };
}
