import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parseParams, sendJson, sendText, type HostHandler, type SimRequest } from '../http.ts';

/**
 * The simulated own server's OAuth 2 provider, shaped like Mastodon's (Doorkeeper): app registration
 * (POST /api/v1/apps), an authorisation page where a test user picks an account, the token endpoint with
 * PKCE (S256 only, as Mastodon), revocation, and verify_credentials with the account's `role`.
 * Everything is in memory: a restarted simulator forgets apps and tokens, as a wiped server would.
 */
export interface SimRole {
  id: string;
  name: string;
  color: string;
  /** The role's own permission bits (Mastodon's UserRole::FLAGS), as a decimal string. */
  permissions: string;
  highlighted: boolean;
}

export interface SimAccount {
  id: string;
  username: string;
  displayName: string;
  role: SimRole;
  createdAt: string;
}

/** Mastodon's UserRole::FLAGS (app/models/user_role.rb), the bits the roles below use. */
export const FLAGS = {
  administrator: 1n << 0n,
  viewAuditLog: 1n << 2n,
  viewDashboard: 1n << 3n,
  manageReports: 1n << 4n,
  manageTaxonomies: 1n << 8n,
  manageUsers: 1n << 10n,
  manageCustomEmojis: 1n << 14n,
  inviteUsers: 1n << 16n,
  /** Flags::ALL: the 20 flags of Mastodon 4.x, administrator (1 << 0) to delete_user_data (1 << 19). */
  all: (1n << 20n) - 1n
} as const;

/** Mastodon's built-in roles (ids and permission bits as a fresh 4.x server seeds them). */
export const ROLES: Record<'everyone' | 'moderator' | 'admin' | 'owner', SimRole> = {
  everyone: { id: '-99', name: '', color: '', permissions: '65536', highlighted: false },
  moderator: { id: '1', name: 'Moderator', color: '', permissions: '1308', highlighted: true },
  admin: { id: '2', name: 'Admin', color: '', permissions: '983036', highlighted: true },
  owner: { id: '3', name: 'Owner', color: '', permissions: '1', highlighted: true }
};

/**
 * Roles a co-op made or renamed itself, as Mastodon allows: a name says nothing about what a role may do.
 * "Admin" here is a custom role for the emoji team (no administrator, no view_dashboard: not staff);
 * "Gardener" is the built-in Moderator role renamed (view_dashboard kept: staff).
 */
export const CUSTOM_ROLES: Record<'fakeAdmin' | 'gardener', SimRole> = {
  fakeAdmin: {
    id: '4',
    name: 'Admin',
    color: '#ff0000',
    permissions: String(FLAGS.manageCustomEmojis | FLAGS.inviteUsers),
    highlighted: true
  },
  gardener: { ...ROLES.moderator, name: 'Gardener', color: '#2e7d32' }
};

/**
 * What verify_credentials says: the role's computed permissions, as Mastodon's REST::RoleSerializer gives
 * them (UserRole#computed_permissions: the everyone role's bits added, and every flag for an administrator).
 */
export function computedPermissions(role: SimRole): string {
  const own = BigInt(role.permissions);
  if (role.id === ROLES.everyone.id) return String(own);
  const bits = own | BigInt(ROLES.everyone.permissions);
  return String((bits & FLAGS.administrator) !== 0n ? FLAGS.all : bits);
}

