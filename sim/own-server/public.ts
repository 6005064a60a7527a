/** The public API: instance info (v1, v2), weekly activity, peers, public domain blocks, rules, NodeInfo. */
import { DAY, dayOf } from './dates.ts';
import { head, send, signedIn, type Ctx } from './context.ts';
import { localAccount, obfuscated, ruleEntity } from './entities.ts';
import { sha256 } from './federation.ts';
import { localStatusesAt, seen, uniqueLogins, userCount } from './history.ts';
import { rulesAt } from './moderation.ts';
import { atLeast } from './versions.ts';
import { activeBlocks, onDay } from './world.ts';

const MIME = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/heic',
  'image/heif',
  'image/webp',
  'image/avif',
  'video/webm',
  'video/mp4',
  'video/quicktime',
  'video/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wave',
  'audio/vnd.wave',
  'audio/ogg',
  'audio/vorbis',
  'audio/mpeg',
  'audio/mp3',
  'audio/webm',
  'audio/flac',
  'audio/aac',
  'audio/m4a',
  'audio/x-m4a',
  'audio/mp4',
  'audio/3gpp',
  'video/x-ms-asf'
];

const DESCRIPTION = 'A social media server owned and run by its members, as a co-operative.';

const statuses = { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 };
const polls = { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 };

/**
 * InstancePresenter#active_user_count(weeks): ActivityTracker#sum(weeks.weeks.ago) merges the daily HyperLogLog
 * keys of the dates [today − days, today) — the range excludes its end, so today's sign-ins are not in it yet.
 */
export function activeWithin(c: Ctx, days: number): number {
  const today = dayOf(c.v.now);
  return uniqueLogins(c.w.h, today - days, today, c.v.now);
}

/** Blocked domains (any severity, `noop` included) as of now. */
const blockedDomains = (c: Ctx) => new Set(activeBlocks(c.w, c.v.now).map((b) => b.block.domain));

function domainCount(c: Ctx): number {
  // Instance.count: every domain seen, blocked ones included, so it never matches the peers list.
  const entries = new Set(c.w.catalog.peersListEntries());
  for (const d of blockedDomains(c)) entries.add(d);
  return entries.size;
}

const owner = (c: Ctx) => localAccount(c.v, c.w.h.members[0]);

export function instanceV1(c: Ctx): void {
  const { v, s } = c;
  send(c, 200, {
    uri: v.domain,
    title: s.title,
    short_description: DESCRIPTION,
    description: '',
    email: `admins@${v.domain}`,
    version: v.version,
    urls: { streaming_api: `wss://${v.domain}` },
    stats: {
      user_count: userCount(c.w.h, v.now),
      status_count: localStatusesAt(c.w.h, v.now),
      domain_count: domainCount(c)
    },
    thumbnail: `https://${v.domain}/system/site_uploads/files/000/000/001/original/thumbnail.png`,
    languages: ['en'],
    registrations: s.registrationsOpen,
    approval_required: s.approvalRequired,
    invites_enabled: true,
    configuration: {
      ...(atLeast(v.version, '4.0') ? { accounts: { max_featured_tags: 10 } } : {}),
      statuses,
      media_attachments: {
        supported_mime_types: MIME,
        image_size_limit: 16777216,
        image_matrix_limit: 33177600,
        video_size_limit: 103809024,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8294400
      },
      polls
    },
    contact_account: owner(c),
    rules: rulesAt(v.now).map((r) => ruleEntity(v, r))
  });
}

export function instanceV2(c: Ctx): void {
  const { v, s } = c;
  if (!atLeast(v.version, '4.0')) return send(c, 404, { error: 'Record not found' });
  const at = (min: string) => atLeast(v.version, min);
  const asset = (n: number) => ({
    src: `https://${v.domain}/packs/media/icons/android-chrome-${n}x${n}.png`,
    size: `${n}x${n}`
  });
  const thumb = `https://${v.domain}/system/site_uploads/files/000/000/001`;
  send(c, 200, {
    domain: v.domain,
    title: s.title,
    version: v.version,
    source_url: 'https://github.com/mastodon/mastodon',
    description: DESCRIPTION,
    // instance_serializer.rb (4.4.0+): limited federation mode reports 0 here; NodeInfo keeps the real count.
    usage: { users: { active_month: s.limitedFederation && at('4.4') ? 0 : activeWithin(c, 28) } },
    thumbnail: {
      url: `${thumb}/@1x/thumbnail.png`,
      ...(at('4.5') ? { description: 'Members of the co-op around a table' } : {}),
      blurhash: 'UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$',
      versions: { '@1x': `${thumb}/@1x/thumbnail.png`, '@2x': `${thumb}/@2x/thumbnail.png` }
    },
    ...(at('4.3') ? { icon: [36, 48, 72, 96, 144, 192, 256, 384, 512].map(asset) } : {}),
    languages: ['en'],
    configuration: {
      urls: {
        streaming: `wss://${v.domain}`,
        ...(at('4.1') ? { status: `https://status.${v.domain}` } : {}),
        ...(at('4.4')
          ? {
              about: `https://${v.domain}/about`,
              privacy_policy: `https://${v.domain}/privacy-policy`,
              terms_of_service: null
            }
          : {})
      },
      ...(at('4.3')
        ? {
            vapid: {
              public_key:
                'BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M='
            }
          }
        : {}),
      accounts: { max_featured_tags: 10, ...(at('4.3') ? { max_pinned_statuses: 5 } : {}) },
      statuses,
      media_attachments: {
        description_limit: 1500,
        image_matrix_limit: 33177600,
        image_size_limit: 16777216,
        supported_mime_types: MIME,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8294400,
        video_size_limit: 103809024
      },
      polls,
      translation: { enabled: true },
      ...(at('4.4') ? { limited_federation: s.limitedFederation } : {}),
      ...(at('4.5')
        ? {
            timelines_access: {
              live_feeds: { local: 'public', remote: 'authenticated' },
              hashtag_feeds: { local: 'public', remote: 'authenticated' },
              trending_link_feeds: { local: 'public', remote: 'public' }
            }
          }
        : {})
    },
    registrations: {
      enabled: s.registrationsOpen,
      approval_required: s.approvalRequired,
      ...(at('4.4') ? { reason_required: false } : {}),
      message: null,
      ...(at('4.4') ? { min_age: 16 } : {}),
      ...(at('4.2') ? { url: null } : {})
    },
    ...(at('4.3') ? { api_versions: { mastodon: at('4.5') ? 7 : at('4.4') ? 6 : 2 } } : {}),
    contact: { email: `admins@${v.domain}`, account: owner(c) },
    rules: rulesAt(v.now).map((r) => ruleEntity(v, r))
  });
}

