import { normalizeDomain } from '../peers/domains.ts';
import { lastStoredDay, upsertDailyValues, utcDay, type DailyValue } from '../store/metrics.ts';
import {
  getSetting,
  replaceDimensionDay,
  upsertPeerMeasures,
  type PeerMeasureValue
} from '../store/own-server.ts';
import { setSetting } from '../store/runs.ts';
import { httpFailure } from './client.ts';
import { addDays, daysBetween, parseDimensions, parseMeasures, type Measure } from './parse.ts';
import { topPeersSetting, type Step, type StepInput } from './step.ts';

/** Admin measures (daily numbers), dimensions (breakdowns) and per-peer measures. */

export const MEASURES = ['new_users', 'active_users', 'interactions', 'opened_reports', 'resolved_reports'];
/** Backed by Redis keys that expire after ~6 months: an old 0 means "forgotten", not "none". */
const EXPIRING = new Set(['active_users', 'interactions']);
export const EXPIRY_DAYS = 170;
/** Mastodon revises recent days (today is partial; caches last 5 min): re-read this many each run. */
export const TRAILING_DAYS = 30;
const CHUNK_DAYS = 365;
/** Nothing Mastodon-shaped is older than this; probing stops here. */
export const EARLIEST_DAY = '2016-01-01';
const PEER_MEASURES = [
  'instance_follows',
  'instance_followers',
  'instance_accounts',
  'instance_statuses',
  'instance_reports',
  'instance_media_attachments'
];

const backfilledKey = (instance: string) => `instance.measures_backfilled:${instance}`;
export const startedKey = (instance: string) => `instance.started:${instance}`;

/** Date ranges, newest first, covering [from, to] in chunks of `size` days. */
export function chunks(from: string, to: string, size = CHUNK_DAYS): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (let end = to; daysBetween(from, end) >= 0; end = addDays(end, -size)) {
    const start = addDays(end, -(size - 1));
    out.push({ from: daysBetween(from, start) >= 0 ? start : from, to: end });
  }
  return out;
}

/** base_measure.rb answers up to two years per request; longer ranges are refused. */
export const HISTORY_CHUNK_DAYS = 730;
/** SQL-backed measures: they keep every day for good (the Redis ones forget after ~6 months). */
const HISTORY_KEYS = ['new_users', 'opened_reports'];

/**
 * Where the server's history starts: the month of the first sign-up or report, found by walking back from
 * today in two-year chunks until a chunk holds nothing (or EARLIEST_DAY). The retention cohorts cannot tell
 * any more: since 4.4.21, 4.5.14 and 4.6.4 app/lib/admin/metrics/retention.rb answers only the last 12 months.
 */
export async function findHistoryStart(
  ctx: StepInput['ctx'],
  client: StepInput['client'],
  today: string
): Promise<string | null> {
  let first: string | null = null;
  for (const range of chunks(EARLIEST_DAY, today, HISTORY_CHUNK_DAYS)) {
    if (ctx.signal.aborted) break;
    ctx.progress.status(`instance: looking for the start of history, ${range.from} … ${range.to}`);
    const a = await client.masto('/api/v1/admin/measures', 'required', (m) =>
      m.v1.admin.measures.create({ keys: HISTORY_KEYS, startAt: range.from, endAt: range.to } as never)
    );
    if (a.status !== 200) throw httpFailure(a, client.host);
    const days = parseMeasures(a.body)
      .filter((m) => HISTORY_KEYS.includes(m.key))
      .flatMap((m) => m.days.filter((d) => d.value > 0 && d.day >= range.from && d.day <= range.to))
      .map((d) => d.day)
      .sort();
    if (days.length === 0) break;
    first = days[0];
  }
  // As a month, like the sign-up cohorts that earlier builds took it from (and stored)
  return first && `${first.slice(0, 7)}-01`;
}

/**
 * Daily values to store from one answer: only days inside [from, to], and never a 0 for an expiring measure
 * older than the expiry horizon (that 0 is Mastodon having forgotten; a stored value must survive it).
 */
