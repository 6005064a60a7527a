import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/index.ts';

/**
 * One write path: collectors/store/ is the only code that writes the database (docs/architecture.md). Every
 * string and template literal of the code elsewhere is read for SQL that changes data or schema, and the code
 * itself for DuckDB's appender (a write without SQL).
 *
 * Scanned: collectors/ (except collectors/store/), src/, bench/, scripts/, sim/, bin/. Not scanned: tests/,
 * which build edge cases for read-side code (and the upgrade test builds a database with migrations the store
 * no longer has); the data the page tests run on comes from bench/dataset.ts, which is scanned.
 *
 * Allowed: CHECKPOINT (folds the write-ahead log; backups take one under the writer lock), ATTACH ... READ_ONLY,
 * COPY ... TO a file (the exports read a snapshot), and statements on a connection's own settings (SET, PRAGMA).
 */

const SCANNED = ['collectors', 'src', 'bench', 'scripts', 'sim', 'bin'];
const EXEMPT = [path.join('collectors', 'store') + path.sep];
const EXTENSIONS = /\.(ts|js|mjs|cjs|svelte)$/;

/** SQL that writes, each needing its statement's shape (so prose such as "delete from the list" passes). */
const ID = String.raw`(?:[\w."]+|_x_)`;
const WRITES: [string, RegExp][] = [
  [
    'INSERT',
    new RegExp(
      String.raw`\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+${ID}\s*(?:\(|VALUES\b|SELECT\b|DEFAULT\b|BY\b|WITH\b|AS\b|$)`,
      'i'
    )
  ],
  ['UPDATE', new RegExp(String.raw`\bUPDATE\s+${ID}(?:\s+(?:AS\s+)?\w+)?\s+SET\s+[\w"]+\s*=`, 'i')],
  ['DELETE', new RegExp(String.raw`\bDELETE\s+FROM\s+${ID}\s*(?:WHERE\b|USING\b|RETURNING\b|;|$)`, 'i')],
  [
    'CREATE',
    new RegExp(
      String.raw`\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+|UNIQUE\s+)?(?:TABLE|VIEW|SEQUENCE|INDEX|MACRO|SCHEMA|TYPE)\s+(?:IF\s+NOT\s+EXISTS\s+)?${ID}`,
      'i'
    )
  ],
  [
    'DROP',
    new RegExp(
      String.raw`\bDROP\s+(?:TABLE|VIEW|SEQUENCE|INDEX|MACRO|SCHEMA|TYPE)\s+(?:IF\s+EXISTS\s+)?${ID}`,
      'i'
    )
  ],
  ['ALTER', new RegExp(String.raw`\bALTER\s+(?:TABLE|VIEW|SEQUENCE)\s+(?:IF\s+EXISTS\s+)?${ID}`, 'i')],
  ['MERGE', new RegExp(String.raw`\bMERGE\s+INTO\s+${ID}`, 'i')],
  ['TRUNCATE', new RegExp(String.raw`\bTRUNCATE\s+(?:TABLE\s+)?${ID}\s*(?:;|$)`, 'i')],
  ['COPY FROM', new RegExp(String.raw`\bCOPY\s+(?:FROM\s+DATABASE\b|${ID}\s*(?:\([^)]*\)\s*)?FROM\b)`, 'i')],
  ['IMPORT DATABASE', /\bIMPORT\s+DATABASE\b/i]
];
/** ATTACH writes unless the literal says READ_ONLY. */
const ATTACH = /\bATTACH\s+(?:DATABASE\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:'|_x_)/i;

export interface Finding {
  line: number;
  kind: string;
  text: string;
}

/**
 * The string and template literals of a source file (template ${…} parts become `_x_`), with comments and code
 * left out, each with the line it starts on. A small lexer: enough for this repository's TypeScript.
 */
export function literals(src: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let line = 1;
  let i = 0;
  const n = src.length;
  // A stack of open template literals, each with the text read so far and the brace depth of its ${…}.
  const templates: { text: string; line: number; depth: number }[] = [];
  let inTemplate = false;
  const readQuoted = (q: string) => {
    const start = line;
    let text = '';
    i++;
    while (i < n && src[i] !== q && src[i] !== '\n') {
      if (src[i] === '\\') {
        text += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      text += src[i++];
    }
    i++;
    out.push({ line: start, text });
  };
  while (i < n) {
    const c = src[i];
    if (inTemplate) {
      const t = templates[templates.length - 1];
      if (c === '\\') {
        t.text += src[i + 1] ?? '';
        i += 2;
      } else if (c === '`') {
        out.push({ line: t.line, text: t.text });
        templates.pop();
        inTemplate = false;
        i++;
      } else if (c === '$' && src[i + 1] === '{') {
        t.text += '_x_';
        t.depth = 1;
        inTemplate = false;
        i += 2;
      } else {
        if (c === '\n') line++;
        t.text += c;
        i++;
      }
      continue;
    }
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      i += 2;
      while (i < n && !(src[i] === '*' && src[i + 1] === '/')) {
        if (src[i] === '\n') line++;
        i++;
      }
      i += 2;
    } else if (c === '"' || c === "'") {
      readQuoted(c);
    } else if (c === '`') {
      templates.push({ text: '', line, depth: 0 });
      inTemplate = true;
      i++;
    } else if (templates.length > 0 && (c === '{' || c === '}')) {
      const t = templates[templates.length - 1];
      t.depth += c === '{' ? 1 : -1;
      if (t.depth === 0) inTemplate = true; // back in the template after its ${…}
      i++;
    } else {
      i++;
    }
  }
  return out;
}

export function findWrites(src: string): Finding[] {
  const found: Finding[] = [];
  for (const { line, text } of literals(src)) {
    const flat = text.replace(/\s+/g, ' ');
    for (const [kind, re] of WRITES) if (re.test(flat)) found.push({ line, kind, text: flat.slice(0, 120) });
    if (ATTACH.test(flat) && !/\bREAD_ONLY\b/i.test(flat))
      found.push({ line, kind: 'ATTACH', text: flat.slice(0, 120) });
  }
  // Code, not strings: DuckDB's appender writes rows without SQL.
  src.split('\n').forEach((l, k) => {
    if (/\bcreateAppender\s*\(/.test(l.replace(/\/\/.*$/, '')))
      found.push({ line: k + 1, kind: 'appender', text: l.trim().slice(0, 120) });
  });
  return found;
}

function files(dir: string): string[] {
  const full = path.join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    if (e === 'node_modules' || e.startsWith('.')) return [];
    const rel = path.join(dir, e);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return files(rel);
    return EXTENSIONS.test(e) ? [rel] : [];
  });
}

