/**
 * A realistic fedipulse database for developing and benchmarking the dashboard: years of daily metrics,
 * reports with times, retention cohorts, own domain blocks, admin dimensions, per-peer measures and N daily
 * crawls of M peers with their rollups, written through the real migrations and published as a snapshot.
 *
 *   npx node bench/dataset.ts --out /tmp/fp.duckdb [--small] [--crawls 365 --peers 30000 --days 1095]
 */
import { rmSync } from 'node:fs';
import { closeWriter, openWriter, type Db } from '../collectors/store/database.ts';
import { publishSnapshot, snapshotDir } from '../collectors/store/snapshots.ts';
import { peerNames } from '../sim/peers/names.ts';
import { logNormal, normal, pick, rng, weighted, type Rng } from '../sim/random.ts';

export interface DatasetOptions {
  file: string;
  /** Days of own-server history (daily metrics, reports, runs). */
  days: number;
  /** Daily peer crawls, the most recent `crawls` days. */
  crawls: number;
  peers: number;
  seed: number;
  /** Last day of data, YYYY-MM-DD; default yesterday (UTC), so freshness looks like a live install. */
  end?: string;
  /** Mark the data as simulated (settings.simulated = 'true'). */
  simulated?: boolean;
  /** Leave out admin-scope data (reports, measures, dimensions, retention), as without a token. */
  noAdmin?: boolean;
}

export const SMALL: Omit<DatasetOptions, 'file'> = { days: 400, crawls: 30, peers: 500, seed: 7 };
export const BENCH: Omit<DatasetOptions, 'file'> = { days: 1095, crawls: 365, peers: 30_000, seed: 7 };
export const INSTANCE = 'coop.social.example';

type Cell = string | number | boolean | null;
type ColType = 'VARCHAR' | 'DOUBLE' | 'BOOLEAN';

