import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  linkTarget,
  nodeinfoHref,
  parseActivity,
  parseAdminDomainBlocks,
  parseCohorts,
  parseCount,
  parseDay,
  parseDimensions,
  parseInstance,
  parseLinkHeader,
  parseMeasures,
  parseNodeInfo,
  parsePublicDomainBlocks,
  parseRateLimit,
  parseReport,
  parseReports,
  parseRetryAfter,
  versionAtLeast,
  parseRules,
  sha256
} from '../../collectors/instance/parse.ts';

const FIX = new URL('../fixtures/mastodon/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIX), 'utf8'));
const examples = (name: string) => (load(name) as { example: unknown }[]).map((e) => e.example);

describe('counts and dates', () => {
  it('reads counts sent as strings, numbers, and treats "" as a gap', () => {
    expect(parseCount('13738')).toBe(13738);
    expect(parseCount(2)).toBe(2);
    expect(parseCount('')).toBeNull();
    expect(parseCount(null)).toBeNull();
    expect(parseCount('12 GB')).toBeNull();
  });
  it('reads both measure date formats as the same calendar day', () => {
    expect(parseDay('2022-09-14T00:00:00Z')).toBe('2022-09-14');
    expect(parseDay('2022-09-14T00:00:00.000+00:00')).toBe('2022-09-14');
    expect(parseDay('2022-09-14')).toBe('2022-09-14');
    expect(parseDay('yesterday')).toBeNull();
  });
});

describe('admin measures (fixtures)', () => {
  it('parses every key of admin_measures_by_key.json with its daily values', () => {
    for (const ex of examples('admin_measures_by_key.json') as {
      key: string;
      total: string;
      data: { date: string; value: string }[];
    }[]) {
      const [m] = parseMeasures([ex]);
      expect(m.key).toBe(ex.key);
      expect(m.total).toBe(Number(ex.total));
      const numeric = ex.data.filter((d) => d.value !== '');
      expect(m.days).toEqual(numeric.map((d) => ({ day: d.date.slice(0, 10), value: Number(d.value) })));
    }
  });
  it('keeps previous_total where Mastodon sends it and null for instance_* keys', () => {
    const all = parseMeasures(load('admin_measures.json'));
    expect(all).toHaveLength(14);
    expect(all.find((m) => m.key === 'active_users')!.previousTotal).toBe(0);
    expect(all.find((m) => m.key === 'instance_accounts')!.previousTotal).toBeNull();
    const media = all.find((m) => m.key === 'instance_media_attachments')!;
    expect(media.unit).toBe('bytes');
    expect(media.days).toEqual([]); // daily value "" is no number
  });
  it('ignores junk instead of throwing', () => {
    expect(parseMeasures({ error: 'This action is not allowed' })).toEqual([]);
    expect(parseMeasures([{ key: 'x', data: [{ date: 'no', value: '1' }, null] }])[0].days).toEqual([]);
  });
});

describe('admin dimensions (fixtures)', () => {
  it('reads counts, bytes and versions', () => {
    const d = parseDimensions(load('admin_dimensions.json'));
    expect(d.get('languages')).toEqual([
      { key: 'en', humanKey: 'English', value: 10, unit: null, humanValue: null },
      { key: 'es', humanKey: 'Spanish', value: 1, unit: null, humanValue: null }
    ]);
    expect(d.get('servers')!.map((s) => [s.key, s.value])).toEqual([
      ['botsin.space', 13738],
      ['monads.online', 8928]
    ]);
    const space = d.get('space_usage')!;
    expect(space.find((s) => s.key === 'postgresql')).toMatchObject({
      value: 49581359907,
      unit: 'bytes',
      humanValue: '46.2 GB'
    });
    expect(space.find((s) => s.key === 'media')!.value).toBe(837837315424);
    const sw = d.get('software_versions')!.find((s) => s.key === 'mastodon')!;
    expect(sw.value).toBeNull();
    expect(sw.humanValue).toBe('3.5.1+chitter');
  });
});

describe('retention cohorts (fixtures)', () => {
  it('maps monthly and daily cohorts to period indexes with Mastodon rates', () => {
    expect(parseCohorts(load('admin_retention.json'))).toEqual([
      {
        frequency: 'month',
        cohort: '2022-09-01',
        periodIndex: 0,
        periodStart: '2022-09-01',
        users: 2,
        rate: 1
      }
    ]);
    const daily = parseCohorts(load('admin_retention_daily.json'));
    expect(
      daily.filter((c) => c.cohort === '2022-09-08').map((c) => [c.periodIndex, c.users, c.rate])
    ).toEqual([
      [0, 2, 1],
      [1, 2, 1],
      [2, 1, 0.5],
      [6, 1, 0.5]
    ]);
    expect(parseCohorts(load('admin_retention_empty.json'))).toEqual([]);
  });
  it('reads the entity examples', () => {
    const cells = parseCohorts(examples('admin_cohort_examples.json'));
    expect(cells.filter((c) => c.frequency === 'day')).toHaveLength(7);
  });
});

describe('reports (fixtures)', () => {
  it('maps an open report', () => {
    const [r] = parseReports(load('admin_reports.json'));
    expect(r).toEqual({
      reportId: '3',
      category: 'spam',
      createdAt: '2022-09-09T21:19:23.085Z',
      updatedAt: '2022-09-09T21:19:23.085Z',
      actionTaken: false,
      actionTakenAt: null,
      forwarded: false,
      targetOrigin: 'local',
      targetDomain: null,
      reporterDomain: null,
      assignedAccountId: null,
      ruleIds: []
    });
  });
  it('a report received from another server names that server (its instance actor is the reporter)', () => {
    const base = examples('entity_admin_report.json')[0] as Record<string, unknown>;
    const r = parseReport({
      ...base,
      category: 'other',
      account: { id: '77', username: 'Remote.Example', domain: 'Remote.Example' }
    })!;
    expect(r.reporterDomain).toBe('remote.example');
    expect(parseReport({ ...base, account: { id: '1', domain: null } })!.reporterDomain).toBeNull();
  });
  it('compares Mastodon versions numerically, ignoring suffixes', () => {
    expect(versionAtLeast('4.6.0', '4.6')).toBe(true);
    expect(versionAtLeast('4.10.1+glitch', '4.6')).toBe(true);
    expect(versionAtLeast('4.5.14', '4.6')).toBe(false);
    expect(versionAtLeast('4.6.0-beta.1', '4.6')).toBe(true);
    expect(versionAtLeast(null, '4.6')).toBe(false);
  });
  it('maps a resolved report', () => {
    const r = parseReport(load('admin_report.json'))!;
    expect(r.actionTaken).toBe(true);
    expect(r.actionTakenAt).toBe('2022-09-09T21:38:54.679Z');
  });
  it('maps remote targets, assignees and rules', () => {
    const base = examples('entity_admin_report.json')[0] as Record<string, unknown>;
    const r = parseReport({
      ...base,
      target_account: { id: '9', domain: 'Spam.Example.' },
      assigned_account: { id: '108965218747268792' },
      rules: [{ id: '2', text: 'x' }]
    })!;
    expect(r).toMatchObject({
      reportId: '1',
      targetOrigin: 'remote',
      targetDomain: 'spam.example',
      assignedAccountId: '108965218747268792',
      ruleIds: ['2']
    });
  });
});

describe('domain blocks (fixtures)', () => {
  it('admin blocks keep severity, flags and digest', () => {
    expect(parseAdminDomainBlocks(load('admin_domain_blocks.json'))).toEqual([
      {
        domain: 'example.com',
        digest: 'a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947',
        severity: 'noop',
        rejectMedia: false,
        rejectReports: false,
        publicComment: null,
        obfuscate: false,
        createdAt: '2022-11-16T08:15:34.238Z'
      }
    ]);
  });
  it('computes the digest Mastodon < 4.3 does not send', () => {
    expect(sha256('example.com')).toBe('a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947');
    const [b] = parseAdminDomainBlocks([{ domain: 'example.com', severity: 'suspend' }]);
    expect(b.digest).toBe(sha256('example.com'));
  });
  it('public blocks, obfuscated names included', () => {
    const list = parsePublicDomainBlocks(load('v1_instance_domain_blocks.json'));
    expect(list.map((b) => [b.domain, b.severity, b.comment])).toEqual([
      ['birb.elfenban.de', 'suspend', 'Third-party bots'],
      ['birdbots.leptonics.com', 'suspend', 'Third-party bots']
    ]);
    expect(parsePublicDomainBlocks(examples('entity_domain_block.json'))[0].domain).toBe('daji******.com');
  });
});

describe('public instance endpoints (fixtures)', () => {
  it('combines v2 with v1 counts', () => {
    const f = parseInstance(load('v2_instance.json'), load('v1_instance.json'));
    expect(f).toMatchObject({
      domain: 'mastodon.social',
      version: '4.5.0-nightly.2025-07-11',
      activeMonth: 279347,
      userCount: 812303,
      statusCount: 38151616,
      domainCount: 25255,
      registrationsOpen: true,
      limitedFederation: false
    });
  });
  it('falls back to v1 alone (Mastodon before 4.0)', () => {
    expect(parseInstance(null, load('v1_instance.json'))).toMatchObject({
      domain: 'mastodon.social',
      version: '3.5.3',
      registrationsOpen: false,
      activeMonth: null
    });
  });
  it('activity weeks are day-aligned with string counts parsed', () => {
    const weeks = parseActivity(load('v1_instance_activity.json'));
    expect(weeks).toHaveLength(12);
    expect(weeks[0]).toEqual({
      weekStart: '2019-11-25T00:00:00.000Z',
      statuses: 37125,
      logins: 14239,
      registrations: 542
    });
    expect(parseActivity(load('v1_instance_activity_jaywink_fixture.json')).length).toBeGreaterThan(0);
  });
  it('rules, old and new shapes', () => {
    expect(parseRules(load('v1_instance_rules.json')).map((r) => r.id)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '7'
    ]);
    const v2rules = parseRules((load('v2_instance.json') as { rules: unknown }).rules);
    expect(v2rules[0].hint).toMatch(/provocative/);
  });
  it('nodeinfo by rel, never by position', () => {
    expect(
      nodeinfoHref({
        links: [
          { rel: 'https://www.w3.org/ns/activitystreams#Application', href: 'https://x/actor' },
          { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: 'https://x/nodeinfo/2.0' }
        ]
      })
    ).toBe('https://x/nodeinfo/2.0');
    expect(parseNodeInfo(load('nodeinfo_2_0.json'))).toEqual({
      software: 'mastodon',
      version: '4.5.0-nightly.2025-07-11',
      usersTotal: 2805128,
      activeMonth: 278110,
      activeHalfyear: 811772,
      localPosts: 138439181,
      openRegistrations: true
    });
  });
});

