// The browser tests drive Debian's Chromium. On a fresh machine where we are root, install it;
// otherwise say exactly what to run. Plain JS: it runs before anything else in `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.FEDIPULSE_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const root = process.getuid?.() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    console.log('Installing Chromium for the browser tests (apt-get install chromium)…');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    });
  } else {
    console.error(
      `The browser tests need Chromium at ${CHROMIUM}.\n` +
        'Install it with: sudo apt-get install -y chromium  (or set FEDIPULSE_CHROMIUM to its path)'
    );
    process.exit(1);
  }
}
