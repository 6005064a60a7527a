import { createRestAPIClient, MastoHttpError, type mastodon } from 'masto';
import { request, type Dispatcher } from 'undici';
import type { CollectorContext } from '../context.ts';
import { errorText, linkTarget, parseRateLimit, parseRetryAfter } from './parse.ts';
import { Pacer, bucketFor, sleep, type Wait } from './pacing.ts';

/**
 * The only way fedipulse talks to the own server. Public and admin JSON go through masto; masto's fetch
 * takes our undici dispatcher via requestInit. The dispatcher is wrapped so that every answer, whichever
 * client asked, reports its X-RateLimit-* headers and status to the pacer (masto hides response headers).
 * The token is only ever attached to requests for the configured origin, and redirects are never followed.
 */

export type FailureKind =
  'http' | 'dns' | 'connect' | 'tls' | 'timeout' | 'redirect' | 'not_json' | 'aborted';

export class ApiError extends Error {
  readonly kind: FailureKind;
  readonly status: number | null;
  /** Mastodon's own `error` text, e.g. "This action is outside the authorized scopes". */
  readonly serverMessage: string | null;
  constructor(
    kind: FailureKind,
    message: string,
    status: number | null = null,
    serverMessage: string | null = null
  ) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.serverMessage = serverMessage;
  }
  /** Nothing can reach the server: no point trying the other endpoints. */
  get unreachable(): boolean {
    return this.kind === 'dns' || this.kind === 'connect' || this.kind === 'tls' || this.kind === 'timeout';
  }
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  url: URL;
}

type Auth = 'prefer' | 'none' | 'required';
const MAX_BODY = 64 << 20; // a peers list of 100 000 names is ~2 MB; anything near this is not an API answer
const MAX_429 = 6;

/** masto camelCases keys; our parsers speak Mastodon's wire format (the fixture files), so undo it. */
function wireKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wireKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = wireKeys(x);
    return out;
  }
  return v;
}

function networkFailure(err: unknown, host: string): ApiError {
  let e = err as { code?: string; name?: string; message?: string; cause?: unknown };
  while (e && !e.code && e.cause) e = e.cause as typeof e;
  const code = e?.code ?? e?.name ?? '';
  const detail = e?.message ?? String(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME')
    return new ApiError(
      'dns',
      `cannot resolve ${host} (${code}); check FEDIPULSE_INSTANCE_URL and the network`
    );
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(code))
    return new ApiError(
      'tls',
      `the TLS certificate of ${host} is not trusted (${code}); fix the certificate, or set NODE_EXTRA_CA_CERTS to its CA`
    );
  if (/TIMEOUT/i.test(code))
    return new ApiError('timeout', `${host} did not answer in time (${code}); is the server up?`);
  if (code === 'AbortError') return new ApiError('aborted', 'stopped before the request finished');
  return new ApiError(
    'connect',
    `cannot connect to ${host} (${code || detail}); is the server up and FEDIPULSE_INSTANCE_URL right?`
  );
}

export class OwnClient {
  readonly origin: string;
  readonly host: string;
  readonly pacer: Pacer;
  /** Set when the server rejected the token (401): public endpoints then go on without it. */
  tokenRejected: string | null = null;
  private readonly ctx: CollectorContext;
  private readonly token: string | null;
  private readonly dispatcher: Dispatcher;
  private readonly withToken: mastodon.rest.Client | null;
  private readonly anonymous: mastodon.rest.Client;
  private last: { status: number; headers: Record<string, string | string[] | undefined> } | null = null;

