// `npm start`: the dashboard server (build/) on the pinned Node. Plain JS so an old Node is told clearly.
import { existsSync } from 'node:fs';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `fedipulse needs Node.js 22 or newer (found ${process.versions.node}); run it with npm start, which uses the pinned Node 24.\n`
  );
  process.exit(1);
}
if (!existsSync(new URL('../build/index.js', import.meta.url))) {
  process.stderr.write('fedipulse: no build yet. Run `npm run build` first.\n');
  process.exit(1);
}
await import('../build/index.js');
