import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openWriter, type Db } from '../../collectors/store/database.ts';
import { publishSnapshot } from '../../collectors/store/snapshots.ts';
import { closedPeriods, latestClosed } from '../../src/lib/server/transparency/period.ts';
import { publicDomain } from '../../src/lib/server/transparency/report.ts';
import { startDashboard, tempDir, type Dashboard } from '../helpers/index.ts';
import { Reader } from '../helpers/transparency-attack.ts';

const DAY = 86_400_000;
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const d = (s: string) => Date.parse(`${s}T00:00:00Z`);

/**
 * A database whose 2026-Q3 numbers are known by construction: 30 reports received (22 local, 8 remote;
 * 20 spam, 7 violation, 3 legal), 3 more from Q2 resolved in Q3, hostile text in block comments and
 * server names, rules coming and going, 3 peers limiting us.
 */
async function buildFixture(db: Db): Promise<void> {
  const now = iso(Date.now());
  const metric = (day: string, m: string, v: number) =>
    db.run(
      `INSERT INTO metric_days VALUES ('social.coop.example', CAST($1 AS DATE), $2, $3, 'test', CAST($4 AS TIMESTAMPTZ), CAST($4 AS TIMESTAMPTZ), CAST($4 AS TIMESTAMPTZ))`,
      [day, m, v, now]
    );
  for (let t = d('2026-04-01'); t < d('2026-10-01'); t += DAY) {
    const day = iso(t).slice(0, 10);
    if (t < d('2026-07-01')) {
      await metric(day, 'user_count', 2290);
      await metric(day, 'active_month', 797);
    } else if (day < '2026-08-01' || day > '2026-08-10') {
      await metric(day, 'user_count', 2400);
      await metric(day, 'active_month', 800);
      await metric(day, 'new_users', 1);
    }
  }
  const report = (id: string, created: number, resolved: number | null, origin: string, category: string) =>
    db.run(
      `INSERT INTO report_records (instance, report_id, category, created_at, action_taken, action_taken_at, target_origin, first_seen_at, last_seen_at)
       VALUES ('social.coop.example', $1, $2, CAST($3 AS TIMESTAMPTZ), $4, CAST($5 AS TIMESTAMPTZ), $6, CAST($7 AS TIMESTAMPTZ), CAST($7 AS TIMESTAMPTZ))`,
      [id, category, iso(created), resolved !== null, resolved === null ? null : iso(resolved), origin, now]
    );
  for (let i = 0; i < 30; i++) {
    const created = d('2026-07-01') + i * 3 * DAY + 10 * H;
    const after = i >= 28 ? null : [2 * H, 30 * H, 240 * H][i % 3];
    const category = i < 20 ? 'spam' : i < 27 ? 'violation' : 'legal';
    await report(
      `q3-${i}`,
      created,
      after === null ? null : created + after,
      i < 22 ? 'local' : 'remote',
      category
    );
  }
  for (let i = 0; i < 3; i++) {
    await report(`q2-${i}`, d('2026-06-25') + 10 * H, d('2026-07-02') + 10 * H, 'remote', 'spam');
  }
  const block = async (
    domain: string,
    severity: string,
    comment: string | null,
    events: [string, string][],
    obfuscate = false
  ) => {
    const removed = events.find((e) => e[0] === 'removed')?.[1] ?? null;
    await db.run(
      `INSERT INTO domain_block_state (instance, domain, severity, reject_media, reject_reports, public_comment, obfuscate, first_seen_at, last_seen_at, removed_at)
       VALUES ('social.coop.example', $1, $2, false, false, $3, $4, CAST($5 AS TIMESTAMPTZ), CAST($5 AS TIMESTAMPTZ), CAST($6 AS TIMESTAMPTZ))`,
      [
        domain,
        severity,
        comment,
        obfuscate,
        `${events[0][1]}T06:00:00Z`,
        removed ? `${removed}T06:00:00Z` : null
      ]
    );
    for (const [event, day] of events) {
      await db.run(
        `INSERT INTO domain_block_events VALUES ('social.coop.example', $1, CAST($2 AS TIMESTAMPTZ), $3, $4, false, false, $5)`,
        [domain, `${day}T06:00:00Z`, event, severity, comment]
      );
    }
  };
  await block('spam.example', 'suspend', '<script>alert("pwned")</script> & <b>spam</b>', [
    ['added', '2026-07-15']
  ]);
  await block('evil<img src=x onerror=alert(1)>.example', 'silence', 'Harassment "campaign"', [
    ['added', '2026-08-20']
  ]);
  await block('hidden-server.example', 'suspend', 'CSAM', [['added', '2026-07-20']], true);
  await block('noop.example', 'noop', 'media only', [['added', '2026-09-01']]);
  await block('old.example', 'silence', 'was spammy', [
    ['added', '2025-03-01'],
    ['removed', '2026-09-10']
  ]);
  await block('later.example', 'suspend', 'later', [['added', '2026-10-05']]);
  const rule = (id: string, text: string, first: string, removed: string | null) =>
    db.run(
      `INSERT INTO instance_rules VALUES ('social.coop.example', $1, $2, NULL, CAST($3 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ), CAST($4 AS TIMESTAMPTZ))`,
      [id, text, `${first}T06:00:00Z`, removed ? `${removed}T06:00:00Z` : null]
    );
  await rule('1', 'Be kind. <em>No</em> harassment.', '2025-01-01', null);
  await rule('2', 'An old rule', '2025-01-01', '2026-08-01');
  await rule('3', 'Label sensitive media', '2026-09-15', null);
  await rule('4', 'A rule from later', '2026-10-10', null);
  for (const peer of ['a.example', 'b.example', 'c.example']) {
    await db.run(
      `INSERT INTO peer_limit_obs VALUES (1, $1, CAST('2026-08-15T06:00:00Z' AS TIMESTAMPTZ), 'suspend', 'domain', 'x')`,
      [peer]
    );
  }
  // The server shows its domain blocks and their reasons to everyone (collectors/instance/public.ts).
  await db.run(
    `INSERT INTO settings VALUES ('public_domain_blocks', 'all'), ('public_domain_blocks_rationale', 'all')`
  );
  await db.run(
    `INSERT INTO runs (kind, started_at, finished_at, status) VALUES ('all', CAST('2026-10-01T06:00:00Z' AS TIMESTAMPTZ), CAST('2026-10-01T06:05:00Z' AS TIMESTAMPTZ), 'ok')`
  );
}

