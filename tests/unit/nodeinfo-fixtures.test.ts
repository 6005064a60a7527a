import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseNodeinfoLink, parseNodeinfo } from '../../collectors/peers/nodeinfo.ts';
import { ROOT } from '../helpers/index.ts';

const FIXTURES = path.resolve(ROOT, 'tests', 'fixtures');
const NI = path.join(FIXTURES, 'nodeinfo');

interface Expect {
  software: string;
  version: string;
  total: number | null;
  month: number | null;
  halfyear?: number | null;
  posts?: number | null;
  open?: boolean | null;
  suspect?: boolean;
}

/** What each real document must parse to (read off the documents by hand; see SOURCES.md). */
const DOCS: Record<string, Expect> = {
  'activity-relay_2.0.5.nodeinfo-2.1.json': { software: 'activity-relay', version: '2.0.5', total: 1, month: 1, posts: null, open: true },
  'akkoma_3.0.0_soc.hyena.network.nodeinfo-2.0.json': { software: 'akkoma', version: '3.0.0', total: 1, month: null, posts: 7, open: false },
  'aoderelay_relay.asonix.dog.nodeinfo-2.0.json': { software: 'aoderelay', version: 'v0.1.0-master', total: 1, month: 1, posts: 0, open: false },
  'catodon_24.04-dev.2.nodeinfo-2.1.json': { software: 'catodon', version: '24.04-dev.2', total: 294, month: 139, halfyear: 292, posts: 22616, open: true },
  'corgidon_3.1.3_banana.dog.nodeinfo-2.1.json': { software: 'corgidon', version: '3.1.3+corgi', total: 203, month: 115, halfyear: 224, posts: 28856, open: true, suspect: true },
  'diaspora_0.7.4_nodeinfo-1.0.json': { software: 'diaspora', version: '0.7.4.0-pd0313756', total: 348, month: 62, halfyear: 123, posts: 8522, open: true },
  'diaspora_0.7.4_nodeinfo-2.0.json': { software: 'diaspora', version: '0.7.4.0-pd0313756', total: 348, month: 62, posts: 8522, open: true },
  'firefish_20240504.nodeinfo-2.1.json': { software: 'firefish', version: '20240504', total: 9, month: 7, halfyear: 7, posts: 23857, open: false },
  'lemmy_0.18.5.nodeinfo-2.0.json': { software: 'lemmy', version: '0.18.5', total: 149738, month: 10536, halfyear: 26917, posts: 234483, open: true },
  'mastodon_3.1.3_asonix.dog.nodeinfo-2.0.json': { software: 'mastodon', version: '3.1.3-asonix-changes', total: 19, month: 5, posts: 43036, open: false },
  'mastodon_4.0.0rc2_masto.asonix.dog.nodeinfo-2.0.json': { software: 'mastodon', version: '4.0.0rc2-asonix-changes', total: 7, month: 4, posts: 12359, open: false },
  'mastodon_4.1.5-nightly_mastodon.social.nodeinfo-2.0.json': { software: 'mastodon', version: '4.1.5+nightly-2023-07-28', total: 1479509, month: 470481, halfyear: 776979, posts: 62251340, open: true },
  'mastodon_4.3.0-nightly_mastodon.social.nodeinfo-2.0.json': { software: 'mastodon', version: '4.3.0-nightly.2024-04-30', total: 1935016, month: 238223, posts: 90175135, open: true },
  'mastodon_4.5.0-nightly_mastodon.social.nodeinfo-2.0.json': { software: 'mastodon', version: '4.5.0-nightly.2025-07-11', total: 2805128, month: 278110, posts: 138439181, open: true },
  'meisskey_10.102.699-m544.nodeinfo-2.1.json': { software: 'meisskey', version: '10.102.699-m544', total: 1123, month: 89, posts: 268739, open: true },
  'peertube_5.0.0_nodeName-Blender-Video.nodeinfo-2.0.json': { software: 'peertube', version: '5.0.0', total: 5, month: 0, halfyear: 2, posts: 1018, open: false },
  'pixelfed_0.12.0_large-instance.nodeinfo-2.0.json': { software: 'pixelfed', version: '0.12.0', total: 112832, month: 8921, halfyear: 24366, posts: 24059868, open: true },
  'pleroma_2.2.50_soc.hyena.network.nodeinfo-2.0.json': { software: 'pleroma', version: '2.2.50-724-gf917285b-develop+HyNET-prod', total: 19, month: null, posts: 3444, open: true },
  'pleroma_2.5.51_shitposter.club.nodeinfo-2.0.json': { software: 'pleroma', version: '2.5.51-9314-g9528fc46-shitposterclub', total: 3382, month: 326, posts: 2556018, open: false },
  'pleroma_invalid_localPosts_object.nodeinfo-2.1.json': { software: 'pleroma', version: '0.7.4.0-pd0313756', total: 348, month: null, posts: 3, open: true },
  'from_issues/funkwhale_0.11_node1.funkwhale.test.nodeinfo-2.0.json': { software: 'funkwhale', version: '0.11', total: 6, month: null, posts: 0, open: true },
  'from_issues/gotosocial_0.19.1_icecubes_fixture.nodeinfo-2.0.json': { software: 'gotosocial', version: '0.19.1+git-6574dc8', total: 5, month: null, posts: 5894, open: false },
  'from_issues/gotosocial_0.6.0_gts.superseriousbusiness.org.nodeinfo-2.0.json': { software: 'gotosocial', version: '0.6.0 git-f9e5ec9', total: null, month: null, posts: null, open: false },
  'from_issues/mastodon_4.0.2_activeMonth_gt_total.nodeinfo-2.0.json': { software: 'mastodon', version: '4.0.2', total: 20, month: 21, posts: 415, open: true, suspect: true },
  'x-nodeinfo2/nodeinfo2_1.0_example.json': { software: 'example', version: '0.5.0', total: 123, month: 23, halfyear: 42, posts: 500, open: true }
}; // prettier-ignore

