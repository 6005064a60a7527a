import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../collectors/store/database.ts';

/**
 * A database records a migration by its number and never runs it again, so a shipped migration that changes
 * reaches only new databases (how 002 and 003 lost peer_obs.crawl_day for earlier installs; 009 repairs that).
 * collectors/store/migrations/CHECKSUMS.sha256 lists the SHA-256 of every shipped migration file, SQL and
 * code hooks alike; it is committed with the migration and never rewritten.
 */

const LIST = path.join(MIGRATIONS_DIR, 'CHECKSUMS.sha256');
const ADD = (f: string) => `(cd collectors/store/migrations && sha256sum ${f} >> CHECKSUMS.sha256)`;

function listed(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(LIST, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (!m) throw new Error(`CHECKSUMS.sha256: unreadable line "${line}"`);
    out.set(m[2], m[1]);
  }
  return out;
}

const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_/.test(f));
const sha256 = (f: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(MIGRATIONS_DIR, f)))
    .digest('hex');

it('lists the baseline and its repair', () => {
  expect([...listed().keys()]).toEqual(
    expect.arrayContaining([
      '001_runs.sql',
      '002_own_server.sql',
      '003_peers.sql',
      '005_finances.sql',
      '009_baseline_repair.sql'
    ])
  );
});

it('no shipped migration has changed', () => {
  const changed = [...listed()]
    .filter(([f, sum]) => files.includes(f) && sha256(f) !== sum)
    .map(([f]) => `${f} changed after it shipped: restore it and ship the change as a new migration`);
  expect(changed).toEqual([]);
});

it('no shipped migration was removed', () => {
  const gone = [...listed().keys()]
    .filter((f) => !files.includes(f))
    .map((f) => `${f} is listed as shipped but missing: databases have recorded it, restore it`);
  expect(gone).toEqual([]);
});

it('every migration file is in the list (a new one: add its checksum when it ships)', () => {
  const list = listed();
  const missing = files
    .filter((f) => !list.has(f))
    .map((f) => `${f} is not in CHECKSUMS.sha256: add its checksum when it ships: ${ADD(f)}`);
  expect(missing).toEqual([]);
});

it('one file per migration number (a hook .ts goes with its .sql)', () => {
  const sql = files.filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, 3));
  expect(sql.filter((v, i) => sql.indexOf(v) !== i)).toEqual([]);
});