describe('transparency report of a closed quarter', () => {
  let dash: Dashboard;
  let url: string;

  beforeAll(async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const db = await openWriter(dbPath, 'test');
    await buildFixture(db);
    await publishSnapshot(db, 'test');
    closeWriter(db);
    const prefaces = path.join(dir, 'prefaces');
    mkdirSync(prefaces);
    writeFileSync(
      path.join(prefaces, '2026-Q3.md'),
      'A **calm** quarter. See [the minutes](https://coop.example/minutes).\n\n<script>alert("preface")</script>'
    );
    dash = await startDashboard({
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_PREFACE_DIR: prefaces,
      FEDIPULSE_SESSION_SECRET: 'integration-secret-0123456789',
      FEDIPULSE_INSTANCE_URL: 'https://social.coop.example'
    });
    url = dash.url;
  });
  afterAll(async () => dash?.stop());

  /** A count as published: the fixture's number, "fewer than k" when small, or hidden with a reason. */
  const published = (n: { value: number | null; suppressed: boolean; reason?: string }, truth: number) => {
    if (truth > 0 && truth < 5) expect(n).toEqual({ value: null, suppressed: true, reason: 'small' });
    else if (n.suppressed) expect(n).toEqual({ value: null, suppressed: true, reason: 'complementary' });
    else expect(n).toEqual({ value: truth, suppressed: false });
  };

  it('the JSON has the numbers of the views, with small counts suppressed', async () => {
    const res = await fetch(`${url}/transparency/2026-Q3.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const r = await res.json();
    expect(r.schema_version).toBe('1.2');
    expect(r.period).toMatchObject({
      id: '2026-Q3',
      start: '2026-07-01',
      end: '2026-09-30',
      previous: '2026-Q2'
    });
    expect(r.coverage).toMatchObject({ days_in_period: 92, days_with_data: 82 });
    expect(r.members.total).toEqual({ value: 2400, suppressed: false });
    expect(r.members.total_previous).toEqual({ value: 2290, suppressed: false });
    expect(r.members.total_change).toEqual({ value: 110, suppressed: false });
    expect(r.members.active).toEqual({ value: 800, suppressed: false });
    // 800 − 797: both totals are published, so their net change is too (it is no group of people).
    expect(r.members.active_change).toEqual({ value: 3, suppressed: false });
    published(r.members.signups, 82);
    published(r.reports.received, 30);
    published(r.reports.about_local_accounts, 22);
    published(r.reports.about_remote_accounts, 8);
    published(r.reports.handled, 31);
    published(r.reports.open_at_end, 2); // small
    const cat = (c: string) =>
      r.reports.by_category.find((x: { category: string }) => x.category === c).count;
    published(cat('spam'), 20);
    published(cat('violation'), 7);
    published(cat('legal'), 3); // small
    published(cat('other'), 0);
    // A small count never stands alone in an identity: received = Σ categories has a second hidden cell.
    expect(
      r.reports.by_category.filter((c: { count: { suppressed: boolean } }) => c.count.suppressed).length +
        (r.reports.received.suppressed ? 1 : 0)
    ).toBeGreaterThanOrEqual(2);
    if (!r.reports.received.suppressed && !r.reports.resolved_within_24h_share.suppressed)
      expect(r.reports.resolved_within_24h_share.value).toBeCloseTo(10 / 30);
    expect(r.reports.median_hours_to_resolve).toEqual({ value: 30, suppressed: false });
    expect(r.defederation.shown).toBe('listed');
    expect(r.defederation.reasons_shown).toBe(true);
    expect(r.defederation.added.map((x: { domain: string }) => x.domain)).toEqual([
      'spam.example',
      publicDomain('hidden-server.example', true),
      'evil<img src=x onerror=alert(1)>.example'
    ]);
    expect(r.defederation.removed).toEqual([
      { domain: 'old.example', severity: 'silence', public_comment: 'was spammy', date: '2026-09-10' }
    ]);
    expect(r.rules.map((x: { id: string }) => x.id)).toEqual(['1', '3']);
    expect(r.federation.peers_limiting_us).toEqual({ value: null, suppressed: true, reason: 'small' });
    expect(r.data_as_of).toBe('2026-10-01T06:05:00Z');
  });

  it('no hidden number can be worked out from every month, quarter and year, JSON and CSV', async () => {
    // Before, each report decided alone: September's one report about a local account was Q3's 22 minus
    // July's 11 and August's 10, and August's one "violation" was its 10 received minus (Q3's 20 spam
    // minus July's 11), every one of them published somewhere.
    const periods = (['month', 'quarter', 'year'] as const).flatMap((kind) =>
      closedPeriods(kind, new Date('2026-01-01T00:00:00Z'), new Date())
    );
    const reader = new Reader();
    for (const p of periods) {
      reader.readJson(await (await fetch(`${url}/transparency/${p.id}.json`)).json());
      reader.readCsv(await (await fetch(`${url}/transparency/${p.id}.csv`)).text());
    }
    expect(reader.problems).toEqual([]);
    expect(reader.suppressed.size).toBeGreaterThan(3);
    expect(reader.solve()).toEqual([]);
  });

  it('the CSV carries the same numbers', async () => {
    const res = await fetch(`${url}/transparency/2026-Q3.csv`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await res.text()).split('\r\n');
    const json = await (await fetch(`${url}/transparency/2026-Q3.json`)).json();
    expect(rows).toContain(
      json.reports.received.suppressed
        ? '1.2,2026-Q3,reports,received,,,true,reports,,,not shown: would reveal a small count'
        : '1.2,2026-Q3,reports,received,,30,false,reports,,,'
    );
    expect(rows).toContain('1.2,2026-Q3,reports,open_at_end,,,true,reports,2026-09-30,,fewer than 5');
    expect(rows).toContain('1.2,2026-Q3,federation,peers_limiting_us,,,true,servers,,,fewer than 5');
    expect(rows).toContain('1.2,2026-Q3,defederation,removed,old.example,,,,2026-09-10,silence,was spammy');
  });

  it('the page shows them, hostile text as text, and no count from 1 to k−1', async () => {
    const res = await fetch(`${url}/transparency/2026-Q3`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const html = await res.text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>spam</b>');
    expect(html).toContain('&lt;script>alert("pwned")&lt;/script> &amp; &lt;b>spam&lt;/b>');
    expect(html).toContain('evil&lt;img src=x onerror=alert(1)>.example');
    expect(html).toContain('Be kind. &lt;em>No&lt;/em> harassment.');
    expect(html).toContain('A <strong>calm</strong> quarter.');
    expect(html).toContain('href="https://coop.example/minutes" rel="nofollow noopener noreferrer"');
    const cells = [...html.matchAll(/data-metric="([^"]+)"[^>]*>([^<]*)</g)].map((m) => [m[1], m[2].trim()]);
    expect(cells.length).toBeGreaterThan(15);
    const byMetric = Object.fromEntries(cells);
    const json = await (await fetch(`${url}/transparency/2026-Q3.json`)).json();
    expect(byMetric['reports.received']).toBe(json.reports.received.suppressed ? 'not shown*' : '30');
    expect(byMetric['reports.open_at_end']).toBe('fewer than 5');
    // A number hidden only to protect a small one is marked as such, never as "fewer than 5" or 0.
    for (const c of json.reports.by_category)
      if (c.count.reason === 'complementary')
        expect(byMetric[`reports.by_category.${c.category}`]).toBe('not shown*');
    expect(byMetric['federation.peers_limiting_us']).toBe('fewer than 5');
    expect(byMetric['reports.median_hours_to_resolve']).toBe('30 hours');
    for (const [metric, text] of cells) {
      // A net change is a difference of two published totals, not a group of people (docs/transparency.md).
      if (/share|median|coverage|_change/.test(metric)) continue;
      for (const n of text.replace(/fewer than \d+/, '').match(/\d[\d,]*/g) ?? []) {
        const v = Number(n.replace(/,/g, ''));
        expect(v > 0 && v < 5, `${metric}: ${text}`).toBe(false);
      }
    }
  });

  it('the open period and junk are 404 with a reason; the picker goes to permalinks', async () => {
    const open = latestClosed('quarter', new Date());
    const next = await fetch(`${url}/transparency/2026-Q4`);
    expect(next.status).toBe(404);
    expect(await next.text()).toMatch(/not over yet/);
    expect((await fetch(`${url}/transparency/2026-Q4.json`)).status).toBe(404);
    expect((await fetch(`${url}/transparency/2026-13.csv`)).status).toBe(404);
    expect((await fetch(`${url}/transparency/%3Cscript%3E`)).status).toBe(404);
    const latest = await fetch(`${url}/transparency`);
    expect(await latest.text()).toMatch(new RegExp(`href="[./]*/?transparency/${open.id}"`));
    const pick = await fetch(`${url}/transparency?period=2026-07`, { redirect: 'manual' });
    expect(pick.status).toBe(303);
    expect(pick.headers.get('location')).toBe('/transparency/2026-07');
    const how = await fetch(`${url}/transparency/how`);
    expect(await how.text()).toMatch(/fewer than 5/);
  });
});

describe('a server that shows its domain blocks to signed-in members only', () => {
  it('the page gives how many servers were limited and lifted, and names none', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'fedipulse.duckdb');
    const db = await openWriter(dbPath, 'test');
    await buildFixture(db);
    await db.run(`UPDATE settings SET value = 'users' WHERE key = 'public_domain_blocks'`);
    await publishSnapshot(db, 'test');
    closeWriter(db);
    const members = await startDashboard({
      FEDIPULSE_DB: dbPath,
      FEDIPULSE_SESSION_SECRET: 'integration-secret-0123456789',
      FEDIPULSE_INSTANCE_URL: 'https://social.coop.example'
    });
    try {
      const html = await (await fetch(`${members.url}/transparency/2026-Q3`)).text();
      expect(html).toContain('signed-in members only');
      expect(html).toMatch(/data-metric="defederation.added_count"[^>]*>3</);
      expect(html).toMatch(/data-metric="defederation.removed_count"[^>]*>1</);
      for (const name of ['spam.example', 'old.example', 'evil&lt;img', 'Spam waves', 'was spammy'])
        expect(html).not.toContain(name);
      const csv = await (await fetch(`${members.url}/transparency/2026-Q3.csv`)).text();
      expect(csv).toContain('1.2,2026-Q3,defederation,added_count,,3,false,servers,,,');
      expect(csv).not.toContain('spam.example');
    } finally {
      await members.stop();
    }
  });
});
