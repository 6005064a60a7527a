import { isIP } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { request, type Dispatcher } from 'undici';
import { jsonDepth, MAX_JSON_DEPTH } from '../json.ts';
import { RefusedAddressError } from './dispatcher.ts';

/** Why a fetch produced no usable HTTP response (PRODUCT.md outcome vocabulary, transport part). */
export type FetchFailure =
  'unreachable' | 'timeout' | 'tls_error' | 'too_large' | 'redirect_refused' | 'refused_address' | 'invalid';

export interface SafeResponse {
  ok: true;
  status: number;
  headers: Record<string, string>;
  /** Decompressed body, never larger than maxBytes. */
  body: Buffer;
  /** Where the body finally came from (after redirects). */
  url: URL;
  redirects: number;
}

export interface SafeFailure {
  ok: false;
  outcome: FetchFailure;
  error: string;
  url: URL;
}

export type SafeResult = SafeResponse | SafeFailure;

/**
 * Redirect policy (docs/crawler.md): a Location must be https on the default port, name a host and not loop;
 * only same-site redirects (the same host, or its www./bare twin) are followed, except where the caller allows
 * other hosts (robots.txt, as RFC 9309 asks). A Location naming an IP address is refused as an address
 * (refused_address: IP-literal hosts are never crawled). Every hop goes through the peer dispatcher again,
 * so the public-address check holds for every host reached.
 */
export function redirectVerdict(
  from: URL,
  to: URL,
  crossHost: boolean
): { outcome: 'redirect_refused' | 'refused_address'; reason: string } | null {
  const host = to.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return { outcome: 'refused_address', reason: `redirect to an IP address (${host})` };
  const refuse = (reason: string) => ({ outcome: 'redirect_refused' as const, reason });
  if (to.protocol !== 'https:') return refuse(`redirect to ${to.protocol}// (only https is followed)`);
  if (to.port !== '') return refuse(`redirect to a non-default port (${to.port})`);
  if (to.username || to.password) return refuse('redirect with credentials in the URL');
  if (!crossHost && !sameSite(from.hostname, to.hostname))
    return refuse(`redirect to another host (${to.hostname})`);
  return null;
}

/** The same host, or its www. twin. */
export function sameSite(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return x === y || x === `www.${y}` || y === `www.${x}`;
}

export interface SafeFetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  /** Cap on the body, compressed and decompressed. */
  maxBytes: number;
  /** Whole request including redirects and body: a slow drip cannot hold a worker longer than this. */
  timeoutMs: number;
  maxRedirects?: number;
  /** Follow redirects to other hosts (still https, named, checked at connect): robots.txt only. */
  crossHost?: boolean;
  /** Refuses a redirect to a host we must not visit (opt-out list); returns a reason or null. */
  hostVeto?: (host: string) => string | null;
  /** Serialises requests per host (politeness); called for every hop. */
  gate?: <T>(host: string, fn: () => Promise<T>) => Promise<T>;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);
const zstd = (zlib as unknown as { zstdDecompress?: typeof zlib.gunzip }).zstdDecompress;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|EPROTO|HOSTNAME_MISMATCH|ERR_TLS)/;

/** Maps a thrown error (or its causes) to an outcome. */
export function classifyError(err: unknown): FetchFailure {
  const seen = new Set<unknown>();
  let e: unknown = err;
  let outcome: FetchFailure = 'unreachable';
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const x = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    const code = typeof x.code === 'string' ? x.code : '';
    const msg = typeof x.message === 'string' ? x.message : '';
    if (e instanceof RefusedAddressError || code === 'E_REFUSED_ADDRESS') return 'refused_address';
    if (
      x.name === 'TimeoutError' ||
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'ETIMEDOUT' ||
      code === 'ABORT_ERR'
    )
      outcome = 'timeout';
    // By code only: "socket disconnected before secure TLS connection" is a dead host, not a TLS problem.
    else if (TLS_CODES.test(code) || /^(unable to verify|self[- ]signed|certificate )/i.test(msg))
      return 'tls_error';
    e = x.cause;
  }
  return outcome;
}

