/**
 * Soak: kill -9 the collector at a random point of a run, then re-run it, N times (default 20), against the
 * simulator; after every re-run the database must hold exactly what one uninterrupted run stores. Compared as sets
 * of rows per table, leaving out the columns that say *when* or *in which run* something was seen (those
 * differ by design: a killed run leaves whole items behind, stamped with its own run id and time).
 *
 *   npm run soak -- [--rounds 20] [--kind all] [--peers 150] [--seed 42] [--rate-limit off|on]
 *
 * Prints one line per round and a JSON summary; exits 1 when any round differs.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { finished, runCollect, spawnCollect, startTrustedSim, tempDir } from '../tests/helpers/index.ts';

/** Bookkeeping of runs, not collected facts: differs between a killed-and-resumed history and one run. */
const SKIP_TABLES = new Set(['runs', 'run_sources', 'schema_migrations']);
/** When/in which run a fact was seen, and crawl scheduling state: expected to differ. */
const SKIP_COLUMN =
  /^(run_id|pid)$|(_seen_at|observed_at|changed_at|started_at|finished_at|applied_at|attempt_at|last_ok_at|fetched_at|collected_at)$|^seen_at$|^event_at$/;

export interface TableDiff {
  table: string;
  onlyInReference: number;
  onlyInSoak: number;
}

/** Per table, rows (as distinct sets, minus the skipped columns) present in one database and not the other. */
export async function compareDatabases(reference: string, other: string): Promise<TableDiff[]> {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  try {
    await c.run(`ATTACH '${reference}' AS ref (READ_ONLY)`);
    await c.run(`ATTACH '${other}' AS soak (READ_ONLY)`);
    const tables = (
      await c.runAndReadAll(
        `SELECT table_name FROM duckdb_tables() WHERE database_name = 'ref' AND schema_name = 'main' ORDER BY 1`
      )
    )
      .getRows()
      .map((r) => String(r[0]))
      .filter((t) => !SKIP_TABLES.has(t));
    const out: TableDiff[] = [];
    for (const t of tables) {
      const colsOf = async (db: string) =>
        (
          await c.runAndReadAll(
            `SELECT column_name FROM duckdb_columns() WHERE database_name = $1 AND table_name = $2 ORDER BY column_index`,
            [db, t]
          )
        )
          .getRows()
          .map((r) => String(r[0]));
      // Columns both have (the schema can differ only if the migrations changed between the runs).
      const theirs = new Set(await colsOf('soak'));
      const cols = (await colsOf('ref')).filter((n) => theirs.has(n) && !SKIP_COLUMN.test(n));
      // JSON and lists compare as text so that EXCEPT works on every type.
      const list = cols.map((n) => `CAST("${n}" AS VARCHAR) AS "${n}"`).join(', ');
      const q = (a: string, b: string) =>
        `SELECT count(*) FROM (SELECT DISTINCT ${list} FROM ${a}.main."${t}" EXCEPT SELECT DISTINCT ${list} FROM ${b}.main."${t}")`;
      const x = Number((await c.runAndReadAll(q('ref', 'soak'))).getRows()[0][0]);
      const y = Number((await c.runAndReadAll(q('soak', 'ref'))).getRows()[0][0]);
      out.push({ table: t, onlyInReference: x, onlyInSoak: y });
    }
    return out;
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '20' },
      kind: { type: 'string', default: 'all' },
      peers: { type: 'string', default: '150' },
      seed: { type: 'string', default: '42' },
      'rate-limit': { type: 'string', default: 'off' }
    }
  });
  const rounds = Number(values.rounds);
  const kind = values.kind!;
  // One simulated instant for every run, so the simulated servers say the same thing each time.
  const at = new Date(
    Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 12)
  );
  const sim = await startTrustedSim({
    peers: Number(values.peers),
    seed: Number(values.seed),
    start: at,
    // Without the own server's rate limit (wall-clock windows of 5 min) a re-run does not wait for the
    // killed run's requests to expire; what is measured here is what lands in the database.
    own: values['rate-limit'] === 'on' ? {} : { rateLimit: false }
  });
  // Frozen, not just reset per run: "as of now" numbers (all-time totals) must not creep during a run.
  sim.clock.now = () => new Date(at.getTime());
  const dir = tempDir('fedipulse-soak-');
  const envFor = (db: string) => sim.env({ FEDIPULSE_DB: db, FEDIPULSE_TOKEN: sim.own.tokens.admin });
  const log = (s: string) => process.stdout.write(s + '\n');
  try {
    const reference = path.join(dir, 'reference.duckdb');
    const t0 = Date.now();
    const ref = await runCollect([kind, '--quiet'], envFor(reference));
    const refMs = Date.now() - t0;
    if (ref.code !== 0) throw new Error(`reference run failed: ${ref.stderr}`);
    log(`reference: one uninterrupted "${kind}" run in ${(refMs / 1000).toFixed(1)} s`);

    let identical = 0;
    let killedMidRun = 0;
    const diffs: { round: number; tables: TableDiff[] }[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Each round starts from an empty database, so the kill lands in the heaviest run (backfill, first
      // crawl) at a uniformly random point of it, and the re-run has the most to resume.
      const soak = path.join(dir, `soak-${round}.duckdb`);
      const child = spawnCollect([kind, '--quiet'], envFor(soak));
      const done = finished(child);
      const delay = Math.floor(Math.random() * refMs);
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const killed = await done;
      clearTimeout(timer);
      const wasKilled = killed.signal === 'SIGKILL';
      if (wasKilled) killedMidRun++;
      const rerun = await runCollect([kind, '--quiet'], envFor(soak));
      if (rerun.code !== 0) throw new Error(`round ${round}: re-run failed (${rerun.code}): ${rerun.stderr}`);
      const tables = await compareDatabases(reference, soak);
      const bad = tables.filter((t) => t.onlyInReference || t.onlyInSoak);
      if (bad.length === 0) identical++;
      else diffs.push({ round, tables: bad });
      if (bad.length === 0 && !process.env.FEDIPULSE_SOAK_KEEP) {
        rmSync(soak, { force: true });
        rmSync(`${soak}.snapshots`, { recursive: true, force: true });
      }
      log(
        `round ${round}: ${wasKilled ? `killed after ${delay} ms` : `finished before the kill at ${delay} ms`}; re-run ok; ` +
          (bad.length === 0
            ? 'identical'
            : `DIFFERS: ${bad.map((b) => `${b.table} (-${b.onlyInReference}/+${b.onlyInSoak})`).join(', ')}`)
      );
    }
    const summary = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}`,
      kind,
      peers: Number(values.peers),
      rounds,
      killed_mid_run: killedMidRun,
      identical,
      reference_run_s: refMs / 1000,
      diffs
    };
    log(JSON.stringify(summary, null, 2));
    return identical === rounds ? 0 : 1;
  } finally {
    await sim.stop();
    if (existsSync(dir) && !process.env.FEDIPULSE_SOAK_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = await main();