export function measureValues(
  measures: Measure[],
  range: { from: string; to: string },
  today: string,
  instance: string
): DailyValue[] {
  const horizon = addDays(today, -EXPIRY_DAYS);
  return measures
    .filter((m) => MEASURES.includes(m.key))
    .flatMap((m) =>
      m.days
        .filter((d) => d.day >= range.from && d.day <= range.to && d.day <= today)
        .filter((d) => !(EXPIRING.has(m.key) && d.value === 0 && d.day < horizon))
        .map((d) => ({ instance, day: d.day, metric: m.key, value: d.value, source: 'admin.measures' }))
    );
}

const isEmpty = (measures: Measure[]) =>
  measures.every((m) => (m.total ?? 0) === 0 && m.days.every((d) => d.value === 0));

export const measures: Step = async ({ ctx, client, instance, shared }) => {
  const today = utcDay(ctx.now());
  // History found to start earlier than the backfill went (retention.ts): backfill again from there
  const backfilled = shared.historyMoved ? null : await getSetting(ctx.db, backfilledKey(instance));
  const start = shared.serverStart ?? (await getSetting(ctx.db, startedKey(instance)));
  // First run: back to the server's first sign-up (or, not knowing it, year by year until a year is empty).
  // Later runs: the last TRAILING_DAYS, or back to the last day stored when collection stopped for longer
  // (an outage): SQL measures are kept for good, and Redis days past the expiry are dropped by measureValues.
  const last = backfilled ? await lastStoredDay(ctx.db, instance, MEASURES) : null;
  const trailing = addDays(today, -TRAILING_DAYS);
  const from = backfilled ? (last && last < trailing ? last : trailing) : (start ?? EARLIEST_DAY);
  const probing = !backfilled && !start;
  let stored = 0;
  let requests = 0;
  for (const range of chunks(from, today)) {
    if (ctx.signal.aborted) break;
    ctx.progress.status(`instance: admin measures ${range.from} … ${range.to} (${stored} values so far)`);
    // active_users and interactions leave out the end day: ask for one more and drop it
    const a = await client.masto('/api/v1/admin/measures', 'required', (m) =>
      m.v1.admin.measures.create({
        keys: MEASURES,
        startAt: range.from,
        endAt: addDays(range.to, 1)
      } as never)
    );
    requests++;
    if (a.status !== 200) throw httpFailure(a, client.host);
    const parsed = parseMeasures(a.body);
    if (probing && isEmpty(parsed) && range.to !== today) break;
    const values = measureValues(parsed, range, today, instance);
    await upsertDailyValues(ctx.db, values, ctx.now());
    stored += values.length;
  }
  if (ctx.signal.aborted)
    return { items: stored, summary: `${stored} daily values (stopped early)`, status: 'partial' };
  if (!backfilled) await setSetting(ctx.db, backfilledKey(instance), today);
  return {
    items: stored,
    summary: `${stored} daily values ${backfilled && from === trailing ? `(last ${TRAILING_DAYS} days)` : `(backfilled from ${from})`} in ${requests} requests`
  };
};

const DIMENSIONS = ['languages', 'sources', 'servers', 'space_usage', 'software_versions'];
// space_usage (app/lib/admin/metrics/dimension/space_usage_dimension.rb): `search` since 4.3.0, present only
// when Elasticsearch/OpenSearch is enabled and answers; every value is in bytes (`unit: "bytes"`).
export const STORAGE: Record<string, string> = {
  postgresql: 'storage_postgresql_bytes',
  redis: 'storage_redis_bytes',
  media: 'storage_media_bytes',
  search: 'storage_search_bytes'
};

