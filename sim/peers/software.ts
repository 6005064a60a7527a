import { pick, weighted, type Rng } from '../random.ts';
import type { DomainBlockEntry } from './blocklists.ts';
import { robotsFor } from './robots.ts';

/**
 * What each kind of fediverse software serves, in its real shape and with its real quirks. Every builder
 * is modelled on the captured documents in shared/fixtures (nodeinfo/, mastodon/) and NODEINFO-QUIRKS.md.
 */

export const NI = 'http://nodeinfo.diaspora.software/ns/schema/';

export interface Usage {
  total: number;
  activeMonth: number;
  activeHalfyear: number;
  localPosts: number;
  localComments: number;
}

/** One peer as of a simulated day, as a builder needs it. */
export interface PeerView {
  domain: string;
  version: string;
  nodeName: string;
  openRegistrations: boolean;
  usage: Usage;
  /** Per-host randomness for quirks: a fresh generator from (seed, domain), so each call draws the same. */
  r: Rng;
  /** Randomness that changes every simulated day (GoToSocial baffle). */
  daily: Rng;
  /** The numbers served are lies (the failure model decided); conformance of the document is then off. */
  lying: boolean;
  /** Mastodon ≥ 4.0 `show_domain_blocks` ('absent' elsewhere). */
  showDomainBlocks: 'all' | 'users' | 'disabled' | 'absent';
  /** Other peers this one knows (its /api/v1/instance/peers). */
  knownPeers: () => string[];
  /** Its moderation lists, names in clear (Pleroma/Akkoma publish them in NodeInfo, MRF transparency). */
  mrf: () => MrfLists;
}

/** A Pleroma/Akkoma server's MRF simple policy and quarantine, as its NodeInfo shows them. */
export interface MrfLists {
  blocks: DomainBlockEntry[];
  quarantined: { domain: string; reason: string }[];
}

export interface NodeInfoDocument {
  /** Path (with query) the discovery document points at. */
  path: string;
  schema: '1.0' | '2.0' | '2.1';
  body: unknown;
  /** True when the real software's document of this shape passes the official schema (VALIDATION.md). */
  conformant: boolean;
  contentType?: string;
}

/** What a careful crawler should end up with for this peer when nothing fails. */
export interface ExpectedSoftware {
  software: string | null;
  version: string | null;
  usersTotal: number | null;
  activeMonth: number | null;
  /**
   * Set when the software itself stops a polite crawler (robots.txt, NodeInfo switched off, a NodeInfo
   * link to another host, which the crawler treats as a redirect).
   */
  outcome?: 'robots_disallowed' | 'http_error' | 'redirect_refused';
  /** Numbers deliberately fake or meaningless (GoToSocial baffle/zero). */
  fake?: 'baffle' | 'zero';
}

export interface Site {
  /** Body of /.well-known/nodeinfo, or null for 404. */
  discovery: unknown;
  documents: NodeInfoDocument[];
  instanceV1?: unknown;
  instanceV2?: unknown;
  peersApi: 'public' | 'unauthorized' | 'disabled' | 'absent';
  /** Mastodon ≥ 4.0 `show_domain_blocks`; 'absent' for software without the endpoint. */
  domainBlocks: 'all' | 'users' | 'disabled' | 'absent';
  robots: string;
  /** GoToSocial answers 406 when Accept does not admit JSON. */
  strictAccept?: boolean;
  /** How the software's unknown routes look. */
  notFound: 'json' | 'html' | 'empty';
  expected: ExpectedSoftware;
}

export interface SoftwareKind {
  weight: number;
  versions: readonly (readonly [string, number])[];
  /** Median and log-normal sigma of local users; `big` allows the 100k+ flagship tier. */
  size: { median: number; sigma: number; big: boolean };
  build(p: PeerView): Site;
}

const href = (p: PeerView, path: string) => `https://${p.domain}${path}`;
const link = (p: PeerView, v: string, path: string) => ({ rel: `${NI}${v}`, href: href(p, path) });
const services = (outbound: string[] = [], inbound: string[] = []) => ({ outbound, inbound });
const users = (u: Usage) => ({
  total: u.total,
  activeMonth: u.activeMonth,
  activeHalfyear: u.activeHalfyear
});
const expectedOf = (
  name: string,
  p: PeerView,
  total: number | null,
  active: number | null
): ExpectedSoftware => ({
  software: name,
  version: p.version,
  usersTotal: total,
  activeMonth: active
});

/** Mastodon-ish version ordering on the leading "major.minor". */
export function versionAtLeast(version: string, major: number, minor = 0): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

