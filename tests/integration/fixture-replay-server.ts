import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A second test server: plain HTTP on 127.0.0.1 that answers with the real example responses in
 * tests/fixtures/mastodon (a copy of the shared fixtures) byte for byte. Where one endpoint needs two answers, it composes verbatim
 * files: the resolved-reports pass is `[` + admin_report.json + `]`, and page 2 of the open reports (reached
 * through a Link header in the docs' format) is the Admin_Report entity example. The NodeInfo discovery
 * document is built here (the fixtures hold only the 2.0 document).
 */
export const FIXTURES = new URL('../fixtures/mastodon/', import.meta.url);
export const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const byKey = (name: string): Map<string, string> =>
  new Map(
    (JSON.parse(fixture(name)) as { example: { key: string } }[]).map((e) => [
      e.example.key,
      JSON.stringify(e.example)
    ])
  );

export interface ReplayServer {
  url: string;
  port: number;
  requests: { method: string; path: string; authorization: string | undefined }[];
  /** The next `count` /api requests answer 429 as Mastodon does (reset `resetMs` ahead; Retry-After only if given). */
  storm(count: number, resetMs: number, retryAfterSecs?: number): void;
  stop(): Promise<void>;
}

export async function startReplayServer(): Promise<ReplayServer> {
  const measures = byKey('admin_measures_by_key.json');
  const entityReport = JSON.stringify(
    (JSON.parse(fixture('entity_admin_report.json')) as { example: unknown }[])[0].example
  );
  const requests: ReplayServer['requests'] = [];
  let base = '';
  let storm = { count: 0, resetMs: 0, retryAfter: undefined as number | undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        authorization: req.headers.authorization
      });
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(body);
      };
      if (storm.count > 0 && url.pathname.startsWith('/api/')) {
        storm.count--;
        const reset = new Date(Date.now() + storm.resetMs).toISOString().replace('Z', '114Z');
        const extra: Record<string, string> = storm.retryAfter
          ? { 'retry-after': String(storm.retryAfter) }
          : {};
        return send(429, '{"error":"Too many requests"}', {
          'x-ratelimit-limit': '300',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
          ...extra
        });
      }
      const admin = url.pathname.startsWith('/api/v1/admin/');
      if (admin && req.headers.authorization !== 'Bearer replay-token')
        return send(403, fixture('admin_measures_403.json'));
      const body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /api/v2/instance':
          return send(200, fixture('v2_instance.json'));
        case 'GET /api/v1/instance':
          return send(200, fixture('v1_instance.json'));
        case 'GET /api/v1/instance/activity':
          return send(200, fixture('v1_instance_activity.json'));
        case 'GET /api/v1/instance/rules':
          return send(200, fixture('v1_instance_rules.json'));
        case 'GET /api/v1/instance/peers':
          return send(200, fixture('v1_instance_peers.json'));
        case 'GET /api/v1/instance/domain_blocks':
          return send(200, fixture('v1_instance_domain_blocks.json'));
        case 'GET /.well-known/nodeinfo':
          return send(
            200,
            JSON.stringify({
              links: [
                { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `${base}/nodeinfo/2.0` }
              ]
            })
          );
        case 'GET /nodeinfo/2.0':
          return send(200, fixture('nodeinfo_2_0.json'));
        case 'POST /api/v1/admin/measures': {
          const keys = (body.keys as string[]) ?? [];
          return send(
            200,
            `[${keys
              .filter((k) => measures.has(k))
              .map((k) => measures.get(k))
              .join(',')}]`
          );
        }
        case 'POST /api/v1/admin/dimensions':
          return send(200, fixture('admin_dimensions.json'));
        case 'POST /api/v1/admin/retention':
          return send(
            200,
            fixture(body.frequency === 'month' ? 'admin_retention.json' : 'admin_retention_daily.json')
          );
        case 'GET /api/v1/admin/reports': {
          if (url.searchParams.get('resolved') === 'true')
            return send(200, `[${fixture('admin_report.json')}]`);
          if (url.searchParams.get('max_id') === '3') return send(200, `[${entityReport}]`);
          const page = (q: string) => `${base}/api/v1/admin/reports?${q}`;
          return send(200, fixture('admin_reports.json'), {
            link: `<${page('limit=200&max_id=3')}>; rel="next", <${page('limit=200&min_id=3')}>; rel="prev"`
          });
        }
        case 'GET /api/v1/admin/domain_blocks':
          return send(200, fixture('admin_domain_blocks.json'));
        default:
          return send(404, '{"error":"Record not found"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    requests,
    storm: (count, resetMs, retryAfter) => {
      storm = { count, resetMs, retryAfter };
    },
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    }
  };
}
