import { tokenFor } from '../../src/lib/server/config.ts';
import type { CollectorContext } from '../context.ts';
import type { SourceResult } from '../store/runs.ts';
import { dimensions, measures, peerMeasures } from './admin.ts';
import { ApiError, OwnClient } from './client.ts';
import { adminDomainBlocks } from './domain-blocks.ts';
import { TOKEN_FIX, explain } from './explain.ts';
import { activity, instanceInfo, nodeinfo, peers, publicDomainBlocks, rules } from './public.ts';
import { reports } from './reports.ts';
import { retention } from './retention.ts';
import type { Step, StepInput } from './step.ts';

/**
 * Own server: public numbers, then (with a token) admin numbers. Each source stores its own transactions and
 * is recorded with what it got or why it could not, so one hidden endpoint never costs the others.
 */
const PUBLIC: [string, Step][] = [
  ['instance', instanceInfo],
  ['nodeinfo', nodeinfo],
  ['activity', activity],
  ['rules', rules],
  ['peers', peers],
  ['public_domain_blocks', publicDomainBlocks]
];

const ADMIN: [string, Step][] = [
  ['admin.retention', retention], // first: it finds where the server's history starts
  ['admin.measures', measures],
  ['admin.dimensions', dimensions],
  ['admin.peer_measures', peerMeasures], // needs the servers dimension
  ['admin.reports', reports],
  ['admin.domain_blocks', adminDomainBlocks]
];

const skipped = (source: string, message: string): SourceResult => ({
  source,
  status: 'skipped',
  items: 0,
  errors: 0,
  message
});

export async function collectInstance(ctx: CollectorContext): Promise<SourceResult[]> {
  if (!ctx.config.instanceUrl) {
    return [
      {
        source: 'instance',
        status: 'failed',
        items: 0,
        errors: 1,
        message: 'FEDIPULSE_INSTANCE_URL is not set; set it to the server, e.g. https://social.example'
      }
    ];
  }
  const token = ctx.config.hasToken ? tokenFor() : null;
  const client = new OwnClient(ctx, token);
  const input: StepInput = { ctx, client, instance: client.host, shared: {} };
  const results: SourceResult[] = [];
  let unreachable: string | null = null;
  /** An admin failure that every later admin source shares (revoked token, missing scope). */
  let adminBlocked: string | null = null;

  const run = async (source: string, step: Step, admin: boolean) => {
    if (unreachable) return results.push(skipped(source, `not tried: ${unreachable}`));
    if (ctx.signal.aborted) return results.push(skipped(source, 'not tried: the run was stopped'));
    if (admin && adminBlocked)
      return results.push({ ...skipped(source, adminBlocked), status: 'failed', errors: 1 });
    ctx.progress.status(`instance: ${source}…`);
    let r: SourceResult;
    try {
      const c = await step(input);
      r = { source, status: c.status ?? 'ok', items: c.items, errors: 0, message: c.message ?? c.summary };
    } catch (err) {
      r = explain(source, err, client.hasToken);
      if (err instanceof ApiError && err.unreachable) unreachable = err.message;
      if (
        admin &&
        err instanceof ApiError &&
        (err.status === 401 || /authorized scopes/i.test(err.serverMessage ?? ''))
      )
        adminBlocked = r.message!;
    }
    results.push(r);
    ctx.progress.line(`instance: ${source} ${r.status}${r.message ? ` — ${r.message}` : ''}`);
  };

  for (const [source, step] of PUBLIC) await run(source, step, false);
  if (!token) {
    for (const [source] of ADMIN)
      results.push(skipped(source, `no FEDIPULSE_TOKEN: admin numbers not collected; ${TOKEN_FIX}`));
  } else {
    if (client.tokenRejected)
      adminBlocked = `the token was rejected (revoked or expired: "${client.tokenRejected}"); ${TOKEN_FIX}`;
    for (const [source, step] of ADMIN) await run(source, step, true);
  }
  const p = client.pacer;
  if (p.waits > 0) {
    ctx.progress.line(
      `instance: ${p.requests} requests; waited ${Math.round(p.waitedMs / 1000)} s in ${p.waits} pauses for rate limits`
    );
  }
  return results;
}
