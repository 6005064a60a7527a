import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollection, type RunSummary } from '../../collectors/run.ts';
import { openReadOnly } from '../../collectors/store/database.ts';
import { latestSnapshot } from '../../collectors/store/snapshots.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { loadConfig } from '../../src/lib/server/config.ts';
import { toCsv } from '../../src/lib/server/transparency/export.ts';
import { reportFor, loadTransparencyConfig } from '../../src/lib/server/transparency/index.ts';
import { parsePeriod } from '../../src/lib/server/transparency/period.ts';
import type { PublishedReport } from '../../src/lib/server/transparency/report.ts';

/**
 * The public report publishes the co-op's domain blocks only as far as the server's own "Show domain
 * blocks" settings do (Mastodon's show_domain_blocks / show_domain_blocks_rationale): the simulated server
 * answers GET /api/v1/instance/domain_blocks as Api::V1::Instances::DomainBlocksController does.
 */
let sim: Sim;
let dir: string;
let base: string;
const DB = () => path.join(dir, 'blocks.duckdb');
const START = new Date('2026-08-20T06:00:00Z');

beforeAll(async () => {
  sim = await startSim({ peers: 50, start: START });
  const frozen = sim.clock.now();
  sim.clock.now = () => new Date(frozen);
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  base = `http://127.0.0.1:${sim.httpPort}`;
  dir = mkdtempSync(path.join(os.tmpdir(), 'fedipulse-tblocks-'));
  process.env.FEDIPULSE_TOP_PEERS = '0';
});

afterAll(async () => {
  await sim?.stop();
  delete process.env.FEDIPULSE_TOKEN;
  delete process.env.FEDIPULSE_TOP_PEERS;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function collect(): Promise<RunSummary> {
  process.env.FEDIPULSE_TOKEN = sim.own.tokens.admin;
  return runCollection('instance', {
    config: loadConfig(sim.env({ FEDIPULSE_DB: DB(), FEDIPULSE_TOKEN: sim.own.tokens.admin })),
    now: () => sim.clock.now()
  });
}

/** The report of the closed month with the most blocks added, as JSON and CSV text. */
async function report(): Promise<{
  r: PublishedReport;
  csv: string;
  text: string;
  settings: Record<string, string>;
}> {
  const db = await openReadOnly(latestSnapshot(DB())!);
  try {
    const month = await db.one<{ m: string }>(
      `SELECT strftime(timezone('UTC', event_at), '%Y-%m') AS m FROM domain_block_events
       WHERE event = 'added' AND coalesce(severity, '') <> 'noop' AND event_at < date_trunc('month', now())
       GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`
    );
    const settings = Object.fromEntries(
      (await db.all<{ key: string; value: string }>(`SELECT key, value FROM settings`)).map((s) => [
        s.key,
        s.value
      ])
    );
    const cfg = { ...loadTransparencyConfig({}), prefaceDir: dir };
    const r = await reportFor(db, parsePeriod(month!.m)!, cfg);
    const csv = toCsv(r);
    return { r, csv, text: JSON.stringify(r) + csv, settings };
  } finally {
    db.close();
  }
}

/** What an anonymous visitor gets from the simulated server right now. */
async function publicList(): Promise<{
  status: number;
  body: { domain: string; comment?: string | null }[];
}> {
  const res = await fetch(`${base}/api/v1/instance/domain_blocks`);
  return { status: res.status, body: res.status === 200 ? await res.json() : [] };
}

describe('domain blocks in the public report follow the server’s "Show domain blocks" settings', () => {
  let everyone: PublishedReport;

  it('shown to everyone with reasons: the report lists the servers with their public reasons', async () => {
    sim.own.settings.domainBlocksVisibility = 'all';
    sim.own.settings.domainBlocksRationale = 'all';
    const summary = await collect();
    expect(summary.sources.find((s) => s.source === 'public_domain_blocks')?.status).toBe('ok');
    const { r, settings } = await report();
    everyone = r;
    expect(settings.public_domain_blocks).toBe('all');
    expect(settings.public_domain_blocks_rationale).toBe('all');
    expect(r.defederation.shown).toBe('listed');
    expect(r.defederation.reasons_shown).toBe(true);
    expect(r.defederation.added.length).toBeGreaterThan(0);
    // The reasons are the ones the server itself shows anonymous visitors.
    const served = await publicList();
    const reasons = new Map(served.body.map((b) => [b.domain, b.comment]));
    const withReason = r.defederation.added.filter((d) => d.public_comment);
    expect(withReason.length).toBeGreaterThan(0);
    for (const d of withReason)
      if (reasons.has(d.domain)) expect(d.public_comment).toBe(reasons.get(d.domain));
  });

  it('reasons for signed-in members only: the servers without any reason', async () => {
    sim.own.settings.domainBlocksRationale = 'users';
    const anon = await publicList();
    expect(anon.status).toBe(200);
    expect(anon.body.every((b) => !('comment' in b) || b.comment === null)).toBe(true);
    await collect();
    const { r, csv, settings } = await report();
    expect(settings.public_domain_blocks_rationale).toBe('none');
    expect(r.defederation.shown).toBe('listed');
    expect(r.defederation.reasons_shown).toBe(false);
    expect(r.defederation.note).toMatch(/reasons/);
    expect(r.defederation.added.map((d) => d.domain)).toEqual(
      everyone.defederation.added.map((d) => d.domain)
    );
    expect(r.defederation.added.every((d) => d.public_comment === null)).toBe(true);
    for (const d of everyone.defederation.added.filter((x) => x.public_comment))
      expect(csv).not.toContain(d.public_comment!);
  });

  it('list for signed-in members only: counts of blocks added and lifted, no server named', async () => {
    sim.own.settings.domainBlocksVisibility = 'users';
    sim.own.settings.domainBlocksRationale = 'users';
    expect((await publicList()).status).toBe(404);
    await collect();
    const { r, text, settings } = await report();
    expect(settings.public_domain_blocks).toBe('users');
    expect(r.defederation.shown).toBe('counts');
    expect(r.defederation.added).toEqual([]);
    expect(r.defederation.removed).toEqual([]);
    expect(r.defederation.added_count).toBe(everyone.defederation.added.length);
    expect(r.defederation.removed_count).toBe(everyone.defederation.removed.length);
    expect(r.defederation.note).toMatch(/signed-in members only/);
    for (const d of everyone.defederation.added) expect(text).not.toContain(d.domain);
  });

  it('not published at all: nothing about blocks, and the report says why', async () => {
    sim.own.settings.domainBlocksVisibility = 'disabled';
    sim.own.settings.domainBlocksRationale = 'disabled';
    const summary = await collect();
    expect(summary.sources.find((s) => s.source === 'public_domain_blocks')?.status).toBe('skipped');
    const { r, text, settings } = await report();
    expect(settings.public_domain_blocks).toBe('none');
    expect(r.defederation.shown).toBe('none');
    expect(r.defederation.added_count).toBeNull();
    expect(r.defederation.added).toEqual([]);
    expect(r.defederation.note).toMatch(/does not publish/);
    for (const d of everyone.defederation.added) expect(text).not.toContain(d.domain);
  });
});
