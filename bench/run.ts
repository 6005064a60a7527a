import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run bench`: every benchmark, one after another, each in its own process so none measures another's
 * memory. Figures are printed with the date and machine; docs/performance.md and docs/reliability.md
 * keep the ones measured on the reference machine (2 cores, 24 GiB).
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const BENCHES: Record<string, { file: string; needsBuild: boolean; what: string }> = {
  crawl: { file: 'bench/crawl.ts', needsBuild: false, what: 'peer crawl: hosts/s, wall vs ideal, peak RSS' },
  pages: {
    file: 'bench/pages.ts',
    needsBuild: true,
    what: 'server render time per page, overview bundle size'
  },
  load: { file: 'bench/load.ts', needsBuild: true, what: 'requests/s and p99 under load during a crawl' }
};

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { only: { type: 'string' } } });
  const names = values.only ? values.only.split(',') : Object.keys(BENCHES);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`
    );
    return 2;
  }
  if (names.some((n) => BENCHES[n].needsBuild) && !existsSync(path.join(ROOT, 'build', 'index.js'))) {
    process.stdout.write('Building the dashboard first…\n');
    const b = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'],
      {
        cwd: ROOT,
        stdio: 'inherit'
      }
    );
    if (b.status !== 0) return 1;
  }
  let failed = 0;
  for (const name of names) {
    const b = BENCHES[name];
    process.stdout.write(`\n== ${name}: ${b.what}\n`);
    const r = spawnSync(process.execPath, [path.join(ROOT, b.file)], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      process.stderr.write(`${name} failed (exit ${r.status ?? r.signal})\n`);
    }
  }
  process.stdout.write(
    `\n${names.length - failed} of ${names.length} benchmarks ran. Record figures in docs/performance.md.\n`
  );
  return failed ? 1 : 0;
}
