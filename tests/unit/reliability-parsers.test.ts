import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as instance from '../../collectors/instance/parse.ts';
import { readJson, retryAfter } from '../../collectors/net/fetch.ts';
import { findOwnDomainBlock, findOwnMrfBlock } from '../../collectors/peers/blocks.ts';
import { normalizeDomain, normalizeDomainList } from '../../collectors/peers/domains.ts';
import { parseInstance as parsePeerInstance } from '../../collectors/peers/instance.ts';
import { chooseNodeinfoLink, parseNodeinfo, readBool, readCount } from '../../collectors/peers/nodeinfo.ts';
import { parseCsv } from '../../collectors/finances/csv.ts';
import { parseAmount, parseLedger } from '../../collectors/finances/ledger.ts';
import { parseTransactionsResponse } from '../../collectors/finances/opencollective.ts';
import { parseRates } from '../../collectors/finances/rates.ts';

/**
 * Every parser of data from the network (and of the finance files members upload), fed random JSON and
 * realistic documents with random parts replaced: none may throw, and none may hand back a number that is
 * not finite (a NaN or Infinity would be stored, summed and charted as if it were a value).
 */
const RUNS = 300;
const NOW = new Date('2026-06-15T12:00:00Z');

/** JSON values, plus what JSON.parse makes of "1e999" and what careless servers send. */
const weird = fc.oneof(
  fc.double(), // NaN, ±Infinity, -0, huge and tiny included
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 53 + 1,
    2 ** 31,
    -1,
    0.5,
    '1e999',
    'NaN',
    '-Infinity',
    '1,234',
    ' 42 ',
    '',
    '0x10'
  ),
  fc.constantFrom('1' + '0'.repeat(400), 8_640_000_086_400, '99999999999999'), // overflow Number / Date
  fc.constantFrom(null, true, false, [], {}, '2026-02-30', '2026-13-01T00:00:00Z', 'not a date')
);
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    weird,
    fc.string(),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 6, noNullPrototype: true }) // as JSON.parse makes them
  )
})).value;

/** Replaces the values at random paths of a realistic document (or deletes them). */
function mutated(sample: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(sample, []);
  const edit = fc.record({
    path: fc.constantFrom(...paths),
    value: fc.oneof(anyJson, fc.constant(undefined))
  });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let doc = structuredClone(sample) as unknown;
    for (const e of edits) {
      if (e.path.length === 0) {
        doc = e.value;
        continue;
      }
      let parent = doc as Record<string | number, unknown>;
      for (const k of e.path.slice(0, -1)) {
        if (!parent || typeof parent !== 'object') break;
        parent = parent[k] as Record<string | number, unknown>;
      }
      if (parent && typeof parent === 'object') {
        const last = e.path.at(-1)!;
        if (e.value === undefined) delete parent[last];
        else parent[last] = e.value;
      }
    }
    return doc;
  });
}

