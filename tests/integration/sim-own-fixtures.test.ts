/**
 * The simulated own server answers with the same JSON shapes as real Mastodon: every example response
 * in tests/fixtures/mastodon (a copy of the shared fixtures) the simulator has an equivalent of is compared key by key, type by type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { request, type Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../collectors/net/dispatcher.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { parseConnectTo } from '../../src/lib/server/config.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/mastodon');
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
/** `*_by_key.json` and `entity_*.json` wrap each example as {_heading, example}. */
const examples = (name: string): unknown[] => (fixture(name) as { example: unknown }[]).map((e) => e.example);

/** Fields real servers send as null in some states (the fixtures show the other state). */
const NULLABLE = new Set([
  'action_taken_at',
  'assigned_account',
  'action_taken_by_account',
  'last_status_at',
  'ip',
  'locale',
  'invite_request',
  'public_comment',
  'private_comment',
  'comment',
  'discoverable',
  'verified_at',
  'terms_of_service',
  // remote accounts have no e-mail and no role
  'email',
  'role'
]);
/** Objects keyed by data (locale codes), not by schema. */
const MAPS = new Set(['translations']);

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Differences between a fixture and a response: missing keys and type changes, recursively. */
function compare(fx: unknown, got: unknown, at = '$', key = ''): string[] {
  if (fx === null) return [];
  if (got === null) return NULLABLE.has(key) ? [] : [`${at}: null where the fixture has ${kind(fx)}`];
  if (kind(fx) !== kind(got)) return [`${at}: ${kind(got)} where the fixture has ${kind(fx)}`];
  if (Array.isArray(fx) && Array.isArray(got)) {
    if (fx.length === 0 || got.length === 0) return [];
    const keyed = fx.every((x) => x && typeof x === 'object' && 'key' in x);
    return got.flatMap((g, i) => {
      const f = keyed
        ? fx.find((x) => (x as { key: string }).key === (g as { key: string }).key)
        : fx[Math.min(i, fx.length - 1)];
      return f === undefined ? [] : compare(f, g, `${at}[${i}]`, key);
    });
  }
  if (typeof fx === 'object' && typeof got === 'object') {
    const f = fx as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    if (MAPS.has(key)) {
      const sample = Object.values(f)[0];
      return Object.entries(g).flatMap(([k, v]) => compare(sample, v, `${at}.${k}`, k));
    }
    return Object.keys(f).flatMap((k) =>
      k in g ? compare(f[k], g[k], `${at}.${k}`, k) : [`${at}.${k}: missing`]
    );
  }
  return [];
}

let sim: Sim;
let dispatcher: Agent;
let admin: string;

async function call(p: string, init: { method?: 'GET' | 'POST'; token?: string; body?: unknown } = {}) {
  const res = await request(sim.ownUrl + p, {
    dispatcher,
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {})
    },
    body: init.body ? JSON.stringify(init.body) : undefined
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : null };
}

const post = (p: string, body: unknown) => call(p, { method: 'POST', token: admin, body });
const peer = () => sim.peers.peers()[0].domain;

function expectShape(fx: unknown, got: unknown) {
  expect(compare(fx, got)).toEqual([]);
}

beforeAll(async () => {
  sim = await startSim({ peers: 200 });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.ca.cert]);
  dispatcher = createDispatcher({ connectTo: sim.connectTo.map(parseConnectTo), allowPrivate: false });
  admin = sim.own.tokens.admin;
});

afterAll(async () => {
  await dispatcher?.close();
  await sim?.stop();
});

describe('public endpoints match the Mastodon fixtures', () => {
  it.each([
    ['v1_instance.json', '/api/v1/instance'],
    ['v2_instance.json', '/api/v2/instance'],
    ['v1_instance_activity.json', '/api/v1/instance/activity'],
    ['v1_instance_peers.json', '/api/v1/instance/peers'],
    ['v1_instance_domain_blocks.json', '/api/v1/instance/domain_blocks'],
    ['v1_instance_rules.json', '/api/v1/instance/rules'],
    ['nodeinfo_2_0.json', '/nodeinfo/2.0']
  ])('%s', async (file, p) => {
    const res = await call(p);
    expect(res.status).toBe(200);
    expectShape(fixture(file), res.json);
  });

  it('entity_domain_block.json', async () => {
    const res = await call('/api/v1/instance/domain_blocks');
    for (const ex of examples('entity_domain_block.json')) expectShape([ex], res.json);
  });

  it('activity has 12 rows and nodeinfo the exact key set', async () => {
    expect(((await call('/api/v1/instance/activity')).json as unknown[]).length).toBe(12);
    const ni = (await call('/nodeinfo/2.0')).json as Record<string, unknown>;
    expect(Object.keys(ni).sort()).toEqual(Object.keys(fixture('nodeinfo_2_0.json') as object).sort());
  });

  it('v1_instance_peers_401.json in limited federation mode', async () => {
    sim.own.settings.limitedFederation = true;
    try {
      const res = await call('/api/v1/instance/peers');
      expect(res.status).toBe(401);
      expectShape(fixture('v1_instance_peers_401.json'), res.json);
    } finally {
      sim.own.settings.limitedFederation = false;
    }
  });

  it('v1_instance_domain_blocks_401.json for an invalid token when only users may see blocks', async () => {
    sim.own.settings.domainBlocksVisibility = 'users';
    try {
      const res = await call('/api/v1/instance/domain_blocks', { token: sim.own.tokens.revoked });
      expect(res.status).toBe(401);
      expectShape(fixture('v1_instance_domain_blocks_401.json'), res.json);
    } finally {
      sim.own.settings.domainBlocksVisibility = 'all';
    }
  });
});