function message(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const parts = [e?.code, e?.message, e?.cause?.code, e?.cause?.message].filter(Boolean);
  return [...new Set(parts)].join(': ').slice(0, 300) || String(err);
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

class TooLarge extends Error {}

/** Drops a body we will not read; the abort it causes is expected, not an error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

async function decode(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const codings = encoding
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'identity');
  let out = body;
  // Codings are listed in the order applied, so undo them last-first; maxOutputLength stops bombs early.
  for (const c of codings.reverse()) {
    const o = { maxOutputLength: maxBytes };
    try {
      if (c === 'gzip' || c === 'x-gzip') out = await gunzip(out, o);
      else if (c === 'br') out = await brotli(out, o);
      else if (c === 'deflate') out = await inflate(out, o).catch(() => inflateRaw(out, o));
      else if (c === 'zstd' && zstd) out = await promisify(zstd)(out, o);
      else throw new Error(`unsupported content-encoding ${c}`);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new TooLarge(`body larger than ${maxBytes} bytes after ${c} decompression`);
      }
      throw err;
    }
    if (out.length > maxBytes) throw new TooLarge(`body larger than ${maxBytes} bytes after decompression`);
  }
  return out;
}

/**
 * GET with every guard a hostile peer calls for: whole-request deadline, body cap before and after
 * decompression, manual redirects under redirectVerdict, and error classification into outcomes.
 * Any HTTP status is a response (the caller decides what 404 or 410 mean).
 */
export async function safeGet(start: URL, o: SafeFetchOptions): Promise<SafeResult> {
  const deadline = AbortSignal.timeout(o.timeoutMs);
  const maxRedirects = o.maxRedirects ?? 5;
  const visited = new Set<string>();
  let url = start;
  for (let hop = 0; ; hop++) {
    visited.add(url.href);
    const run = async (): Promise<SafeResult | { redirect: URL }> => {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: 'GET',
          dispatcher: o.dispatcher,
          signal: deadline,
          headers: {
            accept: 'application/json',
            'accept-encoding': 'gzip, deflate, br',
            'user-agent': o.userAgent
          }
        });
      } catch (err) {
        return {
          ok: false,
          outcome: classifyError(deadline.aborted ? deadline.reason : err),
          error: message(err),
          url
        };
      }
      const headers = flatHeaders(res.headers);
      if (REDIRECTS.has(res.statusCode) && headers.location) {
        discard(res.body);
        let to: URL;
        try {
          to = new URL(headers.location, url);
        } catch {
          return { ok: false, outcome: 'redirect_refused', error: 'unparsable Location', url };
        }
        return { redirect: to };
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxBytes) {
        discard(res.body);
        return { ok: false, outcome: 'too_large', error: `content-length ${declared} > ${o.maxBytes}`, url };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > o.maxBytes) {
            discard(res.body);
            return { ok: false, outcome: 'too_large', error: `body over ${o.maxBytes} bytes`, url };
          }
          chunks.push(chunk as Buffer);
        }
      } catch (err) {
        return {
          ok: false,
          outcome: classifyError(deadline.aborted ? deadline.reason : err),
          error: message(err),
          url
        };
      }
      let body: Buffer = Buffer.concat(chunks, size);
      const enc = headers['content-encoding'];
      if (enc && body.length > 0) {
        try {
          body = await decode(body, enc, o.maxBytes);
        } catch (err) {
          if (err instanceof TooLarge) return { ok: false, outcome: 'too_large', error: err.message, url };
          return { ok: false, outcome: 'invalid', error: `undecodable ${enc} body: ${message(err)}`, url };
        }
      }
      return { ok: true, status: res.statusCode, headers, body, url, redirects: hop };
    };
    const host = url.hostname;
    const out = o.gate ? await o.gate(host, run) : await run();
    if (!('redirect' in out)) return out;
    const to = out.redirect;
    if (hop + 1 > maxRedirects) {
      return { ok: false, outcome: 'redirect_refused', error: `more than ${maxRedirects} redirects`, url };
    }
    if (visited.has(to.href)) return { ok: false, outcome: 'redirect_refused', error: 'redirect loop', url };
    const verdict = redirectVerdict(url, to, o.crossHost ?? false);
    if (verdict) return { ok: false, ...verdict, error: `${verdict.reason}: ${to.href}`.slice(0, 300), url };
    const veto = o.hostVeto?.(to.hostname);
    if (veto)
      return { ok: false, outcome: 'redirect_refused', error: `${veto}: ${to.href}`.slice(0, 300), url };
    url = to;
  }
}

/**
 * JSON from a response body, or why not: HTML, challenge pages and junk are not_json; JSON nested deeper than
 * MAX_JSON_DEPTH is refused before it is parsed (`tooDeep`: the crawler records `invalid`), so no later walk
 * of a peer's document can overflow the stack.
 */
export function readJson(
  body: Buffer
): { ok: true; value: unknown; text: string } | { ok: false; error: string; tooDeep?: true } {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const t = text.trimStart();
  if (!(t.startsWith('{') || t.startsWith('['))) {
    const head = t.slice(0, 60).replace(/\s+/g, ' ');
    return { ok: false, error: head ? `not JSON: starts with "${head}"` : 'empty body' };
  }
  if (jsonDepth(t, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    return { ok: false, error: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, tooDeep: true };
  try {
    return { ok: true, value: JSON.parse(t) as unknown, text: t.trimEnd() };
  } catch (err) {
    return { ok: false, error: `malformed JSON: ${(err as Error).message.slice(0, 120)}` };
  }
}

/** Retry-After as a date (seconds or HTTP date), capped so a hostile value cannot park a host for years. */
export function retryAfter(value: string | undefined, now: Date, capMs = 7 * 86_400_000): Date | null {
  if (!value) return null;
  const secs = Number(value.trim());
  let at: number;
  if (Number.isFinite(secs) && secs >= 0) at = now.getTime() + secs * 1000;
  else {
    const d = Date.parse(value);
    if (Number.isNaN(d)) return null;
    at = d;
  }
  return new Date(Math.min(Math.max(at, now.getTime()), now.getTime() + capMs));
}
