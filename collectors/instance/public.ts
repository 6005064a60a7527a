import type { mastodon } from 'masto';
import { normalizeDomainList } from '../peers/domains.ts';
import { upsertDailyValues, utcDay, type DailyValue } from '../store/metrics.ts';
import {
  recordServerVersion,
  syncKnownPeers,
  syncPublicDomainBlocks,
  syncRules,
  upsertActivityWeeks,
  writeInstanceInfo
} from '../store/own-server.ts';
import { setSetting } from '../store/runs.ts';
import { httpFailure, type Answer } from './client.ts';
import {
  nodeinfoHref,
  parseActivity,
  parseInstance,
  parseNodeInfo,
  parsePublicDomainBlocks,
  parseRules,
  versionAtLeast
} from './parse.ts';
import type { Step, Collected } from './step.ts';

/** Public endpoints: what anyone may read about the server (sent with the token when there is one). */

const ok = (a: Answer, host: string): unknown => {
  if (a.status !== 200) throw httpFailure(a, host);
  return a.body;
};

type InstanceApi = mastodon.rest.v1.InstanceResource & { rules: { list(): Promise<unknown> } };

export const instanceInfo: Step = async ({ ctx, client, instance, shared }): Promise<Collected> => {
  const v2 = await client.masto('/api/v2/instance', 'prefer', (m) => m.v2.instance.fetch());
  // Mastodon before 4.0 has no v2: v1 carries everything then
  const v2Body = v2.status === 200 ? v2.body : v2.status === 404 ? null : ok(v2, client.host);
  const v1Body = ok(
    await client.masto('/api/v1/instance', 'prefer', (m) => m.v1.instance.fetch()),
    client.host
  );
  const facts = parseInstance(v2Body, v1Body);
  const at = ctx.now();
  const day = utcDay(at);
  await writeInstanceInfo(ctx.db, { instance, runId: ctx.runId, at, facts, rawV1: v1Body, rawV2: v2Body });
  if (facts.version)
    await recordServerVersion(ctx.db, {
      instance,
      runId: ctx.runId,
      at,
      version: facts.version,
      source: 'instance'
    });
  if (facts.domain) await setSetting(ctx.db, 'own_domain', facts.domain.toLowerCase());
  shared.version = facts.version;
  // instance_serializer.rb (4.4.0+) answers 0 for usage.users.active_month in limited federation mode:
  // that 0 is not a count, so MAU comes from NodeInfo's activeMonth (the same active_user_count(4)) then.
  const mauHidden = facts.limitedFederation === true && versionAtLeast(facts.version, '4.4');
  shared.limitedFederation = mauHidden;
  const values: DailyValue[] = (
    [
      ['user_count', facts.userCount],
      ['status_count', facts.statusCount],
      ['domain_count', facts.domainCount],
      ['active_month', mauHidden ? null : facts.activeMonth]
    ] as const
  )
    .filter(([, v]) => v !== null)
    .map(([metric, value]) => ({ instance, day, metric, value: value!, source: 'instance' }));
  await upsertDailyValues(ctx.db, values, at);
  return {
    items: values.length,
    summary: `${facts.title ?? instance} ${facts.version ?? ''}: ${facts.userCount ?? '?'} members, ${mauHidden ? 'monthly active hidden (limited federation mode; read from NodeInfo)' : `${facts.activeMonth ?? '?'} active this month`}`,
    limitedFederation: facts.limitedFederation === true
  };
};

export const nodeinfo: Step = async ({ ctx, client, instance, shared }) => {
  const disc = await client.get('/.well-known/nodeinfo', 'none');
  const href = nodeinfoHref(ok(disc, client.host));
  if (!href)
    throw httpFailure({ ...disc, status: 404, body: { error: 'no NodeInfo 2.x link' } }, client.host);
  // Only the path is followed: the document is read from the configured origin, whatever host the link names
  const target = new URL(href, client.origin);
  const doc = parseNodeInfo(ok(await client.get(target.pathname + target.search, 'none'), client.host));
  const at = ctx.now();
  const day = utcDay(at);
  const values: DailyValue[] = (
    [
      ['users_total', doc.usersTotal],
      ['active_halfyear', doc.activeHalfyear],
      ['local_posts', doc.localPosts],
      // MAU when the instance API hides it (limited federation mode, see instanceInfo); source says so
      ['active_month', shared.limitedFederation ? doc.activeMonth : null]
    ] as const
  )
    .filter(([, v]) => v !== null)
    .map(([metric, value]) => ({ instance, day, metric, value: value!, source: 'nodeinfo' }));
  await upsertDailyValues(ctx.db, values, at);
  if (doc.software === 'mastodon' && doc.version)
    await recordServerVersion(ctx.db, {
      instance,
      runId: ctx.runId,
      at,
      version: doc.version,
      source: 'nodeinfo'
    });
  return {
    items: values.length,
    summary: `${doc.software ?? '?'} ${doc.version ?? ''}, ${doc.usersTotal ?? '?'} users`
  };
};