describe('the write scanner', () => {
  it('finds each kind of write in strings and templates, and not in comments or prose', () => {
    const src = [
      "await db.run('INSERT INTO settings (key, value) VALUES ($1, $2)', [k, v]);",
      'await db.run(`UPDATE runs SET status = $1 WHERE run_id = $2`);',
      'await db.run(`DELETE FROM ${table} WHERE day < $1`);',
      "db.run(`CREATE OR REPLACE TEMP TABLE stage_${t} (${cols.map((c) => `${c} VARCHAR`).join(', ')})`);",
      "db.run('DROP TABLE IF EXISTS peer_gen');",
      'db.run(`ALTER TABLE peer_obs ADD COLUMN x INTEGER`);',
      'db.run("COPY peer_obs FROM \'x.parquet\'");',
      "conn.run(`ATTACH '${file}' AS other`);",
      'const a = await db.conn.createAppender(name, "main", "temp");',
      '// INSERT INTO settings VALUES (1)',
      "/* DELETE FROM runs WHERE true; */ const msg = 'Delete from the list what you no longer need';",
      "const m = 'insert into the table of contents'; const u = `update the set of rules`;",
      "conn.run(`ATTACH '${reference}' AS ref (READ_ONLY)`); conn.run('CHECKPOINT');",
      'conn.run(`COPY ${ident(table)} TO ${literal(file)} (FORMAT parquet)`);'
    ].join('\n');
    expect(findWrites(src).map((f) => [f.line, f.kind])).toEqual([
      [1, 'INSERT'],
      [2, 'UPDATE'],
      [3, 'DELETE'],
      [4, 'CREATE'],
      [5, 'DROP'],
      [6, 'ALTER'],
      [7, 'COPY FROM'],
      [8, 'ATTACH'],
      [9, 'appender']
    ]);
  });

  it('flags the generator as it was before this rule (its own INSERTs into the tables)', () => {
    // The opening of bench/dataset.ts's bulk loader as it stood before it used the store's writers.
    const old = [
      'async function bulk(db: Db, table: string, cols: [string, ColType][], rows: Cell[][]): Promise<void> {',
      '  const stage = `stage_${table}`;',
      "  await db.run(`CREATE OR REPLACE TEMP TABLE ${stage} (${cols.map(([n, t]) => `${n} ${t}`).join(', ')})`);",
      "  const app = await db.conn.createAppender(stage, 'main', 'temp');",
      "  const names = cols.map(([n]) => n).join(', ');",
      '  await db.run(`INSERT INTO ${table} (${names}) SELECT ${names} FROM ${stage}`);',
      '}'
    ].join('\n');
    expect(findWrites(old).map((f) => f.kind)).toEqual(['CREATE', 'INSERT', 'appender']);
  });
});

it('no code outside collectors/store/ writes the database', () => {
  const scanned = SCANNED.flatMap(files).filter((f) => !EXEMPT.some((e) => f.startsWith(e)));
  expect(scanned).toContain(path.join('bench', 'dataset.ts'));
  expect(scanned.length).toBeGreaterThan(50);
  const offending = scanned.flatMap((f) =>
    findWrites(readFileSync(path.join(ROOT, f), 'utf8')).map((w) => `${f}:${w.line} ${w.kind}: ${w.text}`)
  );
  expect(offending).toEqual([]);
});
