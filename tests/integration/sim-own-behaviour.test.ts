/** The simulated own server behaves like Mastodon where a collector would notice: paging, filters, auth, throttles, numbers that add up. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../sim/clock.ts';
import type { SimRequest } from '../../sim/http.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { createOwnServer, type OwnServerOptions } from '../../sim/own-server/index.ts';
import type { PeerCatalog } from '../../sim/peers/index.ts';

const NOW = new Date('2026-11-26T15:30:00Z');
let sim: Sim;
let base: string;
let admin: Record<string, string>;

async function get(p: string, headers: Record<string, string> = admin) {
  const res = await fetch(base + p, { headers });
  return { status: res.status, headers: res.headers, json: (await res.json().catch(() => null)) as unknown };
}

async function post(p: string, body: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(base + p, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

const nextLink = (h: Headers) => /<([^>]+)>; rel="next"/.exec(h.get('link') ?? '')?.[1];
const prevLink = (h: Headers) => /<([^>]+)>; rel="prev"/.exec(h.get('link') ?? '')?.[1];

async function walk(first: string): Promise<{ id: string; action_taken: boolean }[]> {
  const all: { id: string; action_taken: boolean }[] = [];
  let url: string | undefined = base + first;
  while (url) {
    const res = await fetch(url, { headers: admin });
    const page = (await res.json()) as { id: string; action_taken: boolean }[];
    all.push(...page);
    url = nextLink(res.headers);
  }
  return all;
}

beforeAll(async () => {
  sim = await startSim({ peers: 300, start: NOW });
  base = `http://127.0.0.1:${sim.httpPort}`;
  admin = { authorization: `Bearer ${sim.own.tokens.admin}` };
});

afterAll(async () => {
  await sim?.stop();
});

describe('admin reports', () => {
  it('paging with Link headers covers every report exactly once, resolved and not', async () => {
    const open = await walk('/api/v1/admin/reports?limit=37');
    const resolved = await walk('/api/v1/admin/reports?limit=200&resolved=true');
    expect(open.every((r) => !r.action_taken)).toBe(true);
    expect(resolved.every((r) => r.action_taken)).toBe(true);
    const ids = [...open, ...resolved].map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(ids.length);
    const visible = sim.own.world().mod.reports.filter((r) => r.createdMs <= NOW.getTime()).length;
    expect(ids.length).toBe(visible);
    expect(resolved.length).toBeGreaterThan(500);
    expect(open.length).toBeGreaterThan(0);
  });

  it('pages newest first; min_id pages back up toward newer reports', async () => {
    const first = await get('/api/v1/admin/reports?resolved=true&limit=5');
    const page1 = first.json as { id: string }[];
    const ids = page1.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const second = await fetch(nextLink(first.headers)!, { headers: admin });
    const page2 = (await second.json()) as { id: string }[];
    const back = await fetch(prevLink(second.headers)!, { headers: admin });
    expect(((await back.json()) as { id: string }[]).map((r) => r.id)).toEqual(page1.map((r) => r.id));
    expect(page2.length).toBe(5);
  });

  it('limit defaults to 100 and is capped at 200', async () => {
    expect(((await get('/api/v1/admin/reports?resolved=true')).json as unknown[]).length).toBe(100);
    expect(((await get('/api/v1/admin/reports?resolved=true&limit=500')).json as unknown[]).length).toBe(200);
  });
});

describe('auth', () => {
  it.each([
    ['no token', {}, 403, 'This action is not allowed'],
    ['an unknown token', { authorization: 'Bearer nope' }, 403, 'This action is not allowed'],
    [
      'a token without admin scope',
      { authorization: 'Bearer sim-user-token' },
      403,
      'This action is outside the authorized scopes'
    ],
    ['a revoked token', { authorization: 'Bearer sim-revoked-token' }, 401, 'The access token is invalid']
  ])('admin endpoints refuse %s', async (_what, headers, status, error) => {
    for (const p of ['/api/v1/admin/reports', '/api/v1/admin/domain_blocks', '/api/v2/admin/accounts']) {
      const res = await get(p, headers);
      expect(res.status).toBe(status);
      expect(res.json).toEqual({ error });
    }
  });
});

describe('public endpoints and degradations', () => {
  it('peers omit every blocked domain; domain_count still counts them', async () => {
    const peers = (await get('/api/v1/instance/peers', {})).json as string[];
    const blocked = (await get('/api/v1/admin/domain_blocks?limit=200')).json as {
      domain: string;
      severity: string;
    }[];
    expect(blocked.length).toBeGreaterThan(5);
    for (const b of blocked) expect(peers).not.toContain(b.domain);
    const v1 = (await get('/api/v1/instance', {})).json as { stats: { domain_count: number } };
    expect(v1.stats.domain_count).toBeGreaterThan(peers.length);
    const pub = (await get('/api/v1/instance/domain_blocks', {})).json as { severity: string }[];
    expect(pub.every((b) => b.severity === 'silence' || b.severity === 'suspend')).toBe(true);
    expect(pub.length).toBe(blocked.filter((b) => b.severity !== 'noop').length);
  });

  it('hidden peers and activity answer 404; limited federation 401 anonymously and 404 with a token', async () => {
    const s = sim.own.settings;
    s.peersApi = false;
    s.activityApi = false;
    expect((await get('/api/v1/instance/peers', {})).status).toBe(404);
    expect((await get('/api/v1/instance/activity', {})).status).toBe(404);
    s.peersApi = true;
    s.activityApi = true;
    s.limitedFederation = true;
    const anon = await get('/api/v1/instance/peers', {});
    expect(anon.status).toBe(401);
    expect(anon.json).toEqual({ error: 'This method requires an authenticated user' });
    expect((await get('/api/v1/instance/activity', { authorization: 'Bearer sim-user-token' })).status).toBe(
      404
    );
    s.limitedFederation = false;
    s.domainBlocksVisibility = 'disabled';
    const hidden = await fetch(base + '/api/v1/instance/domain_blocks');
    expect(hidden.status).toBe(404);
    expect(await hidden.text()).toBe('');
    s.domainBlocksVisibility = 'all';
  });

  it('older Mastodon versions lack v2 instance and the admin digest', async () => {
    sim.own.settings.version = '3.5.3';
    expect((await get('/api/v2/instance', {})).status).toBe(404);
    const ni = (await get('/nodeinfo/2.0', {})).json as Record<string, unknown>;
    expect(ni.metadata).toBeUndefined();
    sim.own.settings.version = '4.0.2';
    const blocks = (await get('/api/v1/admin/domain_blocks')).json as Record<string, unknown>[];
    expect(blocks[0].digest).toBeUndefined();
    sim.own.settings.version = undefined;
    expect(((await get('/api/v1/admin/domain_blocks')).json as Record<string, unknown>[])[0].digest).toMatch(
      /^[0-9a-f]{64}$/
    );
  });
});

describe('numbers that add up', () => {
  const ALL = { start_at: '2023-09-01', end_at: '2026-11-26' };

  it('new users over the whole history match the member count, less unconfirmed and suspended ones', async () => {
    const m = (await post('/api/v1/admin/measures', { keys: ['new_users'], ...ALL })).json as {
      total: string;
      data: { value: string }[];
    }[];
    const sum = m[0].data.reduce((s, d) => s + Number(d.value), 0);
    expect(Number(m[0].total)).toBe(sum);
    const users = ((await get('/api/v1/instance', {})).json as { stats: { user_count: number } }).stats
      .user_count;
    expect(users).toBeGreaterThan(2500);
    expect(users).toBeLessThanOrEqual(sum);
    expect(users).toBeGreaterThan(sum * 0.85);
  });

  it('active users: end day excluded, days older than six months read 0, never more than the members', async () => {
    const m = (
      await post('/api/v1/admin/measures', {
        keys: ['active_users', 'new_users', 'bogus'],
        start_at: '2026-01-01',
        end_at: '2026-11-26'
      })
    ).json as {
      key: string;
      total: string;
      data: { date: string; value: string }[];
    }[];
    expect(m.map((x) => x.key)).toEqual(['active_users', 'new_users']);
    const [active, fresh] = m;
    expect(active.data.length).toBe(fresh.data.length - 1);
    expect(active.data[0].value).toBe('0');
    expect(active.data[0].date).toBe('2026-01-01T00:00:00Z');
    expect(fresh.data[0].date).toBe('2026-01-01T00:00:00.000+00:00');
    expect(Number(active.data.at(-1)!.value)).toBeGreaterThan(100);
    const ni = (await get('/nodeinfo/2.0', {})).json as {
      usage: { users: { total: number; activeMonth: number; activeHalfyear: number } };
    };
    expect(ni.usage.users.activeMonth).toBeLessThan(ni.usage.users.activeHalfyear);
    expect(ni.usage.users.activeHalfyear).toBeLessThan(ni.usage.users.total);
  });

  it('a per-instance measure needs its domain', async () => {
    const res = await post('/api/v1/admin/measures', { keys: ['instance_follows'], ...ALL });
    expect(res.status).toBe(400);
  });

  it('opened minus resolved reports equals the open backlog', async () => {
    const m = (await post('/api/v1/admin/measures', { keys: ['opened_reports', 'resolved_reports'], ...ALL }))
      .json as { total: string }[];
    const open = await walk('/api/v1/admin/reports?limit=200');
    expect(Number(m[0].total) - Number(m[1].total)).toBe(open.length);
  });

  it('retention rates stay in [0, 1] and never rise over a cohort', async () => {
    const r = (
      await post('/api/v1/admin/retention', {
        frequency: 'month',
        start_at: '2024-01-01',
        end_at: '2026-11-26'
      })
    ).json as {
      data: { rate: number; value: string }[];
    }[];
    expect(r.length).toBe(35);
    for (const cohort of r) {
      const rates = cohort.data.map((d) => d.rate);
      for (const x of rates) expect(x >= 0 && x <= 1).toBe(true);
      for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeLessThanOrEqual(rates[i - 1]);
    }
  });

  it('storage grows over time', async () => {
    const at = async () =>
      (
        (await post('/api/v1/admin/dimensions', { keys: ['space_usage'], ...ALL })).json as {
          data: { value: string }[];
        }[]
      )[0].data.map((d) => Number(d.value));
    const now = await at();
    sim.clock.set(new Date('2025-11-26T15:30:00Z'));
    const yearAgo = await at();
    sim.clock.set(NOW);
    expect(now[0]).toBeGreaterThan(yearAgo[0]);
    expect(now[2]).toBeGreaterThan(yearAgo[2]);
  });

  it('the same seed and clock give the same answers; another seed does not', async () => {
    const other = await startSim({ peers: 300, start: NOW });
    const third = await startSim({ peers: 300, start: NOW, seed: 7 });
    try {
      const body = { keys: ['new_users', 'opened_reports'], start_at: '2026-10-01', end_at: '2026-10-31' };
      const ask = async (s: Sim) => {
        const b = `http://127.0.0.1:${s.httpPort}`;
        const h = { authorization: `Bearer ${s.own.tokens.admin}`, 'content-type': 'application/json' };
        const r1 = await (
          await fetch(b + '/api/v1/admin/measures', {
            method: 'POST',
            headers: h,
            body: JSON.stringify(body)
          })
        ).json();
        const r2 = await (
          await fetch(b + '/api/v1/admin/reports?resolved=true&limit=3', { headers: h })
        ).json();
        return JSON.stringify([r1, r2]);
      };
      sim.clock.set(NOW);
      other.clock.set(NOW);
      third.clock.set(NOW);
      expect(await ask(other)).toBe(await ask(sim));
      expect(await ask(third)).not.toBe(await ask(sim));
    } finally {
      await other.stop();
      await third.stop();
    }
  });
});

/** An own server alone on a plain HTTP port, for options startSim does not pass through. */
async function serve(extra: Partial<OwnServerOptions>) {
  const catalog: OwnServerOptions['peers'] = {
    peersListEntries: () => ['a.example', 'b.example'],
    // Only the fields the own server reads; the rest of SimPeer belongs to the peer simulator.
    peers: () =>
      [
        { domain: 'a.example', software: 'mastodon', usersTotal: 500 },
        { domain: 'b.example', software: 'mastodon', usersTotal: 50 }
      ] as unknown as ReturnType<PeerCatalog['peers']>
  };
  const own = createOwnServer({
    seed: 1,
    domain: 'own.example',
    clock: new SimClock(NOW),
    peers: catalog,
    ...extra
  });
  const server = http.createServer((raw, res) => {
    const req: SimRequest = {
      raw,
      method: raw.method ?? 'GET',
      host: 'own.example',
      url: new URL(raw.url ?? '/', 'http://own.example'),
      headers: raw.headers,
      body: Buffer.alloc(0),
      secure: false
    };
    void own.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { own, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('rate limits', () => {
  it('counts per token in a fixed wall-clock window, then 429 without Retry-After', async () => {
    const s = await serve({ rateLimit: { perToken: 20, windowMs: 60_000 } });
    try {
      const h = { authorization: `Bearer ${s.own.tokens.admin}` };
      // Stay clear of a window edge so all requests land in one window.
      if (Date.now() % 60_000 > 55_000)
        await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      const remaining: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await fetch(s.url + '/api/v1/instance', { headers: h });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBe('20');
        remaining.push(Number(res.headers.get('x-ratelimit-remaining')));
        await res.arrayBuffer();
      }
      expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
      const over = await fetch(s.url + '/api/v1/instance', { headers: h });
      expect(over.status).toBe(429);
      expect(await over.json()).toEqual({ error: 'Too many requests' });
      expect(over.headers.get('retry-after')).toBeNull();
      expect(over.headers.get('x-ratelimit-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(Date.parse(over.headers.get('x-ratelimit-reset')!)).toBeGreaterThan(Date.now() - 1000);
      // Another token, and paths outside /api, are not affected.
      expect(
        (await fetch(s.url + '/api/v1/instance', { headers: { authorization: 'Bearer sim-user-token' } }))
          .status
      ).toBe(200);
      const ni = await fetch(s.url + '/nodeinfo/2.0', { headers: h });
      expect(ni.status).toBe(200);
      expect(ni.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('paging requests have their own, smaller bucket; a 429 storm blocks everything under /api', async () => {
    const s = await serve({
      rateLimit: { perToken: 100, paging: 3, windowMs: 60_000, pagingWindowMs: 60_000 }
    });
    try {
      const h = { authorization: `Bearer ${s.own.tokens.admin}` };
      if (Date.now() % 60_000 > 55_000)
        await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      const codes = [];
      for (let i = 0; i < 4; i++)
        codes.push((await fetch(s.url + '/api/v1/admin/reports?max_id=999999', { headers: h })).status);
      expect(codes).toEqual([200, 200, 200, 429]);
      expect((await fetch(s.url + '/api/v1/admin/reports', { headers: h })).status).toBe(200);
      s.own.storm(60_000);
      expect((await fetch(s.url + '/api/v1/instance', { headers: h })).status).toBe(429);
      expect((await fetch(s.url + '/nodeinfo/2.0')).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