/** Peers and activity: hidden by the admin (404), or behind sign-in in limited federation mode. */
function gated(c: Ctx, enabled: boolean): boolean {
  if (c.s.limitedFederation && !signedIn(c)) {
    send(c, 401, { error: 'This method requires an authenticated user' });
    return false;
  }
  if (!enabled || c.s.limitedFederation) {
    send(c, 404, { error: 'Record not found' });
    return false;
  }
  return true;
}

export function activity(c: Ctx): void {
  if (!gated(c, c.s.activityApi)) return;
  const { h } = c.w;
  const now = c.v.now;
  // Rolling weeks anchored at the request time: row 0 starts now, so only today has happened yet. Each row
  // sums ActivityTracker#sum(start, start + 6.days), whose date range excludes its end: 6 days, so the 7th
  // day of every week is in no row (activity_controller.rb + activity_tracker.rb; the same in every version read).
  const rows = Array.from({ length: 12 }, (_, i) => {
    const startMs = now - i * 7 * DAY;
    const first = dayOf(startMs);
    let statuses = 0;
    let registrations = 0;
    for (let d = first; d < first + 6; d++) {
      statuses += seen(h.statuses, d, now);
      registrations += onDay(c.w.signupTimes, d, now);
    }
    return {
      week: String(Math.floor(startMs / 1000)),
      statuses: String(statuses),
      logins: String(uniqueLogins(h, first, first + 6, now)),
      registrations: String(registrations)
    };
  });
  send(c, 200, rows);
}

export function peers(c: Ctx): void {
  if (!gated(c, c.s.peersApi)) return;
  // Instance.searchable: every known domain minus any domain block, `noop` included.
  const blocked = blockedDomains(c);
  send(
    c,
    200,
    c.w.catalog.peersListEntries().filter((d) => !blocked.has(d))
  );
}

export function rules(c: Ctx): void {
  if (c.s.limitedFederation && !signedIn(c))
    return send(c, 401, { error: 'This method requires an authenticated user' });
  send(
    c,
    200,
    rulesAt(c.v.now).map((r) => ruleEntity(c.v, r))
  );
}

const SEVERITY_ORDER = { noop: 0, silence: 1, suspend: 2 };

export function domainBlocks(c: Ctx): void {
  const { s } = c;
  if (!atLeast(c.v.version, '4.0')) return send(c, 404, { error: 'Record not found' });
  if (s.limitedFederation && !signedIn(c))
    return send(c, 401, { error: 'This method requires an authenticated user' });
  if (s.domainBlocksVisibility === 'users' && (c.viewer === 'revoked' || c.viewer === 'unknown')) {
    return send(c, 401, { error: 'The access token is invalid' });
  }
  const visible = s.domainBlocksVisibility === 'all' || (s.domainBlocksVisibility === 'users' && signedIn(c));
  if (!visible) return head(c, 404);
  const withComment =
    s.domainBlocksRationale === 'all' || (s.domainBlocksRationale === 'users' && signedIn(c));
  const list = activeBlocks(c.w, c.v.now)
    .filter((b) => b.state.severity !== 'noop')
    .sort(
      (a, b) =>
        SEVERITY_ORDER[a.state.severity] - SEVERITY_ORDER[b.state.severity] ||
        a.block.domain.localeCompare(b.block.domain)
    )
    .map(({ block, state }) => ({
      domain: state.obfuscate ? obfuscated(block.domain) : block.domain,
      digest: sha256(block.domain),
      severity: state.severity,
      ...(withComment ? { comment: state.publicComment } : {})
    }));
  send(c, 200, list, { 'cache-control': 'public, max-age=180' });
}

export function nodeinfoDiscovery(c: Ctx): void {
  send(c, 200, {
    links: [
      { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `https://${c.v.domain}/nodeinfo/2.0` }
    ]
  });
}

export function nodeinfo(c: Ctx): void {
  const { v } = c;
  const modern = atLeast(v.version, '4.0');
  send(c, 200, {
    version: '2.0',
    software: { name: 'mastodon', version: v.version },
    protocols: ['activitypub'],
    // 3.x sent neither `services` nor `metadata`; `metadata` carries the site name from 4.3.
    ...(modern ? { services: { outbound: [], inbound: [] } } : {}),
    usage: {
      users: {
        total: userCount(c.w.h, v.now),
        activeMonth: activeWithin(c, 28),
        activeHalfyear: activeWithin(c, 168)
      },
      localPosts: localStatusesAt(c.w.h, v.now)
    },
    openRegistrations: c.s.registrationsOpen,
    ...(modern
      ? { metadata: atLeast(v.version, '4.3') ? { nodeName: c.s.title, nodeDescription: DESCRIPTION } : {} }
      : {})
  });
}