export const dimensions: Step = async ({ ctx, client, instance, shared }) => {
  const at = ctx.now();
  const today = utcDay(at);
  const limit = Math.max(20, topPeersSetting());
  const a = await client.masto('/api/v1/admin/dimensions', 'required', (m) =>
    m.v1.admin.dimensions.create({
      keys: DIMENSIONS,
      startAt: addDays(today, -29),
      endAt: today,
      limit
    } as never)
  );
  if (a.status !== 200) throw httpFailure(a, client.host);
  // Mastodon answers only the keys asked for; anything else is not ours to store
  const dims = new Map([...parseDimensions(a.body)].filter(([k]) => DIMENSIONS.includes(k)));
  const items = await replaceDimensionDay(ctx.db, instance, today, dims, at);
  const storage: DailyValue[] = (dims.get('space_usage') ?? []).flatMap((i) =>
    // A value in another unit would be stored as bytes: Mastodon sends "bytes", a fork could differ.
    STORAGE[i.key] && i.value !== null && (i.unit === null || i.unit === 'bytes')
      ? [{ instance, day: today, metric: STORAGE[i.key], value: i.value, source: 'admin.dimensions' }]
      : []
  );
  await upsertDailyValues(ctx.db, storage, at);
  // The peers we exchange the most posts with are the ones worth per-peer numbers. servers_dimension.rb
  // names our own statuses by the local domain: that row is us, not a peer.
  const own = new Set([instance.toLowerCase(), (await getSetting(ctx.db, 'own_domain')) ?? '']);
  shared.topServers = (dims.get('servers') ?? [])
    .filter((s) => (s.value ?? 0) > 0)
    .map((s) => normalizeDomain(s.key))
    .flatMap((v) => (v.ok && !own.has(v.domain) ? [v.domain] : []));
  const version = dims.get('software_versions')?.find((v) => v.key === 'mastodon')?.humanValue;
  return {
    items: items + storage.length,
    summary: `${items} breakdown rows${version ? `, Mastodon ${version}` : ''}${storage.length ? ', storage sizes' : ''}`
  };
};

/** Per-peer measures as daily rows; Mastodon gives media only as a total, kept on the collection day. */
export function peerMeasureRows(
  measures: Measure[],
  domain: string,
  range: { from: string; to: string },
  today: string
) {
  const rows: PeerMeasureValue[] = [];
  for (const m of measures) {
    if (!PEER_MEASURES.includes(m.key)) continue;
    const days = m.days.filter((d) => d.day >= range.from && d.day <= range.to);
    if (days.length)
      for (const d of days) rows.push({ domain, day: d.day, metric: m.key, value: d.value, total: m.total });
    else if (m.total !== null)
      rows.push({ domain, day: today, metric: m.key, value: m.total, total: m.total });
  }
  return rows;
}

export const peerMeasures: Step = async ({ ctx, client, instance, shared }) => {
  const top = (shared.topServers ?? []).slice(0, topPeersSetting());
  if (top.length === 0)
    return { items: 0, summary: 'no peers to measure (no remote posts in the last 30 days)' };
  const today = utcDay(ctx.now());
  const range = { from: addDays(today, -TRAILING_DAYS), to: today };
  let items = 0;
  let done = 0;
  for (const domain of top) {
    if (ctx.signal.aborted) break;
    ctx.progress.status(`instance: per-peer measures ${done + 1}/${top.length}: ${domain}`);
    const params: Record<string, unknown> = { keys: PEER_MEASURES, startAt: range.from, endAt: range.to };
    // masto turns camelCase keys into Mastodon's snake_case (instanceFollows → instance_follows[domain])
    for (const k of PEER_MEASURES)
      params[k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())] = { domain };
    const a = await client.masto('/api/v1/admin/measures', 'required', (m) =>
      m.v1.admin.measures.create(params as never)
    );
    if (a.status !== 200) throw httpFailure(a, client.host);
    const rows = peerMeasureRows(parseMeasures(a.body), domain, range, today);
    await upsertPeerMeasures(ctx.db, instance, rows, ctx.now());
    items += rows.length;
    done++;
  }
  const status = done < top.length ? 'partial' : undefined;
  return { items, summary: `${done} of ${top.length} top peers measured (${items} values)`, status };
};