describe('admin endpoints match the Mastodon fixtures', () => {
  const ALL_KEYS = [
    'active_users',
    'new_users',
    'interactions',
    'opened_reports',
    'resolved_reports',
    'tag_accounts',
    'tag_uses',
    'tag_servers',
    'instance_accounts',
    'instance_media_attachments',
    'instance_reports',
    'instance_statuses',
    'instance_follows',
    'instance_followers'
  ];
  const measureBody = () => {
    const body: Record<string, unknown> = { keys: ALL_KEYS, start_at: '2026-09-14', end_at: '2026-09-22' };
    for (const k of ALL_KEYS) {
      if (k.startsWith('tag_')) body[k] = { id: '3' };
      if (k.startsWith('instance_')) body[k] = { domain: peer() };
    }
    return body;
  };

  it('admin_measures.json and admin_measures_by_key.json', async () => {
    const res = await post('/api/v1/admin/measures', measureBody());
    expect(res.status).toBe(200);
    const got = res.json as { key: string }[];
    expect(got.map((m) => m.key)).toEqual(ALL_KEYS);
    expectShape(fixture('admin_measures.json'), got);
    for (const ex of examples('admin_measures_by_key.json') as { key: string }[]) {
      const mine = got.find((m) => m.key === ex.key)!;
      expect(Object.keys(mine).sort(), ex.key).toEqual(Object.keys(ex).sort());
      expect(compare(ex, mine), ex.key).toEqual([]);
    }
  });

  it('admin_measures_403.json without a token', async () => {
    const res = await call('/api/v1/admin/measures', { method: 'POST', body: { keys: ['new_users'] } });
    expect(res.status).toBe(403);
    expectShape(fixture('admin_measures_403.json'), res.json);
    expect(res.json).toEqual(fixture('admin_measures_403.json'));
  });

  it('admin_dimensions.json and admin_dimensions_by_key.json', async () => {
    const keys = [
      'languages',
      'sources',
      'servers',
      'space_usage',
      'software_versions',
      'instance_languages',
      'instance_accounts',
      'tag_servers',
      'tag_languages'
    ];
    const res = await post('/api/v1/admin/dimensions', {
      keys,
      start_at: '2026-08-01',
      end_at: '2026-11-01',
      limit: 5,
      instance_languages: { domain: peer() },
      instance_accounts: { domain: peer() },
      tag_servers: { id: '3' },
      tag_languages: { id: '3' }
    });
    expect(res.status).toBe(200);
    const got = res.json as { key: string; data: unknown[] }[];
    expect(got.map((d) => d.key)).toEqual(keys);
    for (const d of got) expect(d.data.length, d.key).toBeGreaterThan(0);
    expectShape(fixture('admin_dimensions.json'), got);
    expectShape(examples('admin_dimensions_by_key.json'), got);
  });

  it('admin_retention.json, admin_retention_daily.json, admin_cohort_examples.json, admin_retention_empty.json', async () => {
    const monthly = await post('/api/v1/admin/retention', {
      frequency: 'month',
      start_at: '2026-01-01',
      end_at: '2026-11-01'
    });
    expectShape(fixture('admin_retention.json'), monthly.json);
    const daily = await post('/api/v1/admin/retention', {
      frequency: 'day',
      start_at: '2026-09-08',
      end_at: '2026-09-14'
    });
    expectShape(fixture('admin_retention_daily.json'), daily.json);
    expectShape(examples('admin_cohort_examples.json'), [
      ...(monthly.json as unknown[]),
      ...(daily.json as unknown[])
    ]);
    const empty = await post('/api/v1/admin/retention', {});
    expect(empty.json).toEqual(fixture('admin_retention_empty.json'));
  });

  it('admin_reports.json, admin_report.json, entity_admin_report.json', async () => {
    const open = await call('/api/v1/admin/reports?limit=5', { token: admin });
    expectShape(fixture('admin_reports.json'), open.json);
    const resolved = (await call('/api/v1/admin/reports?resolved=true&limit=5', { token: admin })).json as {
      id: string;
    }[];
    const one = await call(`/api/v1/admin/reports/${resolved[0].id}`, { token: admin });
    expectShape(fixture('admin_report.json'), one.json);
    expectShape(examples('entity_admin_report.json'), open.json);
  });

  it('admin_domain_blocks.json, admin_domain_block.json, entity_admin_domain_block.json', async () => {
    const list = await call('/api/v1/admin/domain_blocks', { token: admin });
    expectShape(fixture('admin_domain_blocks.json'), list.json);
    expectShape(examples('entity_admin_domain_block.json'), list.json);
    const first = (list.json as { id: string }[])[0];
    const one = await call(`/api/v1/admin/domain_blocks/${first.id}`, { token: admin });
    expect(Object.keys(one.json as object).sort()).toEqual(
      Object.keys(fixture('admin_domain_block.json') as object).sort()
    );
  });

  it('admin_accounts_v2.json, admin_account.json, entity_admin_account.json', async () => {
    const list = await call('/api/v2/admin/accounts?origin=local&limit=3', { token: admin });
    // Mastodon 3.5 serialised `ip` as an object by mistake; 4.x sends the address string.
    const v2 = fixture('admin_accounts_v2.json') as Record<string, unknown>[];
    expectShape(
      v2.map((a) => ({ ...a, ip: '192.168.42.1' })),
      list.json
    );
    const first = (list.json as { id: string }[])[0];
    const one = await call(`/api/v1/admin/accounts/${first.id}`, { token: admin });
    expectShape({ ...(fixture('admin_account.json') as object), ip: '192.168.42.1' }, one.json);
    expectShape(examples('entity_admin_account.json')[0], one.json);
  });
});
