// `npm start`: the dashboard server (build/) on the pinned Node, and scheduled collections when configured
// (src/lib/server/schedule, docs/deploy.md). Plain JS so an old Node is told clearly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22 || !process.features?.typescript) {
  process.stderr.write(
    `fedipulse needs Node.js 22.18 or newer (found ${process.versions.node}); run it with npm start, which uses the pinned Node 24.\n`
  );
  process.exit(1);
}
if (!existsSync(new URL('../build/index.js', import.meta.url))) {
  process.stderr.write('fedipulse: no build yet. Run `npm run build` first.\n');
  process.exit(1);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const schedule = await import('../src/lib/server/schedule/start.ts');
try {
  // A typo in a cron expression stops here, before the server starts, rather than never collecting.
  schedule.checkScheduleSettings();
} catch (err) {
  process.stderr.write(`fedipulse: ${err.message}\n`);
  process.exit(2);
}
await import('../build/index.js');
schedule.startFromEnv(root);
