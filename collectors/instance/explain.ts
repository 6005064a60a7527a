import type { SourceResult } from '../store/runs.ts';
import { ApiError } from './client.ts';

/**
 * What a person reads in run_sources and the run summary when a source could not be collected: what
 * happened and what to do about it. Never includes the token.
 */

const PERMISSION: Record<string, string> = {
  'admin.reports': 'Manage Reports',
  'admin.domain_blocks': 'Manage Federation'
};

/** Answers that mean "the server does not publish this", not "something broke". */
const HIDDEN: Record<string, string> = {
  peers: 'the server does not publish its peers list (the admin turned it off, or limited federation mode)',
  activity:
    'the server does not publish weekly activity (the admin turned it off, or limited federation mode)',
  public_domain_blocks:
    'the server does not publish its domain blocks (Administration → Server settings → "Show domain blocks" is off)',
  nodeinfo: 'the server serves no NodeInfo',
  rules: 'the server has no rules endpoint (Mastodon before 3.4)'
};

export const TOKEN_FIX =
  'create one with admin:read scope in Preferences → Development and set FEDIPULSE_TOKEN';

export function explain(source: string, err: unknown, hasToken: boolean): SourceResult {
  const fail = (message: string, status: SourceResult['status'] = 'failed'): SourceResult => ({
    source,
    status,
    items: 0,
    errors: status === 'failed' ? 1 : 0,
    message
  });
  if (!(err instanceof ApiError)) return fail(`unexpected error: ${(err as Error)?.message ?? String(err)}`);
  if (err.kind !== 'http') return fail(err.message);
  const said = err.serverMessage ?? '';
  const admin = source.startsWith('admin.');
  switch (err.status) {
    case 401:
      if (admin || hasToken)
        return fail(`the token was rejected (revoked or expired: "${said || 'unauthorized'}"); ${TOKEN_FIX}`);
      if (HIDDEN[source])
        return fail(`${HIDDEN[source]}; signed-in access may show it: set FEDIPULSE_TOKEN`, 'skipped');
      return fail(
        `the server only answers signed-in clients ("${said || 'unauthorized'}", limited federation mode?); set FEDIPULSE_TOKEN to a token of this server`
      );
    case 403:
      if (/outside the authorized scopes/i.test(said))
        return fail(`the token lacks admin:read; ${TOKEN_FIX}`);
      if (admin) {
        const perm = PERMISSION[source] ?? 'View Dashboard';
        return fail(
          `the token's account may not do this ("${said || 'forbidden'}"); give its role the "${perm}" permission in Administration → Roles`
        );
      }
      return fail(`HTTP 403 "${said}": the server refuses this request (an IP block, or a proxy rule?)`);
    case 404:
      if (HIDDEN[source]) return fail(HIDDEN[source], 'skipped');
      if (admin)
        return fail(
          'the server has no such admin endpoint (admin measures need Mastodon 3.5 or newer)',
          'skipped'
        );
      return fail(`HTTP 404 for this endpoint; is FEDIPULSE_INSTANCE_URL a Mastodon server?`);
    case 429:
      return fail(
        'still rate limited after waiting for several resets; the token is busy elsewhere, try again later'
      );
    default:
      if (err.status !== null && err.status >= 500)
        return fail(`the server failed (HTTP ${err.status}${said ? ` "${said}"` : ''}); try again later`);
      return fail(err.message);
  }
}