/** Every number reachable in a result is finite (Dates too); URLs, strings and booleans are fine. */
function expectFinite(v: unknown, where = 'result', seen = new Set<unknown>()): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where} is ${v}`);
    return;
  }
  if (typeof v === 'bigint' || v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Date) {
    if (!Number.isFinite(v.getTime())) throw new Error(`${where} is an invalid Date`);
    return;
  }
  if (v instanceof URL) return;
  if (v instanceof Map) {
    for (const [k, x] of v) expectFinite(x, `${where}.get(${String(k)})`, seen);
    return;
  }
  if (v instanceof Set) {
    for (const x of v) expectFinite(x, `${where}[set]`, seen);
    return;
  }
  for (const [k, x] of Object.entries(v)) expectFinite(x, `${where}.${k}`, seen);
}

function property(
  name: string,
  arb: fc.Arbitrary<unknown>,
  parse: (input: never) => unknown,
  examples: unknown[] = []
): void {
  it(name, () => {
    fc.assert(
      fc.property(arb, (input) => {
        expectFinite(parse(input as never));
      }),
      { numRuns: RUNS, examples: examples.map((e) => [e]) }
    );
  });
}

// Realistic documents, as servers send them (trimmed).
const NODEINFO = {
  version: '2.0',
  software: { name: 'mastodon', version: '4.3.2' },
  protocols: ['activitypub'],
  usage: { users: { total: 12345, activeMonth: 2345, activeHalfyear: 5432 }, localPosts: 987654 },
  openRegistrations: true,
  metadata: { nodeName: 'Example', federation: { mrf_simple: { reject: ['social.coop.example'] } } }
};
const DISCOVERY = {
  links: [
    { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: 'https://peer.example/nodeinfo/2.0' },
    { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1', href: '/nodeinfo/2.1' }
  ]
};
const INSTANCE_V2 = {
  domain: 'social.example',
  title: 'Social',
  version: '4.3.2',
  usage: { users: { active_month: 800 } },
  registrations: { enabled: true, approval_required: false },
  configuration: { urls: {} }
};
const INSTANCE_V1 = {
  uri: 'social.example',
  title: 'Social',
  version: '4.3.2',
  stats: { user_count: 2800, status_count: 10, domain_count: 300 }
};
const MEASURES = [
  {
    key: 'active_users',
    unit: null,
    total: '120',
    previous_total: '100',
    data: [{ date: '2026-06-14T00:00:00Z', value: '42' }]
  },
  { key: 'new_users', total: '3', data: [{ date: '2026-06-14T00:00:00.000Z', value: '3' }] }
];
const DIMENSIONS = [
  {
    key: 'space_usage',
    data: [
      { key: 'postgresql', human_key: 'PostgreSQL', value: '123456789', unit: 'bytes', human_value: '118 MB' }
    ]
  },
  {
    key: 'software_versions',
    data: [{ key: 'mastodon', human_key: 'Mastodon', value: '4.3.2', human_value: '4.3.2' }]
  }
];
const COHORTS = [
  {
    period: '2026-05-01T00:00:00+00:00',
    frequency: 'month',
    data: [
      { date: '2026-05-01T00:00:00+00:00', rate: 1.0, value: '10' },
      { date: '2026-06-01T00:00:00+00:00', rate: 0.4, value: '4' }
    ]
  }
];
const REPORT = {
  id: '1',
  action_taken: false,
  action_taken_at: null,
  category: 'spam',
  created_at: '2026-06-14T10:00:00.000Z',
  updated_at: '2026-06-14T11:00:00.000Z',
  forwarded: false,
  account: { domain: null },
  target_account: { domain: 'spam.example', account: { acct: 'x@spam.example' } },
  assigned_account: null,
  rules: [{ id: '2' }],
  rule_ids: ['2']
};
const ADMIN_BLOCKS = [
  {
    id: '1',
    domain: 'bad.example',
    digest: 'ab'.repeat(32),
    severity: 'suspend',
    reject_media: true,
    reject_reports: true,
    public_comment: 'spam',
    obfuscate: false,
    created_at: '2026-01-01T00:00:00Z'
  }
];
const PUBLIC_BLOCKS = [
  { domain: 'b*d.example', digest: 'ab'.repeat(32), severity: 'silence', comment: 'spam' }
];
const ACTIVITY = [{ week: '1718409600', statuses: '100', logins: '50', registrations: '3' }];
const RULES = [{ id: '1', text: 'Be kind', hint: '' }];
const OC = {
  data: {
    account: {
      slug: 'coop',
      name: 'Co-op',
      currency: 'EUR',
      stats: { balance: { valueInCents: 123400, currency: 'EUR' } },
      transactions: {
        totalCount: 1,
        offset: 0,
        nodes: [
          {
            id: 't1',
            type: 'CREDIT',
            kind: 'CONTRIBUTION',
            createdAt: '2026-06-01T00:00:00Z',
            description: 'x',
            amount: { valueInCents: 500, currency: 'EUR' }
          }
        ]
      }
    }
  }
};
const doc = (sample: unknown) => fc.oneof(anyJson, mutated(sample));
/** A count too long for a double: Number() makes it Infinity. */
const HUGE = '1' + '0'.repeat(400);

describe('parsers never throw and never return a non-finite number', () => {
  describe('peers (NodeInfo, instance API, block lists, domains)', () => {
    property('parseNodeinfo', doc(NODEINFO), (d: unknown) =>
      parseNodeinfo(d, { usersTotal: 100, observedAt: NOW } as never)
    );
    property('parseNodeinfo without history', doc(NODEINFO), (d: unknown) => parseNodeinfo(d));
    property('chooseNodeinfoLink', doc(DISCOVERY), (d: unknown) =>
      chooseNodeinfoLink(d, new URL('https://peer.example/.well-known/nodeinfo'))
    );
    property('readCount / readBool', anyJson, (d: unknown) => [readCount(d, 'users.total'), readBool(d)]);
    property('peer parseInstance v2', doc(INSTANCE_V2), (d: unknown) => parsePeerInstance(d, 'v2'));
    property('peer parseInstance v1', doc(INSTANCE_V1), (d: unknown) => parsePeerInstance(d, 'v1'));
    property(
      'findOwnDomainBlock',
      doc([...PUBLIC_BLOCKS, { domain: 'social.coop.example', severity: 'suspend' }]),
      (d: unknown) => findOwnDomainBlock(d, 'social.coop.example')
    );
    property('findOwnMrfBlock', doc(NODEINFO), (d: unknown) => findOwnMrfBlock(d, 'social.coop.example'));
    property('normalizeDomain', fc.oneof(anyJson, fc.domain(), fc.webUrl()), (d: unknown) =>
      normalizeDomain(d)
    );
    property(
      'normalizeDomainList',
      fc.array(fc.oneof(anyJson, fc.domain()), { maxLength: 20 }),
      (d: unknown[]) => normalizeDomainList(d)
    );
  });

  describe('own server (public and admin APIs, headers)', () => {
    property(
      'parseInstance',
      fc.tuple(doc(INSTANCE_V2), doc(INSTANCE_V1)),
      ([a, b]: [unknown, unknown]) => instance.parseInstance(a, b),
      [[INSTANCE_V2, { ...INSTANCE_V1, stats: { ...INSTANCE_V1.stats, status_count: HUGE } }]]
    );
    property('parseMeasures', doc(MEASURES), (d: unknown) => instance.parseMeasures(d), [
      [{ ...MEASURES[0], total: HUGE }]
    ]);
    property('parseDimensions', doc(DIMENSIONS), (d: unknown) => instance.parseDimensions(d));
    property('parseCohorts', doc(COHORTS), (d: unknown) => instance.parseCohorts(d));
    property('parseReports', doc([REPORT, REPORT]), (d: unknown) => instance.parseReports(d));
    property('parseReport', doc(REPORT), (d: unknown) => instance.parseReport(d));
    property('parseAdminDomainBlocks', doc(ADMIN_BLOCKS), (d: unknown) => instance.parseAdminDomainBlocks(d));
    property('parsePublicDomainBlocks', doc(PUBLIC_BLOCKS), (d: unknown) =>
      instance.parsePublicDomainBlocks(d)
    );
    // Found by this test: a week number past Date's range threw a RangeError.
    property('parseActivity', doc(ACTIVITY), (d: unknown) => instance.parseActivity(d), [
      [{ week: 8_640_000_086_400, statuses: '1', logins: '1', registrations: '1' }]
    ]);
    property('parseRules', doc(RULES), (d: unknown) => instance.parseRules(d));
    property('nodeinfoHref', doc(DISCOVERY), (d: unknown) => instance.nodeinfoHref(d));
    property('parseNodeInfo (own)', doc(NODEINFO), (d: unknown) => instance.parseNodeInfo(d), [
      { ...NODEINFO, usage: { ...NODEINFO.usage, users: { total: HUGE } } }
    ]);
    // Found by this test: a 400-digit count string came back as Infinity.
    property(
      'parseCount / parseDay / parseTime',
      anyJson,
      (d: unknown) => [instance.parseCount(d), instance.parseDay(d), instance.parseTime(d)],
      [HUGE]
    );
    property(
      'errorText',
      doc({ error: 'This action is not allowed', error_description: 'x' }),
      (d: unknown) => instance.errorText(d)
    );
    property(
      'parseLinkHeader / linkTarget',
      fc.oneof(
        fc.string(),
        fc.constant(
          '<https://s.example/api/v1/admin/reports?max_id=5>; rel="next", <https://s.example/x>; rel="prev"'
        )
      ),
      (h: string) => [
        instance.parseLinkHeader(h),
        instance.linkTarget(h, 'next', 'https://s.example/api/v1/admin/reports')
      ]
    );
    property(
      'parseRateLimit / parseRetryAfter',
      fc.record({
        'x-ratelimit-limit': fc.oneof(fc.string(), fc.constantFrom('300', '1e999', '-5')),
        'x-ratelimit-remaining': fc.oneof(fc.string(), fc.constantFrom('0', 'NaN')),
        'x-ratelimit-reset': fc.oneof(
          fc.string(),
          fc.constantFrom('2026-06-15T12:05:00.123456Z', '+275760-09-13T00:00:00.001Z')
        )
      }),
      (h: Record<string, string>) => [
        instance.parseRateLimit(h),
        instance.parseRetryAfter(h['x-ratelimit-limit'], NOW),
        instance.parseRetryAfter(h['x-ratelimit-reset'], NOW)
      ]
    );
  });

  describe('network helpers', () => {
    property(
      'readJson (bytes off the wire)',
      fc.oneof(fc.string(), fc.constantFrom('1e999', '[1e999]', '{"a":-1e999}', '\uFEFF{"a":1}')),
      (s: string) => {
        const r = readJson(Buffer.from(s));
        // The value is the peer's, raw: parsers downstream judge it. The verdict itself must be well-formed.
        return r.ok ? { ok: true } : r;
      }
    );
    property(
      'retryAfter',
      fc.oneof(fc.string(), fc.constantFrom('120', '-1', '1e999', 'Wed, 21 Oct 2015 07:28:00 GMT')),
      (s: string) => retryAfter(s, NOW)
    );
  });

  describe('finances (uploaded files, Open Collective)', () => {
    const csv = fc.array(
      fc.array(fc.oneof(fc.string(), fc.constantFrom('1e999', '-0,5', '12.345,67', 'NaN', '2026-02-30')), {
        maxLength: 6
      }),
      { maxLength: 8 }
    );
    property(
      'parseCsv',
      csv.map((rows) => rows.map((r) => r.join(',')).join('\n')),
      (t: string) => parseCsv(t)
    );
    property(
      'parseAmount',
      fc.oneof(fc.string(), fc.constantFrom('1e999', '€ 12,50', '-0', '99999999999999999999')),
      (s: string) => parseAmount(s)
    );
    property(
      'parseLedger',
      csv.map((rows) =>
        ['date,amount,currency,category,description', ...rows.map((r) => r.join(','))].join('\n')
      ),
      (t: string) => parseLedger(t, parseRates('', 'EUR').rates)
    );
    property(
      'parseRates',
      fc.oneof(fc.string(), fc.constant('date,currency,rate\n2026-01-01,USD,1e999\n2026-01-01,GBP,0')),
      (t: string) => parseRates(t, 'EUR')
    );
    property('parseTransactionsResponse', doc(OC), (d: unknown) => parseTransactionsResponse(d));
  });

  it('the checker itself catches what it should', () => {
    expect(() => expectFinite({ a: [1, { b: NaN }] })).toThrow(/result\.a\.1\.b is NaN/);
    expect(() => expectFinite(new Map([['x', Infinity]]))).toThrow(/Infinity/);
    expect(() => expectFinite({ d: new Date(NaN) })).toThrow(/invalid Date/);
  });
});