function mastodonInstanceV1(p: PeerView, version: string, userCount: number) {
  return {
    uri: p.domain,
    title: p.nodeName,
    short_description: `A small corner of the fediverse at ${p.domain}`,
    description: '',
    email: `admin@${p.domain}`,
    version,
    urls: { streaming_api: `wss://${p.domain}` },
    stats: {
      user_count: userCount,
      status_count: p.usage.localPosts,
      domain_count: 800 + (p.usage.total % 9000)
    },
    thumbnail: `https://${p.domain}/packs/media/images/preview.png`,
    languages: ['en'],
    registrations: p.openRegistrations,
    approval_required: false,
    invites_enabled: true,
    configuration: {
      statuses: { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 },
      media_attachments: {
        supported_mime_types: ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'video/mp4'],
        image_size_limit: 10485760,
        image_matrix_limit: 16777216,
        video_size_limit: 41943040,
        video_frame_rate_limit: 60,
        video_matrix_limit: 2304000
      },
      polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 }
    },
    contact_account: null,
    rules: []
  };
}

function mastodonInstanceV2(p: PeerView, version: string, activeMonth: number) {
  return {
    domain: p.domain,
    title: p.nodeName,
    version,
    source_url: 'https://github.com/mastodon/mastodon',
    description: `A small corner of the fediverse at ${p.domain}`,
    usage: { users: { active_month: activeMonth } },
    thumbnail: { url: `https://${p.domain}/packs/media/images/preview.png` },
    languages: ['en'],
    configuration: {
      urls: { streaming: `wss://${p.domain}`, status: null },
      accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
      statuses: { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 },
      media_attachments: {
        supported_mime_types: ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'video/mp4'],
        image_size_limit: 16777216,
        image_matrix_limit: 33177600,
        video_size_limit: 103809024,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8294400
      },
      polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 },
      translation: { enabled: false }
    },
    registrations: { enabled: p.openRegistrations, approval_required: false, message: null },
    contact: { email: `admin@${p.domain}`, account: null },
    rules: []
  };
}

const mastodon: SoftwareKind = {
  weight: 64,
  versions: [
    ['4.3.8', 20],
    ['4.4.5', 18],
    ['4.2.19', 10],
    ['4.3.2', 5],
    ['4.1.22', 5],
    ['4.0.15', 2],
    ['4.0.2', 1],
    ['3.5.19', 4],
    ['3.4.6', 1],
    ['4.5.0-nightly.2025-07-11', 2],
    ['4.4.5+glitch', 4],
    ['4.3.8+hometown-1.1.2', 2],
    ['4.2.10+chitter', 1],
    ['3.1.3-asonix-changes', 0.3],
    ['4.0.0rc2', 0.3]
  ],
  size: { median: 12, sigma: 2.1, big: true },
  build(p) {
    const v4 = versionAtLeast(p.version, 4);
    const rc2 = p.version.startsWith('4.0.0rc2');
    const doc: Record<string, unknown> = {
      version: '2.0',
      software: { name: 'mastodon', version: p.version },
      protocols: ['activitypub'],
      ...(v4 ? { services: services() } : {}),
      usage: { users: users(p.usage), localPosts: p.usage.localPosts },
      openRegistrations: p.openRegistrations
    };
    // 3.x omitted services and metadata; 4.0.0rc2 sent "metadata": []; 4.3 added nodeName.
    if (rc2) doc.metadata = [];
    else if (versionAtLeast(p.version, 4, 3)) {
      doc.metadata = {
        nodeName: p.nodeName,
        nodeDescription: `A small corner of the fediverse at ${p.domain}`
      };
    } else if (v4) doc.metadata = {};
    const links: unknown[] = [link(p, '2.0', '/nodeinfo/2.0')];
    if (versionAtLeast(p.version, 4, 4)) {
      links.push({ rel: 'https://www.w3.org/ns/activitystreams#Application', href: href(p, '/actor') });
    }
    const peersApi = weighted(p.r, [
      ['public', 88],
      ['disabled', 10],
      ['unauthorized', 2]
    ] as const);
    return {
      discovery: { links },
      documents: [{ path: '/nodeinfo/2.0', schema: '2.0', body: doc, conformant: v4 && !rc2 && !p.lying }],
      instanceV1: mastodonInstanceV1(p, p.version, p.usage.total),
      instanceV2: v4 ? mastodonInstanceV2(p, p.version, p.usage.activeMonth) : undefined,
      peersApi,
      domainBlocks: p.showDomainBlocks,
      robots: robotsFor('mastodon'),
      notFound: 'json',
      expected: expectedOf('mastodon', p, p.usage.total, p.usage.activeMonth)
    };
  }
};