  constructor(ctx: CollectorContext, token: string | null, pacer?: Pacer) {
    this.ctx = ctx;
    const base = new URL(ctx.config.instanceUrl!);
    this.origin = base.origin;
    this.host = base.host;
    this.token = token;
    // Rate limits run on the server's wall clock, whatever clock the run keeps (the demo simulates time)
    this.pacer = pacer ?? new Pacer({ now: () => new Date() });
    const observe = (status: number, headers: Record<string, string | string[] | undefined>) => {
      this.last = { status, headers };
      this.pacer.observe(parseRateLimit(headers));
    };
    this.dispatcher = ctx.ownDispatcher.compose(
      (dispatch) => (opts, handler) =>
        dispatch(opts, {
          onRequestStart: (c, x) => handler.onRequestStart?.(c, x),
          onRequestUpgrade: (c, s, h, so) => handler.onRequestUpgrade?.(c, s, h, so),
          onResponseStart: (c, status, headers, text) => {
            observe(status, headers as Record<string, string | string[] | undefined>);
            return handler.onResponseStart?.(c, status, headers, text);
          },
          onResponseData: (c, d) => handler.onResponseData?.(c, d),
          onResponseEnd: (c, t) => handler.onResponseEnd?.(c, t),
          onResponseError: (c, e) => handler.onResponseError?.(c, e)
        })
    );
    const make = (accessToken?: string) =>
      createRestAPIClient({
        url: this.origin,
        accessToken,
        timeout: 60_000,
        requestInit: {
          // undici's fetch option; masto passes requestInit through to fetch untouched
          dispatcher: this.dispatcher,
          redirect: 'manual',
          headers: { 'user-agent': ctx.userAgent, accept: 'application/json' }
        } as RequestInit
      });
    this.withToken = token ? make(token) : null;
    this.anonymous = make();
  }

  get hasToken(): boolean {
    return this.token !== null && this.tokenRejected === null;
  }

  /**
   * One masto call, paced and retried on 429. `path` is what masto will request (for the paging bucket and
   * for messages). Public endpoints ('prefer') send the token when there is one, since servers in limited
   * federation mode require it, and go on anonymously once the server has rejected it.
   */
  async masto(
    path: string,
    auth: Auth,
    fn: (m: mastodon.rest.Client) => PromiseLike<unknown>
  ): Promise<Answer> {
    const url = new URL(path, this.origin);
    for (;;) {
      const client = auth !== 'none' && this.hasToken ? this.withToken! : this.anonymous;
      if (auth === 'required' && client === this.anonymous) {
        throw new ApiError('http', this.tokenRejected ?? 'no FEDIPULSE_TOKEN', 401, this.tokenRejected);
      }
      const answer = await this.paced(url, async () => {
        this.last = null;
        const seen = () => this.last; // set by the dispatcher while fn runs
        try {
          const data = await fn(client);
          return { status: seen()?.status ?? 200, body: wireKeys(data), headers: seen()?.headers ?? {}, url };
        } catch (err) {
          if (err instanceof MastoHttpError) {
            const res = (err as { cause?: unknown }).cause;
            const headers =
              res instanceof Response ? Object.fromEntries(res.headers) : (seen()?.headers ?? {});
            return { status: err.statusCode, body: { error: err.message }, headers, url };
          }
          // masto cannot read a body without a JSON content type (Rails' `head 404`, redirects): the
          // dispatcher saw the real status
          const last = seen();
          if (last && last.status >= 300) {
            return { status: last.status, body: null, headers: last.headers, url };
          }
          throw err;
        }
      });
      if (answer.status === 401 && client === this.withToken && auth === 'prefer') {
        this.tokenRejected = errorText(answer.body) ?? 'The access token is invalid';
        continue; // the rest of the public data does not need the token
      }
      return answer;
    }
  }

