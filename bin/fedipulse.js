#!/usr/bin/env node
// Plain JavaScript on purpose: it must run (and explain itself) on any Node, before TypeScript loads.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || !process.features?.typescript) {
  process.stderr.write(
    `fedipulse needs Node.js 22.18 or newer (found ${process.versions.node}).\n` +
      'Run it through npm (npm run collect, npm start, npm run demo), which uses the Node 24 pinned in\n' +
      'node_modules, or install Node 24 LTS.\n'
  );
  process.exit(1);
}
void minor;

const commands = {
  collect: '../collectors/cli.ts',
  sim: '../scripts/sim.ts',
  demo: '../scripts/demo.ts',
  bench: '../bench/run.ts',
  export: '../collectors/export/cli.ts',
  backup: '../collectors/export/cli.ts#backup',
  restore: '../collectors/export/cli.ts#restore'
};
const [command, ...args] = process.argv.slice(2);
const file = commands[command];
if (!file) {
  process.stderr.write(`usage: fedipulse <${Object.keys(commands).join('|')}> [options]\n`);
  process.exit(2);
}
// The commands that write the database get the collector's allocator settings before DuckDB loads.
if (['collect', 'export', 'backup', 'restore'].includes(command)) {
  const { collectorEnv } = await import('../collectors/process.ts');
  Object.assign(process.env, collectorEnv());
}
// "file#name" runs an export other than main (several commands share one module).
const [spec, entry = 'main'] = file.split('#');
const mod = await import(new URL(spec, import.meta.url).href);
process.exitCode = await mod[entry](args);
