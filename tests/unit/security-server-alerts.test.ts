import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWriter, openWriter } from '../../collectors/store/database.ts';
import { publishSnapshot } from '../../collectors/store/snapshots.ts';
import type { Alert } from '../../src/lib/server/alerts/index.ts';
import { notifyAlerts } from '../../src/lib/server/alerts/notify.ts';
import { tempDir } from '../helpers/index.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** What a hostile peer's admins write in their block comment, and what a collector quotes of a peer's answer. */
const COMMENT =
  '@everyone @here @room <!channel> <@U024BE7LH> <@&123> [click](https://evil.example/x) ![](https://evil.example/t.png) <img src=x onerror=alert(1)> @admin@evil.example';
const MESSAGE =
  'peers: evil.example said <!here> @everyone <https://evil.example|log in> [reset](http://evil.example)\nfedipulse: all clear';

/**
 * Words and markup that would notify people, link or render as HTML in the rooms a webhook posts to:
 * Slack (<!channel>, <@U…>, <url|label>), Discord (@everyone, <@id>), Matrix (@room, HTML), Mastodon (@user@host).
 */
const DANGEROUS = [
  /@(everyone|here|room|admin)/,
  /<[!@#]/,
  /<https?:/,
  /\]\(/,
  /https?:\/\/evil/,
  /<img/i,
  /onerror=/
];

describe('webhook alerts carry no live mentions, markup or links from peers', () => {
  let dbPath: string;
  let server: http.Server;
  let url: string;
  const bodies: { text: string; html: string; alerts: Alert[] }[] = [];

  beforeAll(async () => {
    dbPath = path.join(tempDir(), 'fedipulse.duckdb');
    const db = await openWriter(dbPath, 'test');
    const t = NOW.getTime();
    try {
      // Three failed peer crawls in a row, the latest quoting a peer (collections_failing, pushed).
      for (const h of [3, 2, 1])
        await db.run(
          `INSERT INTO runs (kind, started_at, finished_at, status, items, errors, message)
           VALUES ('peers', $1::TIMESTAMPTZ, $2::TIMESTAMPTZ, 'failed', 1, 1, $3)`,
          [iso(t - h * 3_600_000), iso(t - h * 3_600_000 + 60_000), MESSAGE]
        );
      // A large peer that began suspending us yesterday, with a hostile public comment (peer_limiting, pushed).
      await db.run(
        `INSERT INTO peer_obs (run_id, domain, observed_at, outcome, users_total)
         VALUES (3, 'big.example', $1::TIMESTAMPTZ, 'ok', 50000)`,
        [iso(t - DAY)]
      );
      await db.run(
        `INSERT INTO peer_limit_obs (run_id, peer_domain, observed_at, severity, matched_by, comment)
         VALUES (3, 'big.example', $1::TIMESTAMPTZ, 'suspend', 'domain', $2)`,
        [iso(t - DAY), COMMENT]
      );
      await publishSnapshot(db, 'run3');
    } finally {
      closeWriter(db);
    }
    server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        bodies.push(JSON.parse(b));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => server?.close());

  it('sends both alerts, with the peer text defused in text, html and the structured alerts', async () => {
    const r = await notifyAlerts({
      dbPath,
      now: NOW,
      env: { FEDIPULSE_ALERT_WEBHOOK: url, ORIGIN: 'https://stats.social.example' },
      log: () => {}
    });
    expect(r.error).toBeNull();
    expect(bodies).toHaveLength(1);
    const body = bodies[0];
    expect(body.alerts.map((a) => a.kind).sort()).toEqual(['collections_failing', 'peer_limiting']);

    const everything = JSON.stringify(body);
    for (const bad of DANGEROUS) {
      expect(body.text, String(bad)).not.toMatch(bad);
      expect(body.html, String(bad)).not.toMatch(bad);
      for (const a of body.alerts) expect(JSON.stringify(a), String(bad)).not.toMatch(bad);
    }
    // The block comment is free text: left out altogether.
    expect(everything).not.toContain('click');
    expect(everything).not.toContain('U024BE7LH');
    // The collector's message is still there to read (defused), on one line: it forges no "all clear" line.
    expect(body.text).toContain('evil.example said');
    const lines = body.text.split('\n');
    expect(lines.filter((l) => l.startsWith('fedipulse'))).toHaveLength(1);
    expect(lines).toHaveLength(1 + 2 + 1); // heading, two alerts, the dashboard link
    // The dashboard link is ours and stays a link; the peer's big.example stays readable.
    expect(lines.at(-1)).toBe('https://stats.social.example');
    expect(body.html).toContain('<a href="https://stats.social.example">');
    expect(body.text).toContain('big.example (50,000 users) now suspends us');
  });
});
