import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { failedObservation, type CrawlEnv } from '../../collectors/peers/crawl.ts';
import { closeWriter, openWriter } from '../../collectors/store/database.ts';
import {
  writeObservationsOrFail,
  type PeerObservation,
  type WorkItem
} from '../../collectors/store/peers.ts';
import { tempDir } from '../helpers/index.ts';

/** Just what failedObservation reads of the crawl's environment. */
const env = { now: () => new Date('2026-12-03T04:00:00Z'), crawlDay: '2026-12-03' } as CrawlEnv;
const item = (domain: string): WorkItem => ({ domain, failures: 0, lastUsersTotal: null, inPeersList: true });

/** An observation as the crawler builds it: ok, with a NodeInfo document. */
function ok(domain: string, raw: string): PeerObservation {
  const o = failedObservation(item(domain), env, new Error('placeholder'));
  return {
    ...o,
    outcome: 'ok',
    error: null,
    software: 'mastodon',
    usersTotal: 10,
    raw,
    hostState: 'ok',
    consecutiveFailures: 0
  };
}

describe('one host cannot make the database refuse the whole batch (issue 14)', () => {
  it('stores the rest of the batch, and the refused host as invalid without its data', async () => {
    const db = await openWriter(path.join(tempDir(), 'store.duckdb'), 'test');
    try {
      const doc = '{"version":"2.0","software":{"name":"mastodon"}}';
      // An outcome outside the CHECK constraint stands for any row the database refuses.
      const bad = { ...ok('bad.example', doc), outcome: 'bogus' } as unknown as PeerObservation;
      const batch = [ok('a.example', doc), bad, ok('c.example', doc)];
      await writeObservationsOrFail(db, 1, batch, (o, err) =>
        failedObservation(item(o.domain), env, new Error(`not stored: ${(err as Error).message}`))
      );
      const rows = await db.all<{
        domain: string;
        outcome: string;
        error: string | null;
        raw_hash: string | null;
      }>('SELECT domain, outcome, error, raw_hash FROM peer_obs ORDER BY domain');
      expect(rows.map((r) => [r.domain, r.outcome])).toEqual([
        ['a.example', 'ok'],
        ['bad.example', 'invalid'],
        ['c.example', 'ok']
      ]);
      expect(rows[1].error).toMatch(/^crawl failed: Error: not stored: .*CHECK constraint/i);
      expect(rows[1].raw_hash).toBeNull();
      const hosts = await db.all<{ domain: string; last_outcome: string }>(
        'SELECT domain, last_outcome FROM peer_hosts ORDER BY domain'
      );
      expect(hosts.map((h) => h.last_outcome)).toEqual(['ok', 'invalid', 'ok']);
    } finally {
      closeWriter(db);
    }
  });
});