describe('HTTP headers', () => {
  it('parses the Link header of the docs example (RFC 8288)', () => {
    const h =
      '<https://mastodon.example/api/v1/admin/reports?limit=2&max_id=2>; rel="next", <https://mastodon.example/api/v1/admin/reports?limit=2&since_id=1>; rel="prev"';
    expect(parseLinkHeader(h).map((l) => [l.uri, l.rel])).toEqual([
      ['https://mastodon.example/api/v1/admin/reports?limit=2&max_id=2', ['next']],
      ['https://mastodon.example/api/v1/admin/reports?limit=2&since_id=1', ['prev']]
    ]);
  });
  it('handles quoted commas, multiple rels, unquoted rel, case and relative targets', () => {
    const h = '</p?a=1,2>; title="a, b; c"; REL="Next Last", <https://x/y>;rel=prev';
    const links = parseLinkHeader(h);
    expect(links[0]).toMatchObject({ uri: '/p?a=1,2', rel: ['next', 'last'] });
    expect(links[0].params.title).toBe('a, b; c');
    expect(links[1].rel).toEqual(['prev']);
    expect(linkTarget(h, 'next', 'https://own.example/api/v1/admin/reports')!.href).toBe(
      'https://own.example/p?a=1,2'
    );
    expect(linkTarget(null, 'next', 'https://own.example/')).toBeNull();
    expect(parseLinkHeader('garbage, <u>; rel=next')[0].uri).toBe('u');
  });
  it('reads X-RateLimit-Reset as an ISO timestamp with microseconds', () => {
    const r = parseRateLimit({
      'x-ratelimit-limit': '300',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '2024-12-14T23:00:00.948114Z'
    });
    expect(r).toEqual({ limit: 300, remaining: 0, resetAt: new Date('2024-12-14T23:00:00.948Z') });
    expect(parseRateLimit({}).resetAt).toBeNull();
  });
  it('honours Retry-After in seconds or as a date', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