/** Discovery documents: the link a crawler must choose. */
const DISCOVERY: Record<string, { version: string; href: string } | null> = {
  'buggy_links_object_only.json': { version: '1.0', href: 'https://example.com/nodeinfo/1.0' },
  'hubzilla_buggy_links_object_plus_0.json': { version: '2.0', href: 'https://example.com/nodeinfo/2.0' },
  'wellknown_aoderelay_relay.asonix.dog.json': { version: '2.0', href: 'https://relay.asonix.dog/nodeinfo/2.0.json' },
  'wellknown_banana.dog.json': { version: '2.1', href: 'https://banana.dog/nodeinfo/2.1' },
  'wellknown_funkwhale_0.11_node1.funkwhale.test.json': { version: '2.0', href: 'https://node1.funkwhale.test/api/v1/instance/nodeinfo/2.0/' },
  'wellknown_gotosocial_gts.superseriousbusiness.org.json': { version: '2.1', href: 'https://gts.superseriousbusiness.org/nodeinfo/2.1' },
  'wellknown_mastodon_3.1.3_asonix.dog.json': { version: '2.0', href: 'https://asonix.dog/nodeinfo/2.0' },
  'wellknown_pleroma_soc.hyena.network.json': { version: '2.1', href: 'https://soc.hyena.network/nodeinfo/2.1.json' }
}; // prettier-ignore

const read = (file: string): unknown => JSON.parse(readFileSync(path.join(NI, file), 'utf8'));

describe('every real NodeInfo document parses to the right software, version and counts', () => {
  const manifest = JSON.parse(readFileSync(path.join(NI, '_manifest.json'), 'utf8')) as { file: string }[];
  const listed = manifest
    .map((m) => m.file.replace(/^nodeinfo\//, ''))
    .filter((f) => !f.startsWith('wellknown/') && existsSync(path.join(NI, f)));
  const fromIssues = readdirSync(path.join(NI, 'from_issues')).map((f) => `from_issues/${f}`);
  const files = [...new Set([...listed, ...fromIssues])];

  it('has an expectation for every document in the manifest and from_issues/', () => {
    expect(files.filter((f) => !(f in DOCS))).toEqual([]);
  });

  for (const file of files) {
    it(file, () => {
      const e = DOCS[file];
      const r = parseNodeinfo(read(file));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.software).toBe(e.software);
      expect(r.value.softwareVersion).toBe(e.version);
      expect(r.value.usersTotal).toBe(e.total);
      expect(r.value.usersActiveMonth).toBe(e.month);
      if (e.halfyear !== undefined) expect(r.value.usersActiveHalfyear).toBe(e.halfyear);
      if (e.posts !== undefined) expect(r.value.localPosts).toBe(e.posts);
      if (e.open !== undefined) expect(r.value.openRegistrations).toBe(e.open);
      expect(r.value.suspectReasons.length > 0).toBe(e.suspect ?? false);
    });
  }
});

describe('every real discovery document yields the right link', () => {
  for (const [file, want] of Object.entries(DISCOVERY)) {
    it(file, () => {
      const got = chooseNodeinfoLink(
        read(`wellknown/${file}`),
        new URL('https://peer.example/.well-known/nodeinfo')
      );
      expect(got && { version: got.version, href: got.href.href }).toEqual(want);
    });
  }
});
