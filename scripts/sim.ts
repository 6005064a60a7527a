import { parseArgs } from 'node:util';
import { startSim } from '../sim/index.ts';

/** `npm run sim`: the simulated fediverse alone, for pointing a collector (or curl) at it by hand. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string', default: '42' },
      peers: { type: 'string', default: '5000' },
      latency: { type: 'string', default: '0' },
      'failure-rate': { type: 'string', default: '0.15' },
      'https-port': { type: 'string', default: '0' },
      'http-port': { type: 'string', default: '0' }
    }
  });
  const sim = await startSim({
    seed: Number(values.seed),
    peers: Number(values.peers),
    latencyMedianMs: Number(values.latency),
    failureRate: Number(values['failure-rate']),
    httpsPort: Number(values['https-port']),
    httpPort: Number(values['http-port']),
    dir: 'data/sim'
  });
  const env = sim.env({ FEDIPULSE_TOKEN: sim.own.tokens.admin });
  process.stdout.write(
    [
      `Simulated fediverse (seed ${values.seed}, ${values.peers} peers) on 127.0.0.1`,
      `  TLS, every host by name: port ${sim.httpsPort}`,
      `  own server:              ${sim.ownUrl} (also http://127.0.0.1:${sim.httpPort})`,
      `  CA certificate:          ${sim.ca.certPath}`,
      `  admin token:             ${sim.own.tokens.admin} (simulated; read-only scopes)`,
      '',
      'Collect from it in another terminal with:',
      `  ${Object.entries(env)
        .map(([k, v]) => `${k}='${v}'`)
        .join(' \\\n  ')} \\\n  npm run collect -- all`,
      '',
      'Ctrl-C stops it.',
      ''
    ].join('\n')
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}