/** Bulk insert through the appender into a temp table, then one INSERT that casts into the real table. */
async function bulk(db: Db, table: string, cols: [string, ColType][], rows: Cell[][]): Promise<void> {
  if (rows.length === 0) return;
  const stage = `stage_${table}`;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${stage} (${cols.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  const app = await db.conn.createAppender(stage, 'main', 'temp');
  for (const row of rows) {
    row.forEach((v, i) => {
      if (v === null) app.appendNull();
      else if (cols[i][1] === 'DOUBLE') app.appendDouble(v as number);
      else if (cols[i][1] === 'BOOLEAN') app.appendBoolean(v as boolean);
      else app.appendVarchar(String(v));
    });
    app.endRow();
  }
  app.closeSync();
  const names = cols.map(([n]) => n).join(', ');
  await db.run(`INSERT INTO ${table} (${names}) SELECT ${names} FROM ${stage}`);
  await db.run(`DROP TABLE ${stage}`);
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();

function yesterday(): string {
  return isoDay(Date.now() - DAY_MS);
}

/** Members over time: steady growth, a migration wave, a month with registrations closed. */
function memberModel(r: Rng, days: number) {
  const newUsers: number[] = [];
  const members: number[] = [];
  let m = 1200;
  const wave = Math.floor(days * 0.35);
  const closedFrom = Math.floor(days * 0.7);
  const closedTo = closedFrom + 30;
  for (let d = 0; d < days; d++) {
    let rate = 1.2 + d * 0.002;
    if (d >= wave && d < wave + 14) rate += 60 * Math.exp(-(d - wave) / 4);
    if (d >= closedFrom && d < closedTo) rate = 0.1;
    const n = Math.max(0, Math.round(rate + normal(r) * Math.sqrt(rate)));
    const gone = r() < 0.15 ? 1 : 0;
    m += n - gone;
    newUsers.push(n);
    members.push(m);
  }
  return { newUsers, members, wave, closedFrom, closedTo };
}

export async function generateDataset(o: DatasetOptions): Promise<{ file: string; snapshot: string }> {
  rmSync(o.file, { force: true });
  rmSync(`${o.file}.wal`, { force: true });
  rmSync(snapshotDir(o.file), { recursive: true, force: true });
  const db = await openWriter(o.file, 'dataset');
  try {
    const r = rng(o.seed);
    const endMs = Date.parse(`${o.end ?? yesterday()}T00:00:00Z`);
    const startMs = endMs - (o.days - 1) * DAY_MS;
    const dayMs = (d: number) => startMs + d * DAY_MS;
    const crawlFrom = o.days - o.crawls; // day index of the first crawl
    const admin = !o.noAdmin;

    await db.run(`INSERT INTO settings VALUES ('own_domain', $1), ('simulated', $2)`, [
      INSTANCE,
      o.simulated === false ? 'false' : 'true'
    ]);

    // Runs: one 'all' run a day at 03:00; two days missing; a few partial or failed.
    const missing = new Set([Math.floor(o.days * 0.5), Math.floor(o.days * 0.5) + 1]);
    const runRows: Cell[][] = [];
    const sourceRows: Cell[][] = [];
    const runOfDay = new Map<number, number>();
    let runId = 0;
    for (let d = 0; d < o.days; d++) {
      if (missing.has(d)) continue;
      runId++;
      runOfDay.set(d, runId);
      const started = dayMs(d) + 3 * 3600_000;
      const crawl = d >= crawlFrom;
      const sources: [string, string, number, number, string | null][] = [
        ['instance.v1', 'ok', 3, 0, null],
        ['peers.list', 'ok', o.peers, 0, null]
      ];
      if (admin)
        sources.push(
          ['admin.measures', 'ok', 13, 0, null],
          ['admin.dimensions', 'ok', 12, 0, null],
          ['admin.retention', 'ok', 40, 0, null],
          ['admin.reports', 'ok', 20, 0, null]
        );
      if (crawl) sources.push(['peers.nodeinfo', 'partial', o.peers, Math.round(o.peers * 0.08), null]);
      if (d === o.days - 20 && admin)
        sources[2] = ['admin.measures', 'failed', 0, 1, 'HTTP 503 from /api/v1/admin/measures'];
      const failed = sources.filter((s) => s[1] === 'failed').length;
      const partial = sources.some((s) => s[1] !== 'ok');
      const finished = started + (crawl ? 40 * 60_000 : 90_000);
      runRows.push([
        runId,
        'all',
        iso(started),
        iso(finished),
        failed ? 'partial' : partial ? 'partial' : 'ok',
        sources.reduce((a, s) => a + s[2], 0),
        sources.reduce((a, s) => a + s[3], 0),
        failed ? sources.find((s) => s[1] === 'failed')![4] : null
      ]);
      for (const s of sources) sourceRows.push([runId, ...s, iso(finished)]);
    }
    await bulk(
      db,
      'runs',
      [
        ['run_id', 'DOUBLE'],
        ['kind', 'VARCHAR'],
        ['started_at', 'VARCHAR'],
        ['finished_at', 'VARCHAR'],
        ['status', 'VARCHAR'],
        ['items', 'DOUBLE'],
        ['errors', 'DOUBLE'],
        ['message', 'VARCHAR']
      ],
      runRows
    );
    await db.run(`SELECT setval('run_id_seq', $1)`, [runId + 1]).catch(() => {});
    await bulk(
      db,
      'run_sources',
      [
        ['run_id', 'DOUBLE'],
        ['source', 'VARCHAR'],
        ['status', 'VARCHAR'],
        ['items', 'DOUBLE'],
        ['errors', 'DOUBLE'],
        ['message', 'VARCHAR'],
        ['finished_at', 'VARCHAR']
      ],
      sourceRows
    );

    // Own server daily metrics.
    const mm = memberModel(r, o.days);
    const metricRows: Cell[][] = [];
    const seen = (d: number) => iso(dayMs(d) + 3 * 3600_000);
    const put = (d: number, metric: string, value: number, source: string) =>
      metricRows.push([INSTANCE, isoDay(dayMs(d)), metric, value, source, seen(d), seen(d), seen(d)]);
    // A stretch where active users and interactions were lost to Mastodon's 6-month expiry: a real gap.
    const gapFrom = Math.floor(o.days * 0.5) - 3;
    let statuses = 90_000;
    let pg = 18e9;
    let media = 160e9;
    for (let d = 0; d < o.days; d++) {
      const m = mm.members[d];
      const weekday = new Date(dayMs(d)).getUTCDay();
      const weekly = weekday === 0 || weekday === 6 ? 0.9 : 1.03;
      const active = Math.round(m * 0.21 * weekly * (1 + normal(r) * 0.03));
      const interactions = Math.round(active * (5.5 + normal(r) * 0.4));
      statuses += Math.round(active * 1.7);
      pg += 35e6 + m * 12_000 * (1 + normal(r) * 0.2);
      media += 0.55e9 + m * 120_000 * (1 + normal(r) * 0.3);
      if (d % 90 === 89) media *= 0.93; // periodic remote-media cleanup
      const redis = 1.2e9 + 0.4e9 * Math.sin(d / 9) + r() * 0.1e9;
      put(d, 'user_count', m, 'instance.v1');
      put(d, 'status_count', statuses, 'instance.v1');
      if (!admin) continue;
      put(d, 'new_users', mm.newUsers[d], 'admin.measures');
      if (!(d >= gapFrom && d < gapFrom + 6)) {
        put(d, 'active_users', active, 'admin.measures');
        put(d, 'interactions', interactions, 'admin.measures');
      }
      put(d, 'active_month', Math.round(m * 0.42 * (1 + normal(r) * 0.01)), 'nodeinfo');
      put(d, 'storage_postgresql_bytes', Math.round(pg), 'admin.dimensions');
      put(d, 'storage_redis_bytes', Math.round(redis), 'admin.dimensions');
      put(d, 'storage_media_bytes', Math.round(media), 'admin.dimensions');
    }
    await bulk(
      db,
      'metric_days',
      [
        ['instance', 'VARCHAR'],
        ['day', 'VARCHAR'],
        ['metric', 'VARCHAR'],
        ['value', 'DOUBLE'],
        ['source', 'VARCHAR'],
        ['first_seen_at', 'VARCHAR'],
        ['last_seen_at', 'VARCHAR'],
        ['changed_at', 'VARCHAR']
      ],
      metricRows
    );

    // Instance info per run, activity weeks, rules.
    const infoRows: Cell[][] = [];
    for (const [d, id] of runOfDay) {
      const version = d < o.days * 0.4 ? '4.1.9' : d < o.days * 0.8 ? '4.2.12' : '4.3.2';
      const closed = d >= mm.closedFrom && d < mm.closedTo;
      infoRows.push([INSTANCE, id, seen(d), 'Co-op Social', version, !closed, true]);
    }
    await bulk(
      db,
      'instance_info',
      [
        ['instance', 'VARCHAR'],
        ['run_id', 'DOUBLE'],
        ['observed_at', 'VARCHAR'],
        ['title', 'VARCHAR'],
        ['version', 'VARCHAR'],
        ['registrations_open', 'BOOLEAN'],
        ['approval_required', 'BOOLEAN']
      ],
      infoRows
    );
    const ruleTexts = [
      'No racism, sexism, homophobia, transphobia, ableism or casteism.',
      'No harassment, dogpiling or doxxing.',
      'Content warnings for graphic or sensitive media.',
      'No advertising or spam.',
      'Bots must be marked as bots and post unlisted.',
      'Respect the co-op’s democratic decisions.'
    ];
    await bulk(
      db,
      'instance_rules',
      [
        ['instance', 'VARCHAR'],
        ['rule_id', 'VARCHAR'],
        ['text', 'VARCHAR'],
        ['first_seen_at', 'VARCHAR'],
        ['last_seen_at', 'VARCHAR']
      ],
      ruleTexts.map((t, i) => [INSTANCE, String(i + 1), t, seen(0), seen(o.days - 1)])
    );
    await db.run(
      `INSERT INTO activity_weeks
       SELECT instance, date_trunc('week', day)::TIMESTAMPTZ, 0, 0, sum(value)::BIGINT, max(last_seen_at)
       FROM metric_days WHERE metric = 'new_users' GROUP BY ALL`
    );

    const names = peerNames(o.seed, Math.max(o.peers, 60)).map((n) => n.domain);
    const big = [
      'mastodon.social.example',
      'hachyderm.town.test',
      'fosstodon.fedi.test',
      'infosec.club.example',
      'mstdn.masto.example'
    ];
    for (let i = 0; i < big.length; i++) names[i] = big[i];

    if (admin) {
      // Reports: a few a day, more as membership grows; time to resolve is heavy-tailed.
      const categories: [string, number][] = [
        ['spam', 45],
        ['violation', 28],
        ['other', 22],
        ['legal', 5]
      ];
      const reportRows: Cell[][] = [];
      const nowMs = endMs + DAY_MS; // the end of the last day
      let id = 1000;
      for (let d = 0; d < o.days; d++) {
        const n = Math.max(0, Math.round(2 + mm.members[d] / 900 + normal(r) * 1.5));
        for (let k = 0; k < n; k++) {
          const created = dayMs(d) + Math.floor(r() * DAY_MS);
          const cat = weighted(r, categories);
          const local = r() < 0.38;
          const hours = logNormal(r, cat === 'spam' ? 4 : 14, 1.2);
          let resolved: number | null = created + hours * 3600_000;
          if (resolved > nowMs || r() < 0.004) resolved = null; // still open (a few old ones linger)
          const assigned = r() < 0.8 ? created + hours * 3600_000 * (0.2 + r() * 0.5) : null;
          const domainIdx = Math.floor(Math.pow(r(), 2.5) * Math.min(names.length, 400));
          reportRows.push([
            INSTANCE,
            String(id++),
            cat,
            iso(created),
            iso(resolved ?? created),
            resolved !== null && r() < 0.6,
            resolved === null ? null : iso(resolved),
            r() < 0.3,
            local ? 'local' : 'remote',
            local ? null : names[domainIdx],
            assigned !== null && assigned < nowMs ? iso(assigned) : null,
            iso(created),
            iso(resolved ?? nowMs)
          ]);
        }
      }
      await bulk(
        db,
        'report_records',
        [
          ['instance', 'VARCHAR'],
          ['report_id', 'VARCHAR'],
          ['category', 'VARCHAR'],
          ['created_at', 'VARCHAR'],
          ['updated_at', 'VARCHAR'],
          ['action_taken', 'BOOLEAN'],
          ['action_taken_at', 'VARCHAR'],
          ['forwarded', 'BOOLEAN'],
          ['target_origin', 'VARCHAR'],
          ['target_domain', 'VARCHAR'],
          ['first_assigned_seen_at', 'VARCHAR'],
          ['first_seen_at', 'VARCHAR'],
          ['last_seen_at', 'VARCHAR']
        ],
        reportRows
      );
      // opened/resolved measures agree with the report records, as Mastodon's would.
      for (const [metric, col] of [
        ['opened_reports', 'created_at'],
        ['resolved_reports', 'action_taken_at']
      ]) {
        await db.run(
          `INSERT INTO metric_days
           SELECT $1, d.day, $2, coalesce(c.n, 0), 'admin.measures', d.day::TIMESTAMPTZ, d.day::TIMESTAMPTZ, d.day::TIMESTAMPTZ
           FROM (SELECT DISTINCT day FROM metric_days) d
           LEFT JOIN (SELECT (${col} AT TIME ZONE 'UTC')::DATE AS day, count(*) AS n FROM report_records
                      WHERE ${col} IS NOT NULL GROUP BY 1) c USING (day)`,
          [INSTANCE, metric]
        );
      }

      // Retention: monthly cohorts (latest observation and one taken at each period's end), daily for 30 days.
      const retRows: Cell[][] = [];
      const endDate = new Date(endMs);
      const months = Math.min(24, Math.floor(o.days / 30));
      for (let c = months; c >= 0; c--) {
        const cohort = Date.UTC(endDate.getUTCFullYear(), endDate.getUTCMonth() - c, 1);
        const size = 40 + Math.round(r() * 80) + (c === Math.floor(months * 0.6) ? 600 : 0);
        const decay = 0.25 + r() * 0.1;
        for (let p = 0; p <= c; p++) {
          const periodStart = Date.UTC(endDate.getUTCFullYear(), endDate.getUTCMonth() - c + p, 1);
          const latest = p === 0 ? 1 : Math.max(0.08, 0.55 * Math.exp(-(p - 1) * decay) + 0.12);
          // Taken at the period's end: more members were still active then than "last sign-in" shows now.
          const atEnd = p === 0 ? 1 : Math.min(1, latest * (1.15 + r() * 0.1));
          const periodEnd = Date.UTC(endDate.getUTCFullYear(), endDate.getUTCMonth() - c + p + 1, 1);
          if (periodEnd <= endMs)
            retRows.push([
              INSTANCE,
              'month',
              isoDay(cohort),
              p,
              isoDay(periodStart),
              Math.round(size * atEnd),
              atEnd,
              iso(periodEnd + 3 * 3600_000)
            ]);
          retRows.push([
            INSTANCE,
            'month',
            isoDay(cohort),
            p,
            isoDay(periodStart),
            Math.round(size * latest),
            latest,
            seen(o.days - 1)
          ]);
        }
      }
      for (let c = Math.min(30, o.days - 1); c >= 0; c--) {
        const cohort = endMs - c * DAY_MS;
        const size = mm.newUsers[o.days - 1 - c] || 1;
        for (let p = 0; p <= c; p++) {
          const rate = p === 0 ? 1 : Math.max(0.1, 0.6 * Math.exp(-(p - 1) / 8) + 0.15);
          retRows.push([
            INSTANCE,
            'day',
            isoDay(cohort),
            p,
            isoDay(cohort + p * DAY_MS),
            Math.round(size * rate),
            rate,
            seen(o.days - 1)
          ]);
        }
      }
      await bulk(
        db,
        'retention_observations',
        [
          ['instance', 'VARCHAR'],
          ['frequency', 'VARCHAR'],
          ['cohort', 'VARCHAR'],
          ['period_index', 'DOUBLE'],
          ['period_start', 'VARCHAR'],
          ['users', 'DOUBLE'],
          ['rate', 'DOUBLE'],
          ['observed_at', 'VARCHAR']
        ],
        retRows
      );

      // Dimensions: space usage and software versions every day; languages for the last 90 days.
      await db.run(
        `INSERT INTO dimension_days (instance, day, dimension, key, human_key, value, unit, human_value, observed_at)
         SELECT instance, day, 'space_usage', replace(replace(metric, 'storage_', ''), '_bytes', ''),
                CASE metric WHEN 'storage_postgresql_bytes' THEN 'PostgreSQL' WHEN 'storage_redis_bytes' THEN 'Redis'
                ELSE 'Media files' END, value, 'bytes', NULL, last_seen_at
         FROM metric_days WHERE metric LIKE 'storage_%'`
      );
      const dimRows: Cell[][] = [];
      for (let d = 0; d < o.days; d++) {
        const f = d / o.days;
        const versions: [string, string, string][] = [
          ['mastodon', 'Mastodon', f < 0.4 ? '4.1.9' : f < 0.8 ? '4.2.12' : '4.3.2'],
          ['ruby', 'Ruby', f < 0.4 ? '3.0.6' : f < 0.8 ? '3.2.3' : '3.3.5'],
          ['postgresql', 'PostgreSQL', f < 0.6 ? '14.11' : '16.4'],
          ['redis', 'Redis', f < 0.5 ? '6.2.14' : '7.2.5'],
          ['elasticsearch', 'Elasticsearch', '7.17.21']
        ];
        for (const [key, human, v] of versions)
          dimRows.push([INSTANCE, isoDay(dayMs(d)), 'software_versions', key, human, null, null, v, seen(d)]);
        if (d >= o.days - 90)
          for (const [lang, name, share] of [
            ['en', 'English', 0.55],
            ['de', 'German', 0.2],
            ['nl', 'Dutch', 0.1],
            ['fr', 'French', 0.08],
            ['es', 'Spanish', 0.07]
          ] as const)
            dimRows.push([
              INSTANCE,
              isoDay(dayMs(d)),
              'languages',
              lang,
              name,
              Math.round(mm.members[d] * 0.2 * share),
              null,
              null,
              seen(d)
            ]);
      }
      await bulk(
        db,
        'dimension_days',
        [
          ['instance', 'VARCHAR'],
          ['day', 'VARCHAR'],
          ['dimension', 'VARCHAR'],
          ['key', 'VARCHAR'],
          ['human_key', 'VARCHAR'],
          ['value', 'DOUBLE'],
          ['unit', 'VARCHAR'],
          ['human_value', 'VARCHAR'],
          ['observed_at', 'VARCHAR']
        ],
        dimRows
      );

      // Own domain blocks, with their events; some changed, some lifted.
      const blockRows: Cell[][] = [];
      const eventRows: Cell[][] = [];
      const blockCount = Math.min(60, Math.floor(names.length / 8));
      for (let b = 0; b < blockCount; b++) {
        const domain = names[names.length - 1 - b];
        const at = dayMs(Math.floor(r() * (o.days - 1))) + 14 * 3600_000;
        const severity = r() < 0.55 ? 'suspend' : 'silence';
        const comment = pick(r, ['Spam', 'Harassment', 'Hate speech', 'Unmoderated', 'Illegal content']);
        eventRows.push([INSTANCE, domain, iso(at), 'added', severity, r() < 0.5, false, comment]);
        let removed: number | null = null;
        if (r() < 0.15) {
          removed = at + Math.floor(r() * (endMs - at));
          eventRows.push([INSTANCE, domain, iso(removed), 'removed', severity, null, null, comment]);
        }
        blockRows.push([
          INSTANCE,
          domain,
          null,
          severity,
          false,
          false,
          comment,
          false,
          iso(at),
          seen(o.days - 1),
          removed === null ? null : iso(removed)
        ]);
      }
      await bulk(
        db,
        'domain_block_state',
        [
          ['instance', 'VARCHAR'],
          ['domain', 'VARCHAR'],
          ['digest', 'VARCHAR'],
          ['severity', 'VARCHAR'],
          ['reject_media', 'BOOLEAN'],
          ['reject_reports', 'BOOLEAN'],
          ['public_comment', 'VARCHAR'],
          ['obfuscate', 'BOOLEAN'],
          ['first_seen_at', 'VARCHAR'],
          ['last_seen_at', 'VARCHAR'],
          ['removed_at', 'VARCHAR']
        ],
        blockRows
      );
      await bulk(
        db,
        'domain_block_events',
        [
          ['instance', 'VARCHAR'],
          ['domain', 'VARCHAR'],
          ['event_at', 'VARCHAR'],
          ['event', 'VARCHAR'],
          ['severity', 'VARCHAR'],
          ['reject_media', 'BOOLEAN'],
          ['reject_reports', 'BOOLEAN'],
          ['public_comment', 'VARCHAR']
        ],
        eventRows
      );
    }

    // Peers: attributes per peer in JS (heavy-tailed sizes, software mix, discovery, death), crawls in SQL.
    const software: [string, number][] = [
      ['mastodon', 62],
      ['misskey', 9],
      ['pleroma', 6],
      ['akkoma', 4],
      ['gotosocial', 6],
      ['lemmy', 4],
      ['friendica', 3],
      ['pixelfed', 3],
      ['peertube', 3]
    ];
    const versionsOf: Record<string, string[]> = {
      mastodon: ['4.3.2', '4.2.12', '4.1.9', '3.5.19'],
      misskey: ['2024.11.0', '2023.12.2'],
      pleroma: ['2.7.0', '2.6.3'],
      akkoma: ['3.13.2'],
      gotosocial: ['0.17.3', '0.16.0'],
      lemmy: ['0.19.5'],
      friendica: ['2024.08'],
      pixelfed: ['0.12.3'],
      peertube: ['6.3.2']
    };
    const peerRows: Cell[][] = [];
    const limitRows: Cell[][] = [];
    for (let i = 0; i < o.peers; i++) {
      const pr = rng(o.seed * 7919 + i);
      const sw = i < big.length ? 'mastodon' : weighted(pr, software);
      const users =
        i < big.length ? [2_400_000, 55_000, 60_000, 70_000, 150_000][i] : Math.round(logNormal(pr, 12, 2.3));
      // Discovered before the crawl window (most) or during it.
      const firstDay = pr() < 0.75 ? -1 - Math.floor(pr() * 400) : Math.floor(pr() * o.crawls);
      const deathDay = i >= big.length && pr() < 0.1 ? Math.floor(pr() * o.crawls * 1.5) : 1e9;
      peerRows.push([
        names[i],
        firstDay,
        deathDay,
        sw,
        pick(pr, versionsOf[sw]),
        Math.min(users, 3_000_000),
        0.1 + pr() * 0.35,
        pr() < 0.4
      ]);
      // A few peers limit us; one large peer started recently (the overview's alert).
      const limitFrom = i === 3 ? o.crawls - 2 : pr() < 0.015 ? Math.floor(pr() * o.crawls) : -1;
      if (limitFrom >= 0) {
        const until =
          i !== 3 && pr() < 0.2 ? limitFrom + Math.floor(pr() * (o.crawls - limitFrom)) : o.crawls;
        const sev = i === 3 ? 'silence' : pr() < 0.6 ? 'suspend' : pr() < 0.5 ? 'silence' : 'noop';
        const by = pr() < 0.7 ? 'domain' : 'digest';
        const comment = pick(pr, ['Moderation concerns', 'Too large to moderate', null as unknown as string]);
        for (let c = Math.max(limitFrom, firstDay); c < until; c++)
          limitRows.push([c, names[i], sev, by, comment ?? null]);
      }
    }
    await db.run(
      `CREATE TEMP TABLE peer_gen (i INTEGER, domain VARCHAR, first_day INTEGER, death_day INTEGER, software VARCHAR,
        software_version VARCHAR, users DOUBLE, active_share DOUBLE, open_reg BOOLEAN)`
    );
    {
      const app = await db.conn.createAppender('peer_gen', 'main', 'temp');
      peerRows.forEach((p, i) => {
        app.appendInteger(i);
        app.appendVarchar(p[0] as string);
        app.appendInteger(p[1] as number);
        app.appendInteger(Math.min(p[2] as number, 2_000_000_000));
        app.appendVarchar(p[3] as string);
        app.appendVarchar(p[4] as string);
        app.appendDouble(p[5] as number);
        app.appendDouble(p[6] as number);
        app.appendBoolean(p[7] as boolean);
        app.endRow();
      });
      app.closeSync();
    }
    const crawlStart = iso(dayMs(crawlFrom));
    await db.run(
      `INSERT INTO known_peers (domain, source, first_seen_at, last_seen_at, in_peers_list)
       SELECT domain, 'peers_list', $1::TIMESTAMPTZ + to_days(first_day) + INTERVAL 3 HOUR,
              $1::TIMESTAMPTZ + to_days($2 - 1) + INTERVAL 3 HOUR, death_day >= $2 FROM peer_gen`,
      [crawlStart, o.crawls]
    );
    await db.run(
      `INSERT INTO peer_hosts (domain, state, consecutive_failures, last_attempt_at, last_outcome, first_seen_at)
       SELECT domain, CASE WHEN death_day < $2 THEN 'dead' ELSE 'alive' END,
              CASE WHEN death_day < $2 THEN $2 - death_day ELSE 0 END,
              $1::TIMESTAMPTZ + to_days($2 - 1) + INTERVAL 3 HOUR,
              CASE WHEN death_day < $2 THEN 'unreachable' ELSE 'ok' END,
              $1::TIMESTAMPTZ + to_days(first_day) + INTERVAL 3 HOUR FROM peer_gen`,
      [crawlStart, o.crawls]
    );
    // Crawl c happens on day crawlFrom + c, as run runOfDay(crawlFrom + c).
    const crawlRuns = Array.from({ length: o.crawls }, (_, c) => [c, runOfDay.get(crawlFrom + c) ?? -1]);
    await db.run(`CREATE TEMP TABLE crawl_gen (c INTEGER, run_id INTEGER)`);
    await db.run(`INSERT INTO crawl_gen VALUES ${crawlRuns.map(([c, id]) => `(${c}, ${id})`).join(',')}`);
    await db.run(
      `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, http_status, software, software_version, users_total,
         users_active_month, users_active_halfyear, local_posts, open_registrations, suspect, nodeinfo_version)
       WITH x AS (
         SELECT k.run_id, k.c, p.*, (hash(p.i, k.c, $2) % 1000) / 1000.0 AS u
         FROM crawl_gen k, peer_gen p WHERE k.run_id > 0 AND p.first_day <= k.c
       ), y AS (
         SELECT *, CASE WHEN c >= death_day THEN (CASE WHEN u < 0.6 THEN 'unreachable' WHEN u < 0.8 THEN 'timeout' ELSE 'gone' END)
                        WHEN u < 0.93 THEN 'ok' WHEN u < 0.96 THEN 'timeout' WHEN u < 0.98 THEN 'tls_error' ELSE 'http_error' END AS outcome,
                   round(users * (1 + c * 0.0004))::BIGINT AS ut
         FROM x
       )
       SELECT run_id, domain, $1::TIMESTAMPTZ + to_days(c) + INTERVAL 3 HOUR + to_seconds((i % 2400)::BIGINT), outcome,
              CASE outcome WHEN 'ok' THEN 200 WHEN 'http_error' THEN 502 WHEN 'gone' THEN 410 END,
              CASE WHEN outcome = 'ok' THEN software END, CASE WHEN outcome = 'ok' THEN software_version END,
              CASE WHEN outcome = 'ok' THEN ut END, CASE WHEN outcome = 'ok' THEN round(ut * active_share)::BIGINT END,
              CASE WHEN outcome = 'ok' THEN round(ut * active_share * 1.6)::BIGINT END,
              CASE WHEN outcome = 'ok' THEN ut * 85 END, CASE WHEN outcome = 'ok' THEN open_reg END,
              outcome = 'ok' AND i % 997 = 5, CASE WHEN outcome = 'ok' THEN '2.0' END
       FROM y ORDER BY run_id, domain`,
      [crawlStart, o.seed]
    );
    if (limitRows.length) {
      await db.run(`CREATE TEMP TABLE limit_gen (c INTEGER, peer_domain VARCHAR, severity VARCHAR, matched_by VARCHAR,
        comment VARCHAR)`);
      const app = await db.conn.createAppender('limit_gen', 'main', 'temp');
      for (const l of limitRows) {
        app.appendInteger(l[0] as number);
        app.appendVarchar(l[1] as string);
        app.appendVarchar(l[2] as string);
        app.appendVarchar(l[3] as string);
        if (l[4] === null) app.appendNull();
        else app.appendVarchar(l[4] as string);
        app.endRow();
      }
      app.closeSync();
      // Recorded only on crawls that reached the peer (a block list needs an answer).
      await db.run(
        `INSERT INTO peer_limit_obs
         SELECT o.run_id, l.peer_domain, o.observed_at, l.severity, l.matched_by, l.comment
         FROM limit_gen l JOIN crawl_gen k USING (c) JOIN peer_obs o ON o.run_id = k.run_id AND o.domain = l.peer_domain
         WHERE o.outcome = 'ok'`
      );
    }
    // The rollup the peers collector writes after each crawl.
    await db.run(
      `INSERT INTO federation_days
       SELECT (min(observed_at) AT TIME ZONE 'UTC')::DATE, run_id, count(*), count(*) FILTER (outcome = 'ok'),
              coalesce(sum(users_total), 0), coalesce(sum(users_active_month), 0)
       FROM peer_obs GROUP BY run_id`
    );
    await db.run(
      `INSERT INTO metric_days
       SELECT $1, day, 'peers_count', peers_known, 'peers.list', day::TIMESTAMPTZ, day::TIMESTAMPTZ, day::TIMESTAMPTZ
       FROM federation_days`,
      [INSTANCE]
    );
    if (admin) {
      // Per-peer admin measures for the 50 largest peers over the crawl window.
      await db.run(
        `INSERT INTO peer_measure_days
         SELECT $1, p.domain, ($2::DATE + to_days(k.c))::DATE, m.metric,
                round(CASE m.metric WHEN 'instance_follows' THEN sqrt(p.users) / 8 WHEN 'instance_followers' THEN sqrt(p.users) / 10
                      ELSE sqrt(p.users) * 4 END * (0.7 + (hash(p.i, k.c, m.metric) % 600) / 1000.0)),
                round(CASE m.metric WHEN 'instance_follows' THEN sqrt(p.users) * 6 WHEN 'instance_followers' THEN sqrt(p.users) * 5
                      ELSE sqrt(p.users) * 300 END * (1 + k.c / 1000.0)),
                $2::TIMESTAMPTZ + to_days(k.c) + INTERVAL 3 HOUR
         FROM (SELECT * FROM peer_gen ORDER BY users DESC LIMIT 50) p, crawl_gen k,
              (VALUES ('instance_follows'), ('instance_followers'), ('instance_statuses')) m(metric)
         WHERE k.run_id > 0`,
        [INSTANCE, isoDay(dayMs(crawlFrom))]
      );
      // Blocked peers' measures before the block: what each block cut.
      await db.run(
        `INSERT INTO peer_measure_days
         SELECT $1, b.domain, (b.first_seen_at - INTERVAL 1 DAY)::DATE, m.metric,
                (hash(b.domain, m.metric) % 20)::DOUBLE, (hash(b.domain, m.metric) % 300)::DOUBLE, b.first_seen_at
         FROM domain_block_state b, (VALUES ('instance_follows'), ('instance_followers')) m(metric)
         ON CONFLICT DO NOTHING`,
        [INSTANCE]
      );
    }
    await db.run(
      'DROP TABLE IF EXISTS peer_gen; DROP TABLE IF EXISTS crawl_gen; DROP TABLE IF EXISTS limit_gen'
    );
    const snapshot = await publishSnapshot(db, `dataset${o.seed}`);
    return { file: o.file, snapshot };
  } finally {
    closeWriter(db);
  }
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(args: string[]): Promise<number> {
  const base = args.includes('--small') ? SMALL : BENCH;
  const o: DatasetOptions = {
    ...base,
    file: arg(args, 'out') ?? 'data/dataset.duckdb',
    days: Number(arg(args, 'days') ?? base.days),
    crawls: Number(arg(args, 'crawls') ?? base.crawls),
    peers: Number(arg(args, 'peers') ?? base.peers),
    seed: Number(arg(args, 'seed') ?? base.seed),
    end: arg(args, 'end'),
    noAdmin: args.includes('--no-admin')
  };
  const t = performance.now();
  const out = await generateDataset(o);
  process.stdout.write(
    `${out.snapshot} (${o.days} days, ${o.crawls} crawls x ${o.peers} peers) in ${((performance.now() - t) / 1000).toFixed(1)} s\n`
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