/** Who can sign in on the simulated server: one account per staff role, plain members, and custom roles. */
export const DEFAULT_ACCOUNTS: SimAccount[] = [
  {
    id: '109000000000000001',
    username: 'ada',
    displayName: 'Ada (board, Owner)',
    role: ROLES.owner,
    createdAt: '2023-10-01T00:00:00.000Z'
  },
  {
    id: '109000000000000002',
    username: 'bram',
    displayName: 'Bram (ops, Admin)',
    role: ROLES.admin,
    createdAt: '2023-10-01T00:00:00.000Z'
  },
  {
    id: '109000000000000003',
    username: 'chidi',
    displayName: 'Chidi (Moderator)',
    role: ROLES.moderator,
    createdAt: '2023-10-02T00:00:00.000Z'
  },
  {
    id: '109000000000000004',
    username: 'dana',
    displayName: 'Dana (member)',
    role: ROLES.everyone,
    createdAt: '2023-11-14T00:00:00.000Z'
  },
  {
    id: '109000000000000005',
    username: 'mallory',
    displayName: '<img src=x onerror="alert(1)"><script>alert(2)</script>',
    role: ROLES.everyone,
    createdAt: '2024-02-29T00:00:00.000Z'
  },
  {
    id: '109000000000000006',
    username: 'emil',
    displayName: 'Emil (emoji team, custom role named Admin)',
    role: CUSTOM_ROLES.fakeAdmin,
    createdAt: '2024-05-01T00:00:00.000Z'
  },
  {
    id: '109000000000000007',
    username: 'gwen',
    displayName: 'Gwen (Gardener: the renamed Moderator role)',
    role: CUSTOM_ROLES.gardener,
    createdAt: '2024-05-02T00:00:00.000Z'
  }
];

export interface OAuthProviderOptions {
  domain: string;
  accounts?: SimAccount[];
  /** Existing tokens of the own server that verify_credentials should also accept (token → account id). */
  staticTokens?: Record<string, string>;
  now?: () => Date;
}

interface App {
  id: string;
  name: string;
  website: string | null;
  redirectUris: string[];
  scopes: string[];
  clientId: string;
  clientSecret: string;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  accountId: string;
  challenge: string | null;
  expiresMs: number;
}

interface Token {
  clientId: string | null;
  accountId: string;
  scopes: string[];
  createdMs: number;
}

export interface OAuthProvider {
  handles(req: SimRequest): boolean;
  handle: HostHandler;
  accounts: SimAccount[];
  /** What the provider holds, for tests: registered apps and live tokens. */
  state: { apps: Map<string, App>; tokens: Map<string, Token>; grants: Map<string, Grant> };
}

const PATHS = /^\/(oauth\/(authorize|token|revoke)|api\/v1\/apps|api\/v1\/accounts\/verify_credentials)\/?$/;
const KNOWN_SCOPES = /^(read|write|push|follow|profile|admin:(read|write)(:[a-z_]+)?|(read|write):[a-z_]+)$/;

const rand = (n = 32) => randomBytes(n).toString('base64url');
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

/** A read scope covers its sub-scopes (read → read:accounts), as Mastodon's Doorkeeper config does. */
function scopeAllows(granted: string[], needed: string): boolean {
  return granted.some((g) => g === needed || needed.startsWith(`${g}:`));
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  sendText(
    res,
    status,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><link rel="icon" href="data:,">` +
      `<meta name="viewport" content="width=device-width"><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}` +
      `label{display:block;padding:.4rem;border:1px solid #ccc;border-radius:4px;margin:.3rem 0}button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}</style>` +
      `</head><body>${body}</body></html>`,
    'text/html; charset=utf-8',
    { 'cache-control': 'no-store', 'x-frame-options': 'DENY' }
  );
}

