import { createSecureContext, type SecureContext } from 'node:tls';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import selfsigned from 'selfsigned';
import { sendJson, sendText } from '../http.ts';
import { issue, type Ca } from '../tls.ts';

/**
 * The ways real peers fail, as per-host behaviours. A behaviour is what the host does to a crawler;
 * `OUTCOME` is the `outcome` (PRODUCT.md) a careful crawler should record for it.
 */
export const OUTCOME = {
  ok: 'ok',
  // Connection level: the whole host.
  refused: 'unreachable',
  timeout: 'timeout',
  slow_headers: 'timeout',
  slow_drip: 'timeout',
  tls_self_signed: 'tls_error',
  tls_expired: 'tls_error',
  tls_wrong_host: 'tls_error',
  // HTTP level: every path but robots.txt.
  html_login: 'not_json',
  html_challenge: 'http_error',
  http_401: 'http_error',
  http_403: 'http_error',
  http_404: 'http_error',
  gone: 'gone',
  rate_limited: 'http_error',
  http_500: 'http_error',
  http_503: 'http_error',
  // Discovery (/.well-known/nodeinfo) redirects.
  redirect_same_host: 'ok',
  redirect_cross_host: 'redirect_refused',
  redirect_loop: 'redirect_refused',
  redirect_loopback: 'refused_address',
  redirect_ip_literal: 'refused_address',
  redirect_http: 'redirect_refused',
  // The NodeInfo document itself.
  oversized: 'too_large',
  gzip_bomb: 'too_large',
  not_json: 'not_json',
  invalid_document: 'invalid',
  // Hostile documents (issue 14): nesting that overflows a recursive walk, text a database refuses,
  // strings meant to bloat what is stored, and NodeInfo links that lead the crawler elsewhere.
  deep_links: 'invalid',
  deep_metadata: 'invalid',
  lone_surrogate: 'ok',
  huge_strings: 'ok',
  nodeinfo_other_host: 'redirect_refused',
  nodeinfo_other_port: 'redirect_refused',
  // Numbers that lie: the document is fine, the values are suspect.
  active_gt_total: 'ok',
  negative_numbers: 'ok',
  huge_numbers: 'ok',
  jumps: 'ok',
  // Consent.
  robots_disallow_all: 'robots_disallowed',
  robots_disallow_fedipulse: 'robots_disallowed'
} as const;

export type Behaviour = keyof typeof OUTCOME;
export type Outcome = (typeof OUTCOME)[Behaviour];
export const BEHAVIOURS = Object.keys(OUTCOME) as Behaviour[];
export const FAILURES = BEHAVIOURS.filter((b) => b !== 'ok');

/** Relative frequency among failing peers (dead and unreachable hosts dominate real crawls). */
export const FAILURE_WEIGHTS: readonly (readonly [Behaviour, number])[] = [
  ['refused', 18],
  ['timeout', 5],
  ['slow_headers', 3],
  ['slow_drip', 2],
  ['tls_self_signed', 3],
  ['tls_expired', 6],
  ['tls_wrong_host', 3],
  ['html_login', 3],
  ['html_challenge', 4],
  ['http_401', 2],
  ['http_403', 3],
  ['http_404', 6],
  ['gone', 4],
  ['rate_limited', 3],
  ['http_500', 4],
  ['http_503', 5],
  ['redirect_same_host', 3],
  ['redirect_cross_host', 2],
  ['redirect_loop', 1],
  ['redirect_loopback', 1],
  ['redirect_ip_literal', 1],
  ['redirect_http', 1],
  ['oversized', 1],
  ['gzip_bomb', 1],
  ['not_json', 2],
  ['invalid_document', 2],
  ['active_gt_total', 3],
  ['negative_numbers', 1],
  ['huge_numbers', 1],
  ['jumps', 2],
  ['robots_disallow_all', 3],
  ['robots_disallow_fedipulse', 1]
];

export const CONNECTION_LEVEL = new Set<Behaviour>([
  'refused',
  'timeout',
  'slow_headers',
  'slow_drip',
  'tls_self_signed',
  'tls_expired',
  'tls_wrong_host'
]);
export const HTTP_LEVEL = new Set<Behaviour>([
  'html_login',
  'html_challenge',
  'http_401',
  'http_403',
  'http_404',
  'gone',
  'rate_limited',
  'http_500',
  'http_503'
]);
export const LYING = new Set<Behaviour>(['active_gt_total', 'negative_numbers', 'huge_numbers', 'jumps']);
export const DOCUMENT_LEVEL = new Set<Behaviour>([
  'oversized',
  'gzip_bomb',
  'not_json',
  'invalid_document',
  'deep_metadata',
  'lone_surrogate',
  'huge_strings'
]);

