import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from '../src/lib/server/config.ts';
import { createProgress } from './progress.ts';
import { KINDS, runCollection, type Kind } from './run.ts';
import { DatabaseBusyError } from './store/database.ts';
import { diskFullMessage, isDiskFull } from './store/disk.ts';

/** Exit codes (docs/collector.md): 0 collected (gaps recorded), 1 nothing collected, 2 usage, 75 busy. */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const;

const USAGE = `usage: npm run collect -- <instance|peers|all|finances> [--quiet] [--connect-to HOST1:PORT1:HOST2:PORT2]...`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quiet: { type: 'boolean', short: 'q', default: false },
        'connect-to': { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false }
      }
    });
  } catch (err) {
    process.stderr.write(`fedipulse collect: ${(err as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const kind = parsed.positionals[0] as Kind | undefined;
  if (parsed.values.help) {
    process.stdout.write(USAGE + '\n');
    return EXIT.ok;
  }
  if (!kind || !KINDS.includes(kind) || parsed.positionals.length > 1) {
    process.stderr.write(`fedipulse collect: say what to collect.\n${USAGE}\n`);
    return EXIT.usage;
  }
  loadDotEnv();
  let config;
  try {
    config = loadConfig(process.env, parsed.values['connect-to']);
  } catch (err) {
    process.stderr.write(`fedipulse collect: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const progress = createProgress({ quiet: parsed.values.quiet });
  const stop = new AbortController();
  const onSignal = () => {
    progress.warn('stopping after the item at hand (press Ctrl-C again to abort at once)…');
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runCollection(kind, { config, progress, signal: stop.signal });
    const counts = summary.sources.map((s) => `${s.source} ${s.status}`).join(', ');
    if (summary.status === 'failed' && isDiskFull(summary.message)) {
      process.stderr.write(`fedipulse collect ${kind}: ${diskFullMessage(config.dbPath)}\n`);
      return EXIT.failed;
    }
    if (summary.status === 'failed') {
      process.stderr.write(`fedipulse collect ${kind}: nothing collected: ${summary.message}\n`);
      return EXIT.failed;
    }
    progress.line(`fedipulse collect ${kind}: run ${summary.runId} ${summary.status} (${counts})`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DatabaseBusyError) {
      process.stderr.write(`fedipulse collect ${kind}: ${err.message}\n`);
      return EXIT.busy;
    }
    if (isDiskFull(err)) {
      process.stderr.write(`fedipulse collect ${kind}: ${diskFullMessage(config.dbPath)}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`fedipulse collect ${kind}: ${(err as Error).message}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
