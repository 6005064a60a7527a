import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openWriter, type Db } from '../../collectors/store/database.ts';
import { publishSnapshot } from '../../collectors/store/snapshots.ts';
import { currentSnapshot } from '../../src/lib/server/snapshot.ts';
import { tempDir } from '../helpers/index.ts';

/**
 * The dashboard's own DuckDB connection (the snapshot reader every page, /data and /metrics query): SQL on
 * it reaches the snapshot and nothing else, so a query bug or an injected statement cannot read the
 * machine's files, write new ones, fetch or load extensions, or switch those guards back off.
 */
describe("the dashboard's DuckDB connection is sandboxed", () => {
  let dir: string;
  let db: Db;
  let snapshot: string;

  beforeAll(async () => {
    dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const w = await openWriter(dbPath, 'test');
    try {
      await w.run(
        `INSERT INTO runs (kind, started_at, finished_at, status, items, errors)
         VALUES ('instance', now(), now(), 'ok', 1, 0)`
      );
      snapshot = await publishSnapshot(w, 'run1');
    } finally {
      closeWriter(w);
    }
    writeFileSync(path.join(dir, 'secret.csv'), 'name,value\nsession,hunter2\n');
    const s = await currentSnapshot(dbPath);
    expect(s.file).toBe(snapshot);
    db = s.db!;
  });

  it('still reads the snapshot it was opened on (views, timestamps with time zones, JSON)', async () => {
    expect((await db.one<{ n: number }>('SELECT count(*) AS n FROM collection_runs'))?.n).toBe(1);
    expect(await db.one<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')).not.toBeNull();
    const tz = await db.one<{ d: string }>(
      `SELECT CAST(date_trunc('month', TIMESTAMPTZ '2026-03-15 12:00:00+00' AT TIME ZONE 'Europe/Berlin') AS VARCHAR) AS d`
    );
    expect(tz?.d).toBe('2026-03-01 00:00:00');
    expect((await db.one<{ a: string }>(`SELECT '{"a":"b"}'::JSON->>'a' AS a`))?.a).toBe('b');
  });

  it('refuses files other than the snapshot: read_csv, read_text, COPY TO, ATTACH', async () => {
    const secret = path.join(dir, 'secret.csv');
    await expect(db.all(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(
      /disabled by configuration/
    );
    await expect(db.all(`SELECT * FROM read_csv('${secret}')`)).rejects.toThrow(/disabled/);
    await expect(db.all(`SELECT * FROM read_text('/etc/hostname')`)).rejects.toThrow(/disabled/);
    const out = path.join(dir, 'leak.csv');
    await expect(db.run(`COPY (SELECT * FROM collection_runs) TO '${out}'`)).rejects.toThrow(/disabled/);
    expect(existsSync(out)).toBe(false);
    await expect(db.run(`ATTACH '${path.join(dir, 'other.duckdb')}' AS other`)).rejects.toThrow(/disabled/);
    expect(existsSync(path.join(dir, 'other.duckdb'))).toBe(false);
  });

  it('installs and loads no extensions, and autoloads none', async () => {
    await expect(db.run('INSTALL httpfs')).rejects.toThrow(/disabled/);
    await expect(db.run('LOAD httpfs')).rejects.toThrow(/disabled/);
    // httpfs would be autoloaded for an https:// path; here the remote read is refused outright.
    await expect(db.all(`SELECT * FROM read_csv('https://example.com/x.csv')`)).rejects.toThrow();
    const s = await db.all<{ name: string; value: string }>(
      `SELECT name, value FROM duckdb_settings()
       WHERE name IN ('enable_external_access', 'autoload_known_extensions', 'autoinstall_known_extensions', 'lock_configuration')
       ORDER BY name`
    );
    expect(s).toEqual([
      { name: 'autoinstall_known_extensions', value: 'false' },
      { name: 'autoload_known_extensions', value: 'false' },
      { name: 'enable_external_access', value: 'false' },
      { name: 'lock_configuration', value: 'true' }
    ]);
  });

  it('the configuration is locked: no statement turns the guards back on', async () => {
    for (const sql of [
      'SET enable_external_access = true',
      'SET autoload_known_extensions = true',
      'SET autoinstall_known_extensions = true',
      'SET lock_configuration = false',
      "SET allowed_directories = ['/']"
    ])
      await expect(db.run(sql), sql).rejects.toThrow(/locked/);
    await expect(db.all(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/disabled/);
  });
});
