import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../../sim/index.ts';
import { closeWriter, openReadOnly, openWriter, type Db } from '../../collectors/store/database.ts';
import { baseTables, readSql, type ExportManifest } from '../../collectors/export/parquet.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { AnnotationStore, annotationStore, annotationsFile } from '../../src/lib/server/annotations/index.ts';
import { ROOT, finished, runCollect, startTrustedSim, tempDir, type CliResult } from '../helpers/index.ts';

/** The fedipulse CLI as a user runs it: npm run export/backup/restore -- … */
function cli(command: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return finished(
    spawn(process.execPath, [path.join(ROOT, 'bin', 'fedipulse.js'), command, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  );
}

/** A growth annotation written as the dashboard writes it. */
const annotate = (dbPath: string, label: string) =>
  annotationStore(dbPath).add({ start: '2026-01-01', end: null, label, note: '' }, 'staff@example');
const labels = async (file: string) => (await new AnnotationStore(file).list()).map((a) => a.label);

const count = async (db: Db, table: string) =>
  (await db.one<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;

describe('export, backup and restore', () => {
  let sim: Sim;
  let env: Record<string, string>;
  let dbPath: string;
  let dir: string;

  beforeAll(async () => {
    sim = await startTrustedSim({ peers: 30 });
    dir = tempDir();
    dbPath = path.join(dir, 'fedipulse.duckdb');
    env = sim.env({ FEDIPULSE_DB: dbPath, FEDIPULSE_TOKEN: sim.own.tokens.admin });
    const r = await runCollect(['all', '--quiet'], env);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => sim?.stop());

  it('export parquet: every table, partitioned by date, read back by DuckDB unchanged', async () => {
    const out = path.join(dir, 'export');
    const r = await cli('export', ['parquet', out], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tables, \d+ rows/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(readdirSync(out)).not.toContain('.incomplete');

    const snap = await openReadOnly(latestSnapshot(dbPath)!);
    // A fresh DuckDB that knows nothing of fedipulse reads the files.
    const reader = await DuckDBInstance.create(':memory:');
    const conn = await reader.connect();
    try {
      const tables = await baseTables(snap);
      expect(manifest.tables.map((t) => t.table)).toEqual(tables);
      const daily = readdirSync(path.join(out, 'metric_days'));
      expect(daily.length).toBeGreaterThan(1);
      expect(daily.every((d) => /^date=\d{4}-\d{2}-\d{2}$/.test(d))).toBe(true);
      for (const t of tables) {
        // Same rows, same values, same types: the symmetric difference is empty.
        const exported = readSql(out, t);
        await conn.run(`ATTACH '${latestSnapshot(dbPath)}' AS src (READ_ONLY)`).catch(() => {});
        const diff = await conn.runAndReadAll(
          `SELECT count(*) AS n FROM ((SELECT * FROM src.main."${t}" EXCEPT ALL ${exported})
                                UNION ALL (${exported} EXCEPT ALL SELECT * FROM src.main."${t}"))`
        );
        expect(Number(diff.getRowObjects()[0].n), t).toBe(0);
        const n = await conn.runAndReadAll(`SELECT count(*) AS n FROM (${exported})`);
        expect(Number(n.getRowObjects()[0].n), t).toBe(await count(snap, t));
      }
    } finally {
      conn.closeSync();
      reader.closeSync();
      snap.close();
    }
    // Refuses to mix with an earlier export.
    const again = await cli('export', ['parquet', out], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
  });

  it('backup: a consistent copy that opens, with schema_migrations and the staff annotations; refuses to overwrite', async () => {
    const file = path.join(dir, 'backups', 'fp-1.duckdb');
    await annotate(dbPath, 'Launch day');
    const r = await cli('backup', [file], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('restore with npm run restore');
    expect(r.stdout).toContain(`staff annotations in ${annotationsFile(file)}`);
    expect(await labels(annotationsFile(file))).toEqual(['Launch day']);
    const db = await openReadOnly(file);
    try {
      expect(
        (await db.one<{ v: number }>('SELECT max(version) AS v FROM schema_migrations'))!.v
      ).toBeGreaterThan(0);
      expect(await count(db, 'collection_runs')).toBe(1);
    } finally {
      db.close();
    }
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(existsSync(`${annotationsFile(file)}.tmp`)).toBe(false);
    expect((await cli('backup', [file], env)).code).toBe(1);
  });

  it('backup waits for, then gives up on, a running collection (exit 75)', async () => {
    const holder = await openWriter(dbPath, 'peers');
    try {
      const r = await cli('backup', [path.join(dir, 'never.duckdb'), '--wait', '1'], env);
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(/"peers" collection \(PID \d+/);
    } finally {
      closeWriter(holder);
    }
  });

  it('restore: refuses while a collection runs, refuses what is not a fedipulse backup, restores a good one', async () => {
    const backup = path.join(dir, 'backups', 'fp-1.duckdb');
    // More data after the backup: a second run, and an annotation written since.
    expect((await runCollect(['instance', '--quiet'], env)).code).toBe(0);
    await annotate(dbPath, 'Written after the backup');

    const holder = await openWriter(dbPath, 'instance');
    try {
      const busy = await cli('restore', [backup], env);
      expect(busy.code).toBe(75);
      expect(busy.stderr).toMatch(/"instance" collection/);
    } finally {
      closeWriter(holder);
    }

    const junk = path.join(dir, 'junk.duckdb');
    writeFileSync(junk, 'not a database at all');
    const bad = await cli('restore', [junk], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a DuckDB database/);
    const other = path.join(dir, 'other.duckdb');
    const inst = await DuckDBInstance.create(other);
    const c = await inst.connect();
    await c.run('CREATE TABLE t (x INTEGER)');
    c.closeSync();
    inst.closeSync();
    const notOurs = await cli('restore', [other], env);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toMatch(/not a fedipulse database \(it has no schema_migrations\)/);
    // Nothing was touched by the refusals: two runs still there.
    let db = await openReadOnly(latestSnapshot(dbPath)!);
    expect(await count(db, 'collection_runs')).toBe(2);
    db.close();

    const ok = await cli('restore', [backup], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/the database it replaced is kept as .*before-restore-/);
    expect(ok.stdout).toContain('staff annotations restored too');
    expect(await labels(annotationsFile(dbPath))).toEqual(['Launch day']);
    db = await openReadOnly(dbPath);
    try {
      expect(await count(db, 'collection_runs')).toBe(1);
    } finally {
      db.close();
    }
    // The dashboard's next snapshot is the restored data, and collections carry on from it.
    db = await openReadOnly(latestSnapshot(dbPath)!);
    expect(await count(db, 'collection_runs')).toBe(1);
    db.close();
    const kept = readdirSync(dir).find((f) => f.includes('before-restore-') && f.endsWith('.duckdb'))!;
    // Nothing lost: the annotations it replaced are kept beside the database it replaced.
    expect(await labels(annotationsFile(path.join(dir, kept)))).toEqual([
      'Launch day',
      'Written after the backup'
    ]);
    db = await openReadOnly(path.join(dir, kept));
    expect(await count(db, 'collection_runs')).toBe(2);
    db.close();
    const after = await runCollect(['instance', '--quiet'], env);
    expect(after.code, after.stderr).toBe(0);
    db = await openReadOnly(latestSnapshot(dbPath)!);
    try {
      expect(await count(db, 'collection_runs')).toBe(2);
    } finally {
      db.close();
    }
  });
});
