import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a simulated host sees of a request: the parsed URL and the whole body (small by design). */
export interface SimRequest {
  raw: IncomingMessage;
  method: string;
  host: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
  secure: boolean;
}

export type HostHandler = (req: SimRequest, res: ServerResponse) => void | Promise<void>;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {}
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string | number> = {}
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers
  });
  res.end(text);
}

/** Parses a form or JSON body the way Rails does for the params Mastodon reads (keys[]=a&keys[]=b). */
export function parseParams(req: SimRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (k: string, v: string) => {
    if (k.endsWith('[]')) {
      const key = k.slice(0, -2);
      const cur = out[key];
      out[key] = Array.isArray(cur) ? [...cur, v] : [v];
    } else out[k] = v;
  };
  for (const [k, v] of req.url.searchParams) add(k, v);
  const type = String(req.headers['content-type'] ?? '');
  if (req.body.length > 0) {
    if (type.includes('application/json')) {
      try {
        const json = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
        for (const [k, v] of Object.entries(json)) {
          if (Array.isArray(v)) out[k] = v.map(String);
          else if (v && typeof v === 'object') {
            for (const [k2, v2] of Object.entries(v)) out[`${k}[${k2}]`] = String(v2);
          } else if (v !== undefined && v !== null) out[k] = String(v);
        }
      } catch {
        /* a malformed body reads as no params, as in Rails */
      }
    } else {
      for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) add(k, v);
    }
  }
  return out;
}