/** Levels of nesting in the hostile documents: ~400 KB (links) and ~800 KB (metadata), under the 1 MiB cap. */
export const HOSTILE_DEPTH = 200_000;
let deepLinks: string | undefined;
let deepMetadata: string | undefined;

/** A discovery document whose `links` is an array nested HOSTILE_DEPTH levels deep (built once). */
export function deepLinksDocument(): string {
  deepLinks ??= `{"links":${'['.repeat(HOSTILE_DEPTH)}${']'.repeat(HOSTILE_DEPTH)}}`;
  return deepLinks;
}

/** A NodeInfo document, valid but for `metadata`: objects and arrays nested HOSTILE_DEPTH levels deep. */
export function deepMetadataDocument(): string {
  deepMetadata ??=
    '{"version":"2.0","software":{"name":"mastodon","version":"4.3.8"},"protocols":["activitypub"],' +
    '"services":{"outbound":[],"inbound":[]},"usage":{"users":{"total":12}},"openRegistrations":false,' +
    `"metadata":${'{"m":['.repeat(HOSTILE_DEPTH / 2)}${']}'.repeat(HOSTILE_DEPTH / 2)}}`;
  return deepMetadata;
}

/** Characters of the bloating string (a quirk quoting it whole would store it). */
export const HUGE_STRING_CHARS = 300_000;

/** Thrown from certOverride: the TLS handshake is aborted and the socket closed, as a dead host does. */
export class RefuseConnection extends Error {}

/** Shared bad certificates for the TLS failures, made once on first use. */
export class BadCertificates {
  private readonly made = new Map<string, Promise<SecureContext>>();
  private readonly ca: Ca;
  private readonly zones: string[];
  constructor(ca: Ca, zones: string[]) {
    this.ca = ca;
    this.zones = zones;
  }
  get(kind: 'tls_self_signed' | 'tls_expired' | 'tls_wrong_host'): Promise<SecureContext> {
    let ctx = this.made.get(kind);
    if (!ctx) {
      ctx = this.make(kind);
      this.made.set(kind, ctx);
    }
    return ctx;
  }
  private async make(kind: 'tls_self_signed' | 'tls_expired' | 'tls_wrong_host'): Promise<SecureContext> {
    const names = this.zones.flatMap((z) => [`*.${z}`, z]);
    const day = 24 * 3600 * 1000;
    if (kind === 'tls_expired') {
      // Signed by the trusted CA, right names, but it ran out (the classic forgotten renewal).
      const { cert, key } = await issue(
        this.ca,
        names,
        new Date(Date.now() - 400 * day),
        new Date(Date.now() - 10 * day)
      );
      return createSecureContext({ cert, key });
    }
    if (kind === 'tls_wrong_host') {
      const { cert, key } = await issue(this.ca, ['default.hosting.invalid', '*.hosting.invalid']);
      return createSecureContext({ cert, key });
    }
    const pems = await selfsigned.generate([{ name: 'commonName', value: names[0] }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) }]
    });
    return createSecureContext({ cert: pems.cert, key: pems.private });
  }
}

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<link rel="stylesheet" href="/css/app.css"></head>
<body><main class="login"><h1>Sign in</h1>
<form method="POST" action="/login"><input type="hidden" name="_token" value="x1y2z3">
<label>Email <input type="email" name="email"></label><label>Password <input type="password" name="password"></label>
<button type="submit">Login</button></form></main></body></html>
`;

const CHALLENGE_PAGE = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body><div class="main-wrapper" role="main"><div class="main-content"><noscript><div class="h2">
<span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};}());</script></body></html>
`;

