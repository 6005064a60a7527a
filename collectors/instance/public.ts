import type { mastodon } from 'masto';
import { normalizeDomainList } from '../peers/domains.ts';
import { upsertDailyValues, utcDay, type DailyValue } from '../store/metrics.ts';
import {
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
  parseRules
} from './parse.ts';
import type { Step, Collected } from './step.ts';

/** Public endpoints: what anyone may read about the server (sent with the token when there is one). */

const ok = (a: Answer, host: string): unknown => {
  if (a.status !== 200) throw httpFailure(a, host);
  return a.body;
};

type InstanceApi = mastodon.rest.v1.InstanceResource & { rules: { list(): Promise<unknown> } };

export const instanceInfo: Step = async ({ ctx, client, instance }): Promise<Collected> => {
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
  if (facts.domain) await setSetting(ctx.db, 'own_domain', facts.domain.toLowerCase());
  const values: DailyValue[] = (
    [
      ['user_count', facts.userCount],
      ['status_count', facts.statusCount],
      ['domain_count', facts.domainCount],
      ['active_month', facts.activeMonth]
    ] as const
  )
    .filter(([, v]) => v !== null)
    .map(([metric, value]) => ({ instance, day, metric, value: value!, source: 'instance' }));
  await upsertDailyValues(ctx.db, values, at);
  return {
    items: values.length,
    summary: `${facts.title ?? instance} ${facts.version ?? ''}: ${facts.userCount ?? '?'} members, ${facts.activeMonth ?? '?'} active this month`,
    limitedFederation: facts.limitedFederation === true
  };
};

export const nodeinfo: Step = async ({ ctx, client, instance }) => {
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
      ['local_posts', doc.localPosts]
    ] as const
  )
    .filter(([, v]) => v !== null)
    .map(([metric, value]) => ({ instance, day, metric, value: value!, source: 'nodeinfo' }));
  await upsertDailyValues(ctx.db, values, at);
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

export const publicDomainBlocks: Step = async ({ ctx, client, instance }) => {
  const a = await client.masto('/api/v1/instance/domain_blocks', 'prefer', (m) =>
    m.v1.instance.domainBlocks.fetch()
  );
  const blocks = parsePublicDomainBlocks(ok(a, client.host));
  await syncPublicDomainBlocks(ctx.db, instance, blocks, ctx.now());
  return { items: blocks.length, summary: `${blocks.length} published domain blocks` };
};
