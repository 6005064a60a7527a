import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openReadOnly, type Db } from '../store/database.ts';

/**
 * Every table of a snapshot as Parquet, Hive-partitioned by date: `<dir>/<table>/date=YYYY-MM-DD/*.parquet`.
 * The partition key is an extra column `date` derived from the table's own day or time column, so every
 * original column stays in the files with its type, and DuckDB, Spark, Trino or ClickHouse read the tree
 * as is (`read_parquet('<dir>/<table>/**\/*.parquet', hive_partitioning = true)`).
 */
export interface TableExport {
  table: string;
  rows: number;
  /** The column the `date` partition comes from; null = one unpartitioned file. */
  partitioned_by: string | null;
  path: string;
}

export interface ExportManifest {
  format: 'fedipulse-parquet';
  version: 1;
  exported_at: string;
  source_snapshot: string;
  schema_version: number | null;
  tables: TableExport[];
}

/** Which column dates each row: the first of these a table has. */
const DATE_COLUMNS = [
  'day',
  'observed_at',
  'created_at',
  'started_at',
  'event_at',
  'seen_at',
  'week_start',
  'cohort',
  'finished_at',
  'first_seen_at',
  'applied_at'
];

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function baseTables(db: Db): Promise<string[]> {
  const rows = await db.all<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`
  );
  return rows.map((r) => r.table_name);
}

async function dateColumn(db: Db, table: string): Promise<string | null> {
  const cols = await db.all<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1`,
    [table]
  );
  for (const name of DATE_COLUMNS) {
    const c = cols.find((x) => x.column_name === name);
    if (c && /^(DATE|TIMESTAMP)/i.test(c.data_type)) return name;
  }
  return null;
}

/** Exports from a snapshot file (never the collector's live file), so it runs while collections run. */
export async function exportParquet(
  snapshot: string,
  outDir: string,
  now: Date = new Date()
): Promise<ExportManifest> {
  mkdirSync(outDir, { recursive: true });
  if (readdirSync(outDir).length > 0) {
    throw new Error(
      `${outDir} is not empty; export into a new directory (old partitions would mix with new ones)`
    );
  }
  const db = await openReadOnly(snapshot);
  // Work in a sibling directory and rename at the end: a failed export leaves no half-written tree behind.
  const work = path.join(outDir, '.incomplete');
  try {
    mkdirSync(work);
    const version = await db.one<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const tables: TableExport[] = [];
    for (const table of await baseTables(db)) {
      const rows = (await db.one<{ n: number }>(`SELECT count(*) AS n FROM ${ident(table)}`))!.n;
      const by = await dateColumn(db, table);
      const target = path.join(work, table);
      if (by && rows > 0) {
        // UTC day of a timestamp, so the partition does not depend on the exporting machine's zone.
        await db.run(
          `COPY (SELECT *, CAST(timezone('UTC', ${ident(by)}::TIMESTAMPTZ) AS DATE) AS "date" FROM ${ident(table)})
           TO ${literal(target)} (FORMAT parquet, PARTITION_BY ("date"), COMPRESSION zstd, FILENAME_PATTERN 'part_{i}')`
        );
      } else {
        mkdirSync(target);
        await db.run(
          `COPY ${ident(table)} TO ${literal(path.join(target, 'part_0.parquet'))} (FORMAT parquet, COMPRESSION zstd)`
        );
      }
      tables.push({ table, rows, partitioned_by: by && rows > 0 ? by : null, path: table });
    }
    const manifest: ExportManifest = {
      format: 'fedipulse-parquet',
      version: 1,
      exported_at: now.toISOString(),
      source_snapshot: path.basename(snapshot),
      schema_version: version?.v ?? null,
      tables
    };
    writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    for (const entry of readdirSync(work)) renameSync(path.join(work, entry), path.join(outDir, entry));
    rmSync(work, { recursive: true, force: true });
    return manifest;
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  } finally {
    db.close();
  }
}

/** The SQL a reader runs to get a table back (used by the docs and the test). */
export function readSql(outDir: string, table: string): string {
  const dir = path.join(outDir, table);
  const partitioned = existsSync(dir) && readdirSync(dir).some((d) => d.startsWith('date='));
  return partitioned
    ? `SELECT * EXCLUDE ("date") FROM read_parquet(${literal(path.join(dir, '**', '*.parquet'))}, hive_partitioning = true)`
    : `SELECT * FROM read_parquet(${literal(path.join(dir, '*.parquet'))})`;
}