/** Misskey and its forks share one NodeInfo service (NodeinfoServerService.ts). */
function misskeyFamily(
  name: string,
  o: { activeNull: boolean; fakeInstanceApi?: boolean; homepage: string }
) {
  return (p: PeerView): Site => {
    const u = p.usage;
    const doc = (v: '2.0' | '2.1') => ({
      version: v,
      // 2.0 deletes `repository` but still carries `homepage` (schema-invalid for 2.0).
      software: {
        name,
        version: p.version,
        ...(v === '2.1' ? { repository: o.homepage } : {}),
        homepage: o.homepage
      },
      protocols: ['activitypub'],
      services: services(['atom1.0', 'rss2.0']),
      openRegistrations: p.openRegistrations,
      usage: {
        users: o.activeNull
          ? { total: u.total, activeHalfyear: null, activeMonth: null }
          : { total: u.total, activeHalfyear: u.activeHalfyear, activeMonth: u.activeMonth },
        localPosts: u.localPosts,
        localComments: 0
      },
      metadata: {
        nodeName: p.nodeName,
        nodeDescription: '',
        nodeAdmins: [{ name: 'admin', email: `admin@${p.domain}` }],
        maintainer: { name: 'admin', email: `admin@${p.domain}` },
        langs: [],
        tosUrl: href(p, '/about'),
        repositoryUrl: o.homepage,
        feedbackUrl: `${o.homepage}/issues`,
        disableRegistration: !p.openRegistrations,
        disableLocalTimeline: false,
        disableGlobalTimeline: false,
        ...(name === 'sharkey' ? { disableBubbleTimeline: false } : {}),
        emailRequiredForSignup: true,
        enableHcaptcha: false,
        enableRecaptcha: false,
        maxNoteTextLength: 3000,
        enableEmail: true,
        enableServiceWorker: true,
        proxyAccountName: 'proxy',
        themeColor: '#86b300'
      }
    });
    const ct = (v: string) => `application/json; profile="${NI}${v}#"`;
    // Null active counts and the 2.0 homepage make Misskey/Sharkey documents schema-invalid.
    const ok = !o.activeNull && !p.lying;
    const fakeUsers = o.fakeInstanceApi ? u.total * 37 + 4000 : u.total;
    return {
      discovery: { links: [link(p, '2.1', '/nodeinfo/2.1'), link(p, '2.0', '/nodeinfo/2.0')] },
      documents: [
        { path: '/nodeinfo/2.1', schema: '2.1', body: doc('2.1'), conformant: ok, contentType: ct('2.1') },
        { path: '/nodeinfo/2.0', schema: '2.0', body: doc('2.0'), conformant: false, contentType: ct('2.0') }
      ],
      // Misskey removed /api/v1/instance in 10.81; the forks' Mastodon-compat layers report other counts.
      instanceV1:
        name === 'misskey'
          ? undefined
          : mastodonInstanceV1(
              p,
              `4.2.1 (compatible; ${name[0].toUpperCase()}${name.slice(1)} ${p.version})`,
              fakeUsers
            ),
      peersApi: 'public',
      domainBlocks: 'absent',
      robots: robotsFor('misskey'),
      notFound: 'json',
      expected: expectedOf(name, p, u.total, o.activeNull ? null : u.activeMonth)
    };
  };
}

/**
 * metadata.federation of Pleroma/Akkoma with MRF transparency on (akkoma_3.0.0 and pleroma_2.2.50 fixtures):
 * every rejected and silenced domain, with reasons, and the quarantine.
 */
function mrfFederation(p: PeerView) {
  const { blocks, quarantined } = p.mrf();
  const names = (sev: 'suspend' | 'silence') => blocks.filter((e) => e.severity === sev);
  const info = (list: DomainBlockEntry[]) =>
    Object.fromEntries(list.filter((e) => e.comment).map((e) => [e.domain, { reason: e.comment }]));
  const reject = names('suspend');
  const silence = names('silence');
  return {
    enabled: true,
    exclusions: false,
    mrf_policies: ['SimplePolicy', 'HashtagPolicy'],
    mrf_simple: {
      accept: [],
      reject: [`*.flood.example`, ...reject.map((e) => e.domain)],
      media_nsfw: [],
      federated_timeline_removal: silence.map((e) => e.domain)
    },
    mrf_simple_info: { reject: info(reject), federated_timeline_removal: info(silence) },
    quarantined_instances: quarantined.map((q) => q.domain),
    quarantined_instances_info: {
      quarantined_instances: Object.fromEntries(quarantined.map((q) => [q.domain, { reason: q.reason }]))
    }
  };
}