const NGINX_503 = `<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

/** Answer a request on a host whose behaviour fails at the HTTP level. */
export function sendHttpFailure(res: ServerResponse, b: Behaviour, now: Date): void {
  switch (b) {
    case 'html_login':
      return sendText(res, 200, LOGIN_PAGE, 'text/html; charset=UTF-8');
    case 'html_challenge':
      return sendText(res, 403, CHALLENGE_PAGE, 'text/html; charset=UTF-8', {
        server: 'cloudflare',
        'cf-mitigated': 'challenge',
        'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate'
      });
    case 'http_401':
      return sendJson(res, 401, { error: 'This API requires an authenticated user' });
    case 'http_403':
      return sendText(res, 403, '<html><body><h1>403 Forbidden</h1></body></html>', 'text/html');
    case 'http_404':
      return sendJson(res, 404, { error: 'Record not found' });
    case 'gone':
      return sendText(res, 410, 'This server has shut down. Thank you for everything.\n');
    case 'rate_limited': {
      // Mastodon itself sends no Retry-After; the proxies in front of it do.
      const reset = new Date(Math.ceil(now.getTime() / 300_000) * 300_000);
      return sendJson(
        res,
        429,
        { error: 'Too many requests' },
        {
          'retry-after': 3600,
          'x-ratelimit-limit': 300,
          'x-ratelimit-remaining': 0,
          'x-ratelimit-reset': reset.toISOString()
        }
      );
    }
    case 'http_500':
      return sendJson(res, 500, { error: "We're sorry, but something went wrong on our end." });
    case 'http_503':
      return sendText(res, 503, NGINX_503, 'text/html', { server: 'nginx' });
    default:
      throw new Error(`${b} is not an HTTP-level failure`);
  }
}

/** Keeps the request open without an answer; the connection closes when the client gives up. */
export function neverAnswer(res: ServerResponse): void {
  res.socket?.setTimeout(0);
}

/** Answers only after `ms` (longer than any sane header timeout). */
export function answerLate(res: ServerResponse, ms: number, answer: () => void): void {
  const t = setTimeout(answer, ms);
  t.unref();
  res.on('close', () => clearTimeout(t));
}

/** A 200 JSON answer that trickles one byte at a time, forever valid-looking, never finishing soon. */
export function slowDrip(res: ServerResponse, body: string, everyMs = 500): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  let i = 0;
  const t = setInterval(() => {
    if (res.destroyed) return clearInterval(t);
    res.write(body[i % body.length]);
    i++;
  }, everyMs);
  t.unref();
  res.on('close', () => clearInterval(t));
}

/** Size of the oversized NodeInfo document: far beyond any sane cap. */
export const OVERSIZED_BYTES = 50 * 1024 * 1024;

/**
 * A 50 MB NodeInfo-looking JSON document, streamed in chunks (never held in memory). Half the hosts
 * announce the length up front, half send it chunked so that only a counting reader notices.
 */
export function sendOversized(res: ServerResponse, withLength: boolean): void {
  const head = '{"version":"2.0","software":{"name":"mastodon","version":"4.3.8"},"metadata":{"padding":["';
  const tail =
    '"]},"protocols":["activitypub"],"services":{"inbound":[],"outbound":[]},"usage":{"users":{}},"openRegistrations":false}';
  const chunk = Buffer.from('x'.repeat(64 * 1024));
  const chunks = Math.ceil((OVERSIZED_BYTES - head.length - tail.length) / chunk.length);
  const length = head.length + tail.length + chunks * chunk.length;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    ...(withLength ? { 'content-length': length } : {})
  });
  res.write(head);
  let sent = 0;
  const pump = () => {
    while (sent < chunks) {
      if (res.destroyed) return;
      sent++;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end(tail);
  };
  pump();
}

/** Bytes the gzip bomb inflates to. */
export const GZIP_BOMB_INFLATED = 512 * 1024 * 1024;
let bomb: Promise<Buffer> | undefined;

/** A few hundred KB of gzip that inflates to 512 MB of JSON-looking whitespace; built once, lazily. */
export function gzipBomb(): Promise<Buffer> {
  bomb ??= new Promise<Buffer>((resolve, reject) => {
    const gz = createGzip({ level: 9 });
    const out: Buffer[] = [];
    gz.on('data', (c: Buffer) => out.push(c));
    gz.on('end', () => resolve(Buffer.concat(out)));
    gz.on('error', reject);
    const src = new PassThrough();
    src.pipe(gz);
    const head = '{"version":"2.0","metadata":{"padding":"';
    const block = Buffer.alloc(1024 * 1024, 0x20);
    src.write(head);
    let n = 0;
    const pump = () => {
      while (n < GZIP_BOMB_INFLATED / block.length) {
        n++;
        if (!src.write(block)) return void src.once('drain', pump);
      }
      src.end('"}}');
    };
    pump();
  });
  return bomb;
}

export async function sendGzipBomb(res: ServerResponse): Promise<void> {
  const body = await gzipBomb();
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-encoding': 'gzip',
    'content-length': body.length
  });
  res.end(body);
}

/** JSON content type, body that is not JSON (a PHP warning before the JSON, or a truncated document). */
export function sendNotJson(res: ServerResponse, variant: number): void {
  const body =
    variant < 0.5
      ? '<br />\n<b>Warning</b>:  Undefined array key "users" in <b>/var/www/html/nodeinfo.php</b> on line <b>42</b><br />\n{"version":"2.0"}'
      : '{"version":"2.0","software":{"name":"mastodon","version":"4.3.8"},"protocols":["activitypub"],"usage":{"users":{"tot';
  sendText(res, 200, body, 'application/json; charset=utf-8');
}