  /** A GET through undici (NodeInfo, and Link-paginated admin lists whose next URL masto would hide). */
  async get(pathOrUrl: string | URL, auth: Auth): Promise<Answer> {
    const url = new URL(pathOrUrl, this.origin);
    if (url.origin !== this.origin) {
      throw new ApiError(
        'redirect',
        `refusing to follow a link to ${url.origin}: only ${this.origin} is collected`
      );
    }
    if (auth === 'required' && !this.hasToken) {
      throw new ApiError('http', this.tokenRejected ?? 'no FEDIPULSE_TOKEN', 401, this.tokenRejected);
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.ctx.userAgent };
    if (auth !== 'none' && this.hasToken) headers.authorization = `Bearer ${this.token}`;
    return this.paced(url, async () => {
      const res = await request(url, { dispatcher: this.dispatcher, method: 'GET', headers });
      const text = await readLimited(res.body);
      let body: unknown = null;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          if (res.statusCode < 300)
            throw new ApiError(
              'not_json',
              `${url.pathname} did not answer with JSON (HTTP ${res.statusCode})`,
              res.statusCode
            );
        }
      }
      return { status: res.statusCode, body, headers: res.headers, url };
    });
  }

  /** Every page of an admin list, following Link rel="next" on the own origin only. */
  async *pages(
    path: string,
    query: Record<string, string>
  ): AsyncGenerator<{ items: unknown[]; page: number }> {
    let next: URL | null = new URL(path, this.origin);
    for (const [k, v] of Object.entries(query)) next.searchParams.set(k, v);
    const seen = new Set<string>();
    for (let page = 1; next; page++) {
      if (seen.has(next.href)) break; // a server pointing "next" at a page we read would loop forever
      seen.add(next.href);
      const a = await this.get(next, 'required');
      if (a.status !== 200) throw httpFailure(a, this.host);
      const items = Array.isArray(a.body) ? a.body : [];
      yield { items, page };
      const link = a.headers.link;
      next = items.length
        ? linkTarget(Array.isArray(link) ? link.join(', ') : link, 'next', a.url.href)
        : null;
      if (next && next.origin !== this.origin) next = null;
    }
  }

  private async paced(url: URL, send: () => Promise<Answer>): Promise<Answer> {
    const bucket = bucketFor(url);
    let tooMany = 0;
    let serverErrors = 0;
    for (;;) {
      await this.wait(this.pacer.nextWait(bucket), url);
      if (this.ctx.signal.aborted) throw new ApiError('aborted', 'stopped before the request was sent');
      this.pacer.sentNow(bucket);
      let a: Answer;
      try {
        a = await send();
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw networkFailure(err, this.host);
      }
      if (a.status === 429 && ++tooMany <= MAX_429) {
        const ra = a.headers['retry-after'];
        this.pacer.observe(parseRateLimit(a.headers));
        await this.wait(
          this.pacer.after429(parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, new Date())),
          url
        );
        continue;
      }
      if ((a.status === 502 || a.status === 503 || a.status === 504) && ++serverErrors <= 2) {
        await this.wait(
          { ms: 2000 * serverErrors, reason: `HTTP ${a.status} from the server, trying again` },
          url
        );
        continue;
      }
      return a;
    }
  }

  private async wait(w: Wait, url: URL): Promise<void> {
    if (w.ms <= 0) return;
    const secs = Math.ceil(w.ms / 1000);
    this.ctx.progress.status(`instance: waiting ${secs} s before ${url.pathname} — ${w.reason}`);
    await sleep(w.ms, this.ctx.signal);
    this.pacer.waited(w.ms);
  }
}

async function readLimited(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy?: () => void }
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > MAX_BODY) {
      body.destroy?.();
      throw new ApiError('not_json', `answer larger than ${MAX_BODY >> 20} MB`);
    }
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTTP answer that is not a success, as an error whose message says what happened. */
export function httpFailure(a: Answer, host: string): ApiError {
  const said = errorText(a.body);
  if (a.status >= 300 && a.status < 400) {
    const loc = a.headers.location;
    let where = '';
    try {
      where = loc ? ` to ${new URL(String(loc), a.url).origin}` : '';
    } catch {
      /* an unreadable Location still is a redirect */
    }
    return new ApiError(
      'redirect',
      `${host} redirected ${a.url.pathname}${where}; set FEDIPULSE_INSTANCE_URL to the server's final address (the token is never sent elsewhere)`,
      a.status
    );
  }
  return new ApiError(
    'http',
    `HTTP ${a.status}${said ? ` "${said}"` : ''} for ${a.url.pathname}`,
    a.status,
    said
  );
}