/** Pleroma and Akkoma: 2.0 and 2.1 at .json paths, MRF transparency in metadata. */
function pleromaFamily(name: 'pleroma' | 'akkoma') {
  return (p: PeerView): Site => {
    const u = p.usage;
    const oldUsers = name === 'pleroma' && !versionAtLeast(p.version, 2, 5);
    const stringRegistrations = name === 'akkoma' && p.r() < 0.3;
    const objectPosts = name === 'pleroma' && p.r() < 0.05;
    const doc = (v: '2.0' | '2.1') => ({
      metadata: {
        accountActivationRequired: p.r() < 0.5,
        features: [
          'pleroma_api',
          'mastodon_api',
          'mastodon_api_streaming',
          'polls',
          'pleroma_emoji_reactions'
        ],
        federation: mrfFederation(p),
        nodeName: p.nodeName,
        nodeDescription: '',
        postFormats: ['text/plain', 'text/html', 'text/markdown'],
        staffAccounts: [`https://${p.domain}/users/admin`],
        uploadLimits: { avatar: 2000000, background: 4000000, banner: 4000000, general: 16000000 }
      },
      // Akkoma was seen serving the string "FALSE" (akkoma_3.0.0 fixture).
      openRegistrations: stringRegistrations
        ? String(p.openRegistrations).toUpperCase()
        : p.openRegistrations,
      protocols: ['activitypub'],
      services: services(),
      software: {
        name,
        version: p.version,
        ...(v === '2.1'
          ? {
              repository: `https://${name === 'akkoma' ? 'akkoma.dev/AkkomaGang' : 'git.pleroma.social/pleroma'}/${name}`
            }
          : {})
      },
      usage: {
        localPosts: objectPosts ? { all: u.localPosts, direct: Math.floor(u.localPosts / 9) } : u.localPosts,
        users: oldUsers
          ? { total: u.total }
          : { activeHalfyear: u.activeHalfyear, activeMonth: u.activeMonth, total: u.total }
      },
      version: v
    });
    const ok = !stringRegistrations && !objectPosts && !p.lying;
    const compat = `2.7.2 (compatible; ${name === 'akkoma' ? 'Akkoma' : 'Pleroma'} ${p.version})`;
    return {
      discovery: {
        links: [
          { href: href(p, '/nodeinfo/2.0.json'), rel: `${NI}2.0` },
          { href: href(p, '/nodeinfo/2.1.json'), rel: `${NI}2.1` }
        ]
      },
      documents: [
        { path: '/nodeinfo/2.0.json', schema: '2.0', body: doc('2.0'), conformant: ok },
        { path: '/nodeinfo/2.1.json', schema: '2.1', body: doc('2.1'), conformant: ok }
      ],
      instanceV1: mastodonInstanceV1(p, compat, u.total),
      instanceV2: name === 'akkoma' ? mastodonInstanceV2(p, compat, u.activeMonth) : undefined,
      peersApi: 'public',
      domainBlocks: 'absent',
      robots: robotsFor('pleroma'),
      notFound: 'json',
      expected: expectedOf(name, p, u.total, oldUsers ? null : u.activeMonth)
    };
  };
}

const gotosocial: SoftwareKind = {
  weight: 4,
  versions: [
    ['0.19.1+git-6574dc8', 4],
    ['0.19.0', 2],
    ['0.18.3', 3],
    ['0.17.4', 2],
    ['0.16.0', 1],
    ['0.6.0 git-f9e5ec9', 0.2]
  ],
  size: { median: 2, sigma: 1, big: false },
  build(p) {
    const statsMode = versionAtLeast(p.version, 0, 18);
    // instance-stats-mode: "" (default: real numbers, robots.txt asks crawlers away), serve, zero, baffle.
    const mode = statsMode
      ? weighted(p.r, [
          ['', 50],
          ['serve', 30],
          ['zero', 10],
          ['baffle', 10]
        ] as const)
      : 'serve';
    const emptyUsers = p.version.startsWith('0.6.');
    let total = p.usage.total;
    let posts = p.usage.localPosts;
    if (mode === 'zero') total = posts = 0;
    if (mode === 'baffle') {
      // Absurd random numbers, new every day: the point is that they mean nothing.
      total = Math.floor(p.daily() * 1e9);
      posts = Math.floor(p.daily() * 1e12);
    }
    const doc = (v: '2.0' | '2.1') => ({
      version: v,
      software: {
        name: 'gotosocial',
        version: p.version,
        ...(v === '2.1'
          ? {
              repository: 'https://github.com/superseriousbusiness/gotosocial',
              homepage: 'https://docs.gotosocial.org'
            }
          : {})
      },
      protocols: ['activitypub'],
      services: services(),
      openRegistrations: p.openRegistrations,
      usage: emptyUsers ? { users: {} } : { users: { total }, localPosts: posts },
      metadata: {}
    });
    const links = [link(p, '2.0', '/nodeinfo/2.0')];
    const documents: NodeInfoDocument[] = [
      { path: '/nodeinfo/2.0', schema: '2.0', body: doc('2.0'), conformant: !p.lying }
    ];
    if (statsMode) {
      links.push(link(p, '2.1', '/nodeinfo/2.1'));
      documents.push({ path: '/nodeinfo/2.1', schema: '2.1', body: doc('2.1'), conformant: !p.lying });
    }
    const v1 = mastodonInstanceV1(p, p.version, total);
    return {
      discovery: { links },
      documents,
      instanceV1: v1,
      instanceV2: mastodonInstanceV2(p, p.version, total),
      peersApi: p.r() < 0.85 ? 'unauthorized' : 'public',
      domainBlocks: 'absent',
      robots: robotsFor('gotosocial', { disallowNodeInfo: mode === '' && statsMode }),
      strictAccept: true,
      notFound: 'json',
      expected: {
        ...expectedOf('gotosocial', p, emptyUsers ? null : total, null),
        ...(mode === '' && statsMode ? { outcome: 'robots_disallowed' as const } : {}),
        ...(mode === 'zero' || mode === 'baffle' ? { fake: mode } : {})
      }
    };
  }
};

