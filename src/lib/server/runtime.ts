/** Refuse an old Node with a clear message: fedipulse relies on Node 22+ (type stripping, fetch, TLS APIs). */
export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major < 22) {
    process.stderr.write(
      `fedipulse needs Node.js 22 or newer; this is ${version}.\n` +
        `Run it through npm (npm start, npm run collect), which uses the Node 24 pinned in node_modules,\n` +
        `or install Node 24 LTS.\n`
    );
    process.exit(1);
  }
}