export function createOAuthProvider(opts: OAuthProviderOptions): OAuthProvider {
  const accounts = opts.accounts ?? DEFAULT_ACCOUNTS;
  const now = opts.now ?? (() => new Date());
  const apps = new Map<string, App>(); // by client_id
  const grants = new Map<string, Grant>(); // by code
  const tokens = new Map<string, Token>();
  for (const [token, accountId] of Object.entries(opts.staticTokens ?? {})) {
    tokens.set(token, {
      clientId: null,
      accountId,
      scopes: ['read', 'write', 'follow', 'push'],
      createdMs: 0
    });
  }
  const wallMs = () => Date.now(); // codes expire in real time: the simulated clock may jump by days

  const oauthError = (res: ServerResponse, status: number, error: string, description: string) =>
    sendJson(res, status, { error, error_description: description });

  function registerApp(req: SimRequest, res: ServerResponse) {
    if (req.method !== 'POST') return sendJson(res, 404, { error: 'Record not found' });
    const p = parseParams(req);
    const name = str(p.client_name).trim();
    const redirect = Array.isArray(p.redirect_uris) ? p.redirect_uris : str(p.redirect_uris).split(/\s+/);
    const redirectUris = redirect.map((r) => r.trim()).filter(Boolean);
    const scopes = (str(p.scopes) || 'read').split(/\s+/).filter(Boolean);
    if (!name) return sendJson(res, 422, { error: "Validation failed: Application name can't be blank" });
    if (redirectUris.length === 0)
      return sendJson(res, 422, { error: "Validation failed: Redirect URI can't be blank" });
    for (const r of redirectUris) {
      let ok = r === 'urn:ietf:wg:oauth:2.0:oob';
      try {
        const u = new URL(r);
        ok ||= !u.hash && (u.protocol === 'https:' || u.protocol === 'http:');
      } catch {
        /* not a URI */
      }
      if (!ok)
        return sendJson(res, 422, { error: 'Validation failed: Redirect URI must be an absolute URI.' });
    }
    if (!scopes.every((s) => KNOWN_SCOPES.test(s)))
      return sendJson(res, 422, { error: 'Validation failed: Scopes are not valid' });
    const app: App = {
      id: String(apps.size + 1),
      name,
      website: str(p.website) || null,
      redirectUris,
      scopes,
      clientId: rand(),
      clientSecret: rand()
    };
    apps.set(app.clientId, app);
    sendJson(res, 200, {
      id: app.id,
      name: app.name,
      website: app.website,
      scopes: app.scopes,
      redirect_uri: app.redirectUris.join('\n'),
      redirect_uris: app.redirectUris,
      vapid_key: 'BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      client_secret_expires_at: 0
    });
  }

  /** The authorisation request, checked as Doorkeeper does before anything is shown. */
  function checkAuthorize(
    p: Record<string, string | string[]>
  ):
    | { ok: true; app: App; redirectUri: string; scopes: string[]; state: string; challenge: string | null }
    | { ok: false; status: number; message: string; redirect?: string } {
    const app = apps.get(str(p.client_id));
    if (!app)
      return { ok: false, status: 401, message: 'Client authentication failed due to unknown client.' };
    const redirectUri = str(p.redirect_uri);
    if (!app.redirectUris.includes(redirectUri)) {
      // Never redirect to a URI the app did not register: show the error here instead.
      return { ok: false, status: 400, message: 'The redirect uri included is not valid.' };
    }
    const state = str(p.state);
    const back = (error: string) => {
      const u = new URL(redirectUri);
      u.searchParams.set('error', error);
      if (state) u.searchParams.set('state', state);
      return u.toString();
    };
    if (str(p.response_type) !== 'code')
      return {
        ok: false,
        status: 400,
        message: 'unsupported_response_type',
        redirect: back('unsupported_response_type')
      };
    const scopes = (str(p.scope) || 'read').split(/[\s+]+/).filter(Boolean);
    if (!scopes.every((s) => scopeAllows(app.scopes, s)))
      return { ok: false, status: 400, message: 'invalid_scope', redirect: back('invalid_scope') };
    const challenge = str(p.code_challenge) || null;
    const method = str(p.code_challenge_method) || (challenge ? 'plain' : '');
    if (challenge && (method !== 'S256' || !/^[A-Za-z0-9_-]{43,128}$/.test(challenge)))
      return { ok: false, status: 400, message: 'invalid_request', redirect: back('invalid_request') };
    return { ok: true, app, redirectUri, scopes, state, challenge };
  }

  function authorize(req: SimRequest, res: ServerResponse) {
    const p = parseParams(req);
    const c = checkAuthorize(p);
    if (!c.ok) {
      if (c.redirect) {
        res.writeHead(302, { location: c.redirect, 'cache-control': 'no-store' });
        res.end();
        return;
      }
      return page(
        res,
        c.status,
        'Authorization error',
        `<h1>An error has occurred</h1><p>${esc(c.message)}</p>`
      );
    }
    if (req.method === 'GET') {
      const hidden = [
        'client_id',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
        'code_challenge',
        'code_challenge_method'
      ]
        .map((k) => `<input type="hidden" name="${k}" value="${esc(str(p[k]))}">`)
        .join('');
      const choices = accounts
        .map(
          (a, i) =>
            `<label><input type="radio" name="account_id" value="${esc(a.id)}"${i === 0 ? ' checked' : ''}> ` +
            `@${esc(a.username)}@${esc(opts.domain)} — ${esc(a.displayName)}${a.role.name ? ` [${esc(a.role.name)}]` : ''}</label>`
        )
        .join('');
      return page(
        res,
        200,
        `Authorize ${c.app.name} · ${opts.domain}`,
        `<h1>Sign in to ${esc(opts.domain)}</h1><p>This is the <strong>simulated</strong> server: pick an account (no password).</p>` +
          `<form method="post" action="/oauth/authorize">${hidden}<fieldset><legend>Account</legend>${choices}</fieldset>` +
          `<h2>Authorization required</h2><p><strong>${esc(c.app.name)}</strong> would like to access your account. ` +
          `It asks for: <code>${esc(c.scopes.join(' '))}</code></p>` +
          `<button type="submit" name="decision" value="approve">Authorize</button>` +
          `<button type="submit" name="decision" value="deny">Deny</button></form>`
      );
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method not allowed' });
    const target = new URL(c.redirectUri);
    if (c.state) target.searchParams.set('state', c.state);
    const account = accounts.find((a) => a.id === str(p.account_id));
    if (str(p.decision) !== 'approve' || !account) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set(
        'error_description',
        'The resource owner or authorization server denied the request.'
      );
    } else {
      const code = rand();
      grants.set(code, {
        clientId: c.app.clientId,
        redirectUri: c.redirectUri,
        scopes: c.scopes,
        accountId: account.id,
        challenge: c.challenge,
        expiresMs: wallMs() + 600_000
      });
      target.searchParams.set('code', code);
    }
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
    res.end();
  }

  /** Client credentials from the body or HTTP Basic, as Doorkeeper accepts both. */
  function clientOf(req: SimRequest, p: Record<string, string | string[]>): App | null {
    let id = str(p.client_id);
    let secret = str(p.client_secret);
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const [u, s] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(s ?? '');
    }
    const app = apps.get(id);
    return app && same(secret, app.clientSecret) ? app : null;
  }

  function token(req: SimRequest, res: ServerResponse) {
    if (req.method !== 'POST') return sendJson(res, 404, { error: 'Record not found' });
    const p = parseParams(req);
    const app = clientOf(req, p);
    if (!app)
      return oauthError(
        res,
        401,
        'invalid_client',
        'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.'
      );
    const grantType = str(p.grant_type);
    if (grantType === 'client_credentials') {
      const t = rand();
      tokens.set(t, { clientId: app.clientId, accountId: '', scopes: app.scopes, createdMs: wallMs() });
      return sendJson(res, 200, {
        access_token: t,
        token_type: 'Bearer',
        scope: app.scopes.join(' '),
        created_at: Math.floor(now().getTime() / 1000)
      });
    }
    if (grantType !== 'authorization_code')
      return oauthError(
        res,
        400,
        'unsupported_grant_type',
        'The authorization grant type is not supported by the authorization server.'
      );
    const code = str(p.code);
    const grant = grants.get(code);
    const invalid = () =>
      oauthError(
        res,
        400,
        'invalid_grant',
        'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.'
      );
    if (!grant) return invalid();
    grants.delete(code); // a code is good for one attempt, right or wrong
    if (
      grant.clientId !== app.clientId ||
      grant.expiresMs < wallMs() ||
      grant.redirectUri !== str(p.redirect_uri)
    )
      return invalid();
    if (grant.challenge) {
      const verifier = str(p.code_verifier);
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return invalid();
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (!same(computed, grant.challenge)) return invalid();
    }
    const t = rand();
    tokens.set(t, {
      clientId: app.clientId,
      accountId: grant.accountId,
      scopes: grant.scopes,
      createdMs: wallMs()
    });
    sendJson(res, 200, {
      access_token: t,
      token_type: 'Bearer',
      scope: grant.scopes.join(' '),
      created_at: Math.floor(now().getTime() / 1000)
    });
  }

  function revoke(req: SimRequest, res: ServerResponse) {
    if (req.method !== 'POST') return sendJson(res, 404, { error: 'Record not found' });
    const p = parseParams(req);
    const app = clientOf(req, p);
    if (!app)
      return oauthError(res, 403, 'unauthorized_client', 'You are not authorized to revoke this token');
    const t = tokens.get(str(p.token));
    if (t && t.clientId === app.clientId) tokens.delete(str(p.token));
    sendJson(res, 200, {}); // RFC 7009: unknown tokens are not an error
  }

  function verifyCredentials(req: SimRequest, res: ServerResponse) {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const t = m ? tokens.get(m[1]) : undefined;
    if (!t) return sendJson(res, 401, { error: 'The access token is invalid' });
    if (!t.accountId) return sendJson(res, 422, { error: 'This method requires an authenticated user' });
    if (!scopeAllows(t.scopes, 'read:accounts') && !scopeAllows(t.scopes, 'profile'))
      return sendJson(res, 403, { error: 'This action is outside the authorized scopes' });
    const a = accounts.find((x) => x.id === t.accountId);
    if (!a) return sendJson(res, 401, { error: 'The access token is invalid' });
    sendJson(res, 200, {
      id: a.id,
      username: a.username,
      acct: a.username,
      display_name: a.displayName,
      locked: false,
      bot: false,
      discoverable: true,
      group: false,
      created_at: a.createdAt,
      note: '',
      url: `https://${opts.domain}/@${a.username}`,
      uri: `https://${opts.domain}/users/${a.username}`,
      avatar: `https://${opts.domain}/avatars/original/missing.png`,
      avatar_static: `https://${opts.domain}/avatars/original/missing.png`,
      header: `https://${opts.domain}/headers/original/missing.png`,
      header_static: `https://${opts.domain}/headers/original/missing.png`,
      followers_count: 0,
      following_count: 0,
      statuses_count: 0,
      last_status_at: null,
      source: {
        privacy: 'public',
        sensitive: false,
        language: 'en',
        note: '',
        fields: [],
        follow_requests_count: 0
      },
      emojis: [],
      fields: [],
      role: {
        id: a.role.id,
        name: a.role.name,
        permissions: computedPermissions(a.role),
        color: a.role.color,
        highlighted: a.role.highlighted
      }
    });
  }

  return {
    accounts,
    state: { apps, tokens, grants },
    handles: (req) => PATHS.test(req.url.pathname),
    handle: (req, res) => {
      const path = req.url.pathname.replace(/\/$/, '');
      if (path === '/api/v1/apps') return registerApp(req, res);
      if (path === '/oauth/authorize') return authorize(req, res);
      if (path === '/oauth/token') return token(req, res);
      if (path === '/oauth/revoke') return revoke(req, res);
      if (path === '/api/v1/accounts/verify_credentials') return verifyCredentials(req, res);
      sendJson(res, 404, { error: 'Record not found' });
    }
  };
}