const lemmy: SoftwareKind = {
  weight: 4,
  versions: [
    ['0.19.11', 5],
    ['0.19.5', 3],
    ['0.19.3', 2],
    ['0.18.5', 2],
    ['0.14.4', 0.3]
  ],
  size: { median: 40, sigma: 1.8, big: true },
  build(p) {
    const u = p.usage;
    const only21 = versionAtLeast(p.version, 0, 19) && !/^0\.19\.[0-3]$/.test(p.version);
    const schema = only21 ? '2.1' : '2.0';
    // Lemmy sends no services and no metadata; `protocols` is null when federation is off.
    const doc = {
      version: schema,
      software: { name: 'lemmy', version: p.version },
      protocols: p.r() < 0.03 ? null : ['activitypub'],
      usage: { users: users(u), localPosts: u.localPosts, localComments: u.localComments },
      openRegistrations: p.openRegistrations
    };
    const path = only21 ? '/nodeinfo/2.1' : '/nodeinfo/2.0.json';
    const l = link(p, schema, path);
    return {
      // Before LemmyNet/lemmy#1930 `links` was a single object.
      discovery: p.version.startsWith('0.14') ? { links: l } : { links: [l] },
      documents: [{ path, schema, body: doc, conformant: false }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'json',
      expected: expectedOf('lemmy', p, u.total, u.activeMonth)
    };
  }
};

const peertube: SoftwareKind = {
  weight: 3,
  versions: [
    ['7.2.1', 4],
    ['6.3.3', 3],
    ['6.0.4', 2],
    ['5.2.1', 1],
    ['5.0.0', 0.5]
  ],
  size: { median: 15, sigma: 1.9, big: true },
  build(p) {
    const u = p.usage;
    const doc = {
      version: '2.0',
      software: { name: 'peertube', version: p.version },
      protocols: ['activitypub'],
      services: services(['atom1.0', 'rss2.0']),
      openRegistrations: p.openRegistrations,
      // localPosts counts videos, localComments video comments.
      usage: {
        users: users(u),
        localPosts: Math.ceil(u.localPosts / 40),
        localComments: Math.ceil(u.localComments / 10)
      },
      metadata: {
        taxonomy: { postsName: 'Videos' },
        nodeName: p.nodeName,
        nodeDescription: 'A PeerTube instance.',
        nodeConfig: {
          search: { remoteUri: { users: true, anonymous: false } },
          plugin: { registered: [] },
          theme: { registered: [], default: 'default' },
          email: { enabled: false },
          contactForm: { enabled: true },
          transcoding: {
            hls: { enabled: true },
            webtorrent: { enabled: false },
            enabledResolutions: [720, 1080]
          },
          live: { enabled: false, transcoding: { enabled: true, enabledResolutions: [] } },
          user: { videoQuota: 5368709120, videoQuotaDaily: -1 },
          trending: { videos: { intervalDays: 7 } },
          tracker: { enabled: true }
        }
      }
    };
    return {
      discovery: { links: [link(p, '2.0', '/nodeinfo/2.0.json')] },
      documents: [{ path: '/nodeinfo/2.0.json', schema: '2.0', body: doc, conformant: !p.lying }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'json',
      expected: expectedOf('peertube', p, u.total, u.activeMonth)
    };
  }
};

const pixelfed: SoftwareKind = {
  weight: 2.2,
  versions: [
    ['0.12.5', 4],
    ['0.12.4', 3],
    ['0.12.0', 1],
    ['0.11.13', 1]
  ],
  size: { median: 20, sigma: 2, big: true },
  build(p) {
    const u = p.usage;
    // Keys come metadata-first; `software.repo` (not repository) sits in metadata.
    const doc = {
      metadata: {
        nodeName: p.nodeName,
        software: { homepage: 'https://pixelfed.org', repo: 'https://github.com/pixelfed/pixelfed' },
        config: {
          features: {
            timelines: { local: true, network: true },
            mobile_apis: true,
            stories: true,
            video: true
          }
        }
      },
      protocols: ['activitypub'],
      services: services(),
      software: { name: 'pixelfed', version: p.version },
      usage: {
        localPosts: u.localPosts,
        localComments: 0,
        users: { total: u.total, activeHalfyear: u.activeHalfyear, activeMonth: u.activeMonth }
      },
      version: '2.0',
      openRegistrations: p.openRegistrations
    };
    return {
      discovery: { links: [link(p, '2.0', '/api/nodeinfo/2.0.json')] },
      documents: [{ path: '/api/nodeinfo/2.0.json', schema: '2.0', body: doc, conformant: !p.lying }],
      instanceV1: mastodonInstanceV1(p, `3.5.3 (compatible; Pixelfed ${p.version})`, u.total),
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'html',
      expected: expectedOf('pixelfed', p, u.total, u.activeMonth)
    };
  }
};

const friendica: SoftwareKind = {
  weight: 1.8,
  versions: [
    ['2024.12-1576', 4],
    ['2024.08-1567', 2],
    ['2023.12-1549', 1],
    ['2024.03-dev-1552', 0.5]
  ],
  size: { median: 10, sigma: 1.6, big: false },
  build(p) {
    const u = p.usage;
    // Admins can switch statistics off: users becomes {} (zeros would be a lie, empty is honest).
    const statsOff = p.r() < 0.1;
    const bluesky = p.r() < 0.15;
    const usage = statsOff
      ? { users: {} }
      : { users: users(u), localPosts: u.localPosts, localComments: u.localComments };
    const doc2 = {
      version: '2.0',
      software: { name: 'friendica', version: p.version },
      protocols: ['activitypub', 'dfrn', 'diaspora', 'ostatus'],
      services: { inbound: ['atom1.0', 'rss2.0'], outbound: ['atom1.0', ...(bluesky ? ['bluesky'] : [])] },
      usage,
      openRegistrations: p.openRegistrations,
      metadata: { nodeName: p.nodeName, explicitContent: false }
    };
    const doc1 = {
      version: '1.0',
      software: { name: 'friendica', version: p.version },
      protocols: {
        inbound: ['friendica', 'diaspora', 'gnusocial'],
        outbound: ['friendica', 'diaspora', 'gnusocial']
      },
      // 1.0 has its own closed service names (no atom/rss).
      services: { inbound: ['gnusocial'], outbound: ['gnusocial', 'smtp', 'wordpress'] },
      usage,
      openRegistrations: p.openRegistrations,
      metadata: { nodeName: p.nodeName }
    };
    return {
      discovery: { links: [link(p, '1.0', '/nodeinfo/1.0'), link(p, '2.0', '/nodeinfo/2.0')] },
      documents: [
        { path: '/nodeinfo/1.0', schema: '1.0', body: doc1, conformant: !p.lying },
        { path: '/nodeinfo/2.0', schema: '2.0', body: doc2, conformant: !bluesky && !p.lying }
      ],
      instanceV1: mastodonInstanceV1(p, `2.8.0 (compatible; Friendica ${p.version})`, u.total),
      peersApi: 'public',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'html',
      expected: expectedOf('friendica', p, statsOff ? null : u.total, statsOff ? null : u.activeMonth)
    };
  }
};

const wordpress: SoftwareKind = {
  weight: 2,
  versions: [
    ['6.7', 4],
    ['6.8', 3],
    ['6.6', 2],
    ['6.5', 1]
  ],
  size: { median: 1, sigma: 0.7, big: false },
  build(p) {
    const u = p.usage;
    const hosting = weighted(p.r, [
      ['pretty', 70],
      ['plain', 15],
      ['wpcom', 15]
    ] as const);
    const strings = p.r() < 0.3;
    const num = (n: number) => (strings ? String(n) : n);
    const doc = {
      version: '2.0',
      software: { name: 'wordpress', version: p.version },
      protocols: ['activitypub'],
      services: services(),
      openRegistrations: false,
      usage: {
        users: {
          total: num(u.total),
          activeMonth: num(u.activeMonth),
          activeHalfyear: num(u.activeHalfyear)
        },
        localPosts: num(u.localPosts),
        localComments: num(u.localComments)
      },
      metadata: {
        nodeName: p.nodeName,
        nodeDescription: 'Just another WordPress site',
        nodeIcon: href(p, '/favicon.ico')
      }
    };
    const path =
      hosting === 'plain'
        ? '/?rest_route=/activitypub/1.0/nodeinfo/2.0'
        : '/wp-json/activitypub/1.0/nodeinfo/2.0';
    // WordPress.com serves NodeInfo from its shared API host (the href is on another host).
    const docHref =
      hosting === 'wpcom'
        ? `https://public-api.blogs.example/wpcom/v2/sites/${p.domain}/activitypub/1.0/nodeinfo/2.0`
        : href(p, path);
    return {
      discovery: {
        links: [
          { rel: `${NI}2.0`, href: docHref },
          {
            rel: 'https://www.w3.org/ns/activitystreams#Application',
            href: href(p, '/wp-json/activitypub/1.0/application')
          },
          { rel: `https://nodeinfo.diaspora.software/ns/schema/2.0`, href: docHref }
        ]
      },
      documents: [{ path, schema: '2.0', body: doc, conformant: !strings && !p.lying }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('wordpress'),
      notFound: 'html',
      expected: {
        ...expectedOf('wordpress', p, u.total, u.activeMonth),
        ...(hosting === 'wpcom' ? { outcome: 'redirect_refused' as const } : {})
      }
    };
  }
};

const bookwyrm: SoftwareKind = {
  weight: 0.8,
  versions: [
    ['0.7.5', 3],
    ['0.7.4', 2],
    ['0.6.6', 1]
  ],
  size: { median: 30, sigma: 1.7, big: false },
  build(p) {
    const u = p.usage;
    const doc = {
      version: '2.0',
      software: { name: 'bookwyrm', version: p.version },
      protocols: ['activitypub'],
      usage: { users: users(u), localPosts: u.localPosts },
      openRegistrations: p.openRegistrations
    };
    return {
      // BookWyrm builds the href with http:// (views/wellknown.py): same host, to be upgraded to https.
      discovery: { links: [{ rel: `${NI}2.0`, href: `http://${p.domain}/nodeinfo/2.0` }] },
      documents: [{ path: '/nodeinfo/2.0', schema: '2.0', body: doc, conformant: false }],
      instanceV1: { ...mastodonInstanceV1(p, p.version, u.total), configuration: undefined },
      peersApi: 'public',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'html',
      expected: expectedOf('bookwyrm', p, u.total, u.activeMonth)
    };
  }
};

const mobilizon: SoftwareKind = {
  weight: 0.7,
  versions: [
    ['5.1.2', 2],
    ['4.1.0', 1],
    ['3.2.0', 0.5]
  ],
  size: { median: 25, sigma: 1.6, big: false },
  build(p) {
    const u = p.usage;
    const doc = (v: '2.0' | '2.1') => ({
      version: v,
      // Capitalised name, against the schema's ^[a-z0-9-]+$; localPosts counts events.
      software: {
        name: 'Mobilizon',
        version: p.version,
        ...(v === '2.1' ? { repository: 'https://framagit.org/framasoft/mobilizon' } : {})
      },
      protocols: ['activitypub'],
      services: services(['atom1.0']),
      openRegistrations: p.openRegistrations,
      usage: {
        users: { total: u.total },
        localPosts: Math.ceil(u.localPosts / 50),
        localComments: Math.ceil(u.localComments / 20)
      },
      metadata: { nodeName: p.nodeName }
    });
    const ct = `application/json; profile="${NI}2.1#"`;
    return {
      discovery: {
        links: [link(p, '2.0', '/.well-known/nodeinfo/2.0'), link(p, '2.1', '/.well-known/nodeinfo/2.1')]
      },
      documents: [
        {
          path: '/.well-known/nodeinfo/2.0',
          schema: '2.0',
          body: doc('2.0'),
          conformant: false,
          contentType: ct
        },
        {
          path: '/.well-known/nodeinfo/2.1',
          schema: '2.1',
          body: doc('2.1'),
          conformant: false,
          contentType: ct
        }
      ],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'html',
      expected: expectedOf('mobilizon', p, u.total, null)
    };
  }
};

const funkwhale: SoftwareKind = {
  weight: 0.4,
  versions: [
    ['1.4.0', 3],
    ['1.3.4', 1],
    ['0.11', 0.2]
  ],
  size: { median: 8, sigma: 1.3, big: false },
  build(p) {
    // With instance__nodeinfo_stats_enabled off Funkwhale reports zeros (zeros, not empty).
    const statsOff = p.r() < 0.2;
    const total = statsOff ? 0 : p.usage.total;
    const doc = {
      version: '2.0',
      software: { name: 'funkwhale', version: p.version },
      protocols: ['activitypub'],
      services: services(),
      openRegistrations: p.openRegistrations,
      usage: { users: { total }, localPosts: 0, localComments: 0 },
      metadata: {
        shortDescription: 'Music for everyone',
        name: p.nodeName,
        library: {
          federationEnabled: true,
          federationNeedsApproval: true,
          tracks: { total: statsOff ? 0 : total * 300 }
        },
        usage: { listenings: { total: statsOff ? 0 : total * 90 } }
      }
    };
    return {
      discovery: { links: [link(p, '2.0', '/api/v1/instance/nodeinfo/2.0/')] },
      documents: [{ path: '/api/v1/instance/nodeinfo/2.0/', schema: '2.0', body: doc, conformant: !p.lying }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'json',
      expected: { ...expectedOf('funkwhale', p, total, null), ...(statsOff ? { fake: 'zero' as const } : {}) }
    };
  }
};

const hubzilla: SoftwareKind = {
  weight: 0.4,
  versions: [
    ['9.4', 2],
    ['8.8.6', 1],
    ['7.0.3', 0.5]
  ],
  size: { median: 5, sigma: 1.2, big: false },
  build(p) {
    const u = p.usage;
    // The NodeInfo addon is off by default: then 404 is normal (fedidb/issues#55).
    const addon = weighted(p.r, [
      ['off', 50],
      ['statistics', 35],
      ['buggy', 15]
    ] as const);
    const doc = {
      version: '2.0',
      software: { name: 'hubzilla', version: p.version },
      protocols: ['zot', 'activitypub'],
      services: services(),
      openRegistrations: p.openRegistrations,
      usage: { users: users(u), localPosts: u.localPosts, localComments: u.localComments },
      metadata: { nodeName: p.nodeName }
    };
    const off = addon === 'off';
    return {
      // Old statistics addon: `links` is an object (a 1.0 link) plus a sibling "0" holding the 2.0 link.
      discovery: off
        ? null
        : addon === 'buggy'
          ? { links: link(p, '1.0', '/nodeinfo/1.0'), 0: link(p, '2.0', '/nodeinfo/2.0') }
          : { links: [link(p, '2.0', '/nodeinfo/2.0')] },
      documents: off ? [] : [{ path: '/nodeinfo/2.0', schema: '2.0', body: doc, conformant: !p.lying }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'html',
      expected: off
        ? { software: null, version: null, usersTotal: null, activeMonth: null, outcome: 'http_error' }
        : expectedOf('hubzilla', p, u.total, u.activeMonth)
    };
  }
};

function relay(name: 'activity-relay' | 'aoderelay'): SoftwareKind['build'] {
  return (p) => {
    const one = { total: 1, activeMonth: 1, activeHalfyear: 1 };
    const activity = name === 'activity-relay';
    const doc = activity
      ? {
          version: '2.1',
          software: { name, version: p.version, repository: 'https://github.com/yukimochi/Activity-Relay' },
          protocols: ['activitypub'],
          services: services(),
          openRegistrations: true,
          usage: { users: one },
          metadata: {}
        }
      : {
          version: '2.0',
          software: { name, version: p.version },
          protocols: ['activitypub'],
          services: services(),
          openRegistrations: false,
          usage: { users: one, localPosts: 0, localComments: 0 },
          metadata: { peers: p.knownPeers().slice(0, 5), blocks: [] }
        };
    const path = activity ? '/nodeinfo/2.1' : '/nodeinfo/2.0.json';
    const schema = activity ? '2.1' : '2.0';
    return {
      discovery: { links: [link(p, schema, path)] },
      documents: [{ path, schema, body: doc, conformant: true }],
      peersApi: 'absent',
      domainBlocks: 'absent',
      robots: robotsFor('allow'),
      notFound: 'empty',
      expected: { software: name, version: p.version, usersTotal: 1, activeMonth: 1 }
    };
  };
}

export const SOFTWARE = {
  mastodon,
  misskey: {
    weight: 4,
    versions: [
      ['2025.4.1', 3],
      ['2024.11.0', 3],
      ['2023.12.2', 2],
      ['13.14.2', 1],
      ['12.119.2', 0.5]
    ],
    size: { median: 8, sigma: 2, big: true },
    build: misskeyFamily('misskey', { activeNull: true, homepage: 'https://github.com/misskey-dev/misskey' })
  },
  sharkey: {
    weight: 3.5,
    versions: [
      ['2024.11.2', 3],
      ['2025.2.3', 2],
      ['2024.9.4', 1]
    ],
    size: { median: 6, sigma: 1.8, big: false },
    build: misskeyFamily('sharkey', {
      activeNull: true,
      fakeInstanceApi: true,
      homepage: 'https://activitypub.software/TransFem-org/Sharkey'
    })
  },
  firefish: {
    weight: 1.2,
    versions: [
      ['20240504', 3],
      ['20240206', 1],
      ['1.0.5-rc', 1]
    ],
    size: { median: 6, sigma: 1.6, big: false },
    build: misskeyFamily('firefish', {
      activeNull: false,
      fakeInstanceApi: true,
      homepage: 'https://codeberg.org/firefish/firefish'
    })
  },
  catodon: {
    weight: 0.4,
    versions: [
      ['24.04-dev.2', 2],
      ['24.01-dev', 1]
    ],
    size: { median: 20, sigma: 1.5, big: false },
    build: misskeyFamily('catodon', { activeNull: false, homepage: 'https://codeberg.org/catodon/catodon' })
  },
  pleroma: {
    weight: 3.5,
    versions: [
      ['2.7.0', 3],
      ['2.6.3', 3],
      ['2.5.5', 1],
      ['2.5.51-9314-g9528fc46-shitposterclub', 0.3],
      ['2.2.50-724-gf917285b-develop+HyNET-prod', 0.3],
      ['2.4.5', 1]
    ],
    size: { median: 5, sigma: 1.7, big: false },
    build: pleromaFamily('pleroma')
  },
  akkoma: {
    weight: 2.5,
    versions: [
      ['3.13.2', 3],
      ['3.10.4', 2],
      ['3.0.0', 0.5]
    ],
    size: { median: 4, sigma: 1.5, big: false },
    build: pleromaFamily('akkoma')
  },
  gotosocial,
  lemmy,
  peertube,
  pixelfed,
  friendica,
  wordpress,
  bookwyrm,
  mobilizon,
  funkwhale,
  hubzilla,
  'activity-relay': {
    weight: 0.3,
    versions: [['2.0.5', 1]],
    size: { median: 1, sigma: 0, big: false },
    build: relay('activity-relay')
  },
  aoderelay: {
    weight: 0.2,
    versions: [['v0.1.0-master', 1]],
    size: { median: 1, sigma: 0, big: false },
    build: relay('aoderelay')
  }
} satisfies Record<string, SoftwareKind>;

export type SoftwareName = keyof typeof SOFTWARE;
export const SOFTWARE_NAMES = Object.keys(SOFTWARE) as SoftwareName[];
export const SOFTWARE_WEIGHTS = SOFTWARE_NAMES.map((n) => [n, SOFTWARE[n].weight] as const);

export function pickVersion(r: Rng, kind: SoftwareName): string {
  return weighted(r, SOFTWARE[kind].versions);
}

/** Site names: what nodeName/title say. */
export function nodeNameFor(r: Rng, domain: string): string {
  const first = domain.split('.')[0];
  return pick(r, [
    first,
    `${first[0]?.toUpperCase() ?? ''}${first.slice(1)}`,
    `${first} social`,
    `The ${first} commons`
  ]);
}