export const activity: Step = async ({ ctx, client, instance }) => {
  const a = await client.masto('/api/v1/instance/activity', 'prefer', (m) => m.v1.instance.activity.list());
  const weeks = parseActivity(ok(a, client.host));
  await upsertActivityWeeks(ctx.db, instance, weeks, ctx.now());
  return { items: weeks.length, summary: `${weeks.length} weeks` };
};

export const rules: Step = async ({ ctx, client, instance }) => {
  const a = await client.masto('/api/v1/instance/rules', 'prefer', (m) =>
    (m.v1.instance as InstanceApi).rules.list()
  );
  const list = parseRules(ok(a, client.host));
  await syncRules(ctx.db, instance, list, ctx.now());
  return { items: list.length, summary: `${list.length} rules` };
};

export const peers: Step = async ({ ctx, client, instance }) => {
  ctx.progress.status('instance: fetching the peers list…');
  const a = await client.masto('/api/v1/instance/peers', 'prefer', (m) => m.v1.instance.peers.list());
  const body = ok(a, client.host);
  const { domains, rejected, duplicates } = normalizeDomainList(Array.isArray(body) ? body : []);
  const at = ctx.now();
  const { added, left } = await syncKnownPeers(ctx.db, domains, at);
  await upsertDailyValues(
    ctx.db,
    [{ instance, day: utcDay(at), metric: 'peers_count', value: domains.length, source: 'peers' }],
    at
  );
  const junk =
    rejected + duplicates ? `, ${rejected} invalid and ${duplicates} duplicate entries dropped` : '';
  return {
    items: domains.length,
    summary: `${domains.length} peers (${added} new, ${left} left the list${junk})`
  };
};

/**
 * The domain blocks as the server publishes them. Asked anonymously first: what an anonymous visitor gets is
 * what the public transparency report may show (Mastodon's `show_domain_blocks`: `all` answers 200, `users`
 * and `disabled` answer 404 without sign-in, limited federation mode 401; `comment` is only filled when
 * `show_domain_blocks_rationale` is `all`). Recorded in the settings `public_domain_blocks` (all / users /
 * none) and `public_domain_blocks_rationale` (all / none). The list members see is stored as before.
 */
export const publicDomainBlocks: Step = async ({ ctx, client, instance }) => {
  const path = '/api/v1/instance/domain_blocks';
  const fetchList = (auth: 'none' | 'prefer') =>
    client.masto(path, auth, (m) => m.v1.instance.domainBlocks.fetch());
  const hidden = (a: Answer) => a.status === 404 || a.status === 401;
  const anon = await fetchList('none');
  if (anon.status !== 200 && !hidden(anon)) throw httpFailure(anon, client.host);
  let shown: 'all' | 'users' | 'none' = anon.status === 200 ? 'all' : 'none';
  const anonBlocks = anon.status === 200 ? parsePublicDomainBlocks(anon.body) : null;
  // Mastodon 4.0–4.2 send `comment: null` when the rationale is not public, later versions leave it out.
  const reasons = anonBlocks?.some((b) => b.comment !== null) ? 'all' : 'none';
  let blocks = anonBlocks;
  let last = anon;
  if (client.hasToken && (shown !== 'all' || reasons !== 'all')) {
    const member = await fetchList('prefer');
    last = member;
    if (member.status === 200) {
      blocks = parsePublicDomainBlocks(member.body);
      if (shown === 'none') shown = 'users';
    } else if (!hidden(member)) throw httpFailure(member, client.host);
  }
  await setSetting(ctx.db, 'public_domain_blocks', shown);
  // An empty public list says nothing about comments: keep what was seen before.
  if (anonBlocks === null || anonBlocks.length > 0 || shown !== 'all')
    await setSetting(ctx.db, 'public_domain_blocks_rationale', shown === 'all' ? reasons : 'none');
  // Not published to anyone this collector can be: the run records it as skipped (explain.ts).
  if (blocks === null) throw httpFailure(last, client.host);
  await syncPublicDomainBlocks(ctx.db, instance, blocks, ctx.now());
  const who = shown === 'all' ? 'to everyone' : 'to signed-in members only';
  return {
    items: blocks.length,
    summary: `${blocks.length} published domain blocks (shown ${who}, reasons ${reasons === 'all' && shown === 'all' ? 'public' : 'not public'})`
  };
};
