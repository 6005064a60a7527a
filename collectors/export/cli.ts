import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from '../../src/lib/server/config.ts';
import { DatabaseBusyError } from '../store/database.ts';
import { diskFullMessage, isDiskFull } from '../store/disk.ts';
import { latestSnapshot } from '../store/snapshots.ts';
import { backupDatabase, restoreDatabase } from './backup.ts';
import { exportParquet } from './parquet.ts';

/** Exit codes as for collect: 0 done, 1 failed (reason on stderr), 2 usage, 75 a collection holds the database. */
const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const;

function dbPath(): string {
  loadDotEnv();
  return loadConfig(process.env).dbPath;
}

function fail(cmd: string, err: unknown, db: string): number {
  if (err instanceof DatabaseBusyError) {
    process.stderr.write(`fedipulse ${cmd}: ${err.message}\n`);
    return EXIT.busy;
  }
  const msg = isDiskFull(err) ? diskFullMessage(db) : (err as Error).message;
  process.stderr.write(`fedipulse ${cmd}: ${msg}\n`);
  return EXIT.failed;
}

const EXPORT_USAGE = 'usage: npm run export -- parquet <dir>';

/** `npm run export -- parquet <dir>`: every table of the newest snapshot as date-partitioned Parquet. */
export async function main(argv: string[]): Promise<number> {
  const [format, dir, ...rest] = argv;
  if (format === '--help' || format === '-h') {
    process.stdout.write(EXPORT_USAGE + '\n');
    return EXIT.ok;
  }
  if (format !== 'parquet' || !dir || rest.length > 0) {
    process.stderr.write(
      `fedipulse export: ${format && format !== 'parquet' ? `unknown format "${format}"; ` : ''}${EXPORT_USAGE}\n`
    );
    return EXIT.usage;
  }
  const db = dbPath();
  const snapshot = latestSnapshot(db);
  if (!snapshot) {
    process.stderr.write(
      `fedipulse export: nothing collected yet at ${db}; run \`npm run collect -- all\` first\n`
    );
    return EXIT.failed;
  }
  try {
    const m = await exportParquet(snapshot, dir);
    const rows = m.tables.reduce((a, t) => a + t.rows, 0);
    process.stdout.write(
      `fedipulse export: ${m.tables.length} tables, ${rows} rows from ${m.source_snapshot} → ${dir} (Parquet, partitioned by date; manifest.json)\n`
    );
    return EXIT.ok;
  } catch (err) {
    return fail('export', err, dir);
  }
}

const BACKUP_USAGE = 'usage: npm run backup -- <file> [--force] [--wait SECONDS]';

/** `npm run backup -- <file>`: a consistent copy of the database, taken under the writer lock. */
export async function backup(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { force: { type: 'boolean', default: false }, wait: { type: 'string', default: '600' } }
    });
  } catch (err) {
    process.stderr.write(`fedipulse backup: ${(err as Error).message}\n${BACKUP_USAGE}\n`);
    return EXIT.usage;
  }
  const wait = Number(parsed.values.wait);
  if (parsed.positionals.length !== 1 || !Number.isFinite(wait) || wait < 0) {
    process.stderr.write(`fedipulse backup: ${BACKUP_USAGE}\n`);
    return EXIT.usage;
  }
  const db = dbPath();
  try {
    const r = await backupDatabase(db, parsed.positionals[0], {
      force: parsed.values.force,
      waitMs: wait * 1000
    });
    process.stdout.write(
      `fedipulse backup: ${r.file} (${(r.bytes / 2 ** 20).toFixed(1)} MB, schema ${r.schemaVersion}, ${r.runs} runs)` +
        (r.annotations ? `, staff annotations in ${r.annotations}` : '') +
        `; restore with npm run restore -- ${r.file}\n`
    );
    return EXIT.ok;
  } catch (err) {
    return fail('backup', err, parsed.positionals[0]);
  }
}

const RESTORE_USAGE = 'usage: npm run restore -- <file>';

/** `npm run restore -- <file>`: replaces the database with a checked backup; refuses while a collection runs. */
export async function restore(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0].startsWith('-')) {
    process.stderr.write(`fedipulse restore: ${RESTORE_USAGE}\n`);
    return argv[0] === '--help' ? EXIT.ok : EXIT.usage;
  }
  const db = dbPath();
  try {
    const r = await restoreDatabase(db, argv[0]);
    process.stdout.write(
      `fedipulse restore: ${db} now holds ${r.restoredFrom} (schema ${r.schemaVersion}, ${r.runs} runs)` +
        (r.previous ? `; the database it replaced is kept as ${r.previous}` : '') +
        (r.annotations ? '; staff annotations restored too' : '') +
        (r.snapshot ? '; the dashboard shows it from now on' : '; the running collection publishes it') +
        '\n'
    );
    return EXIT.ok;
  } catch (err) {
    return fail('restore', err, db);
  }
}
