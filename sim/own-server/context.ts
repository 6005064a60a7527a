/** What every handler gets: the request, the world as of the clock, the server's settings and who asks. */
import type { ServerResponse } from 'node:http';
import { sendJson, type SimRequest } from '../http.ts';
import type { View } from './entities.ts';
import type { World } from './world.ts';

/** Admin settings and deployment choices that change what the API shows; mutable at run time. */
export interface OwnServerSettings {
  title: string;
  /** Pin the Mastodon version (e.g. '3.5.3', '4.0.2', '4.3.2', '4.5.0'); default: the co-op's upgrade history. */
  version?: string;
  /** `Setting.peers_api_enabled` / activity API toggles: false answers 404. */
  peersApi: boolean;
  activityApi: boolean;
  /** LIMITED_FEDERATION_MODE: anonymous peers/activity/rules/domain_blocks get 401, with a token 404. */
  limitedFederation: boolean;
  /** `show_domain_blocks` and `show_domain_blocks_rationale`. */
  domainBlocksVisibility: 'disabled' | 'users' | 'all';
  domainBlocksRationale: 'disabled' | 'users' | 'all';
  registrationsOpen: boolean;
  approvalRequired: boolean;
}

export const DEFAULT_SETTINGS: OwnServerSettings = {
  title: 'Co-op Social',
  peersApi: true,
  activityApi: true,
  limitedFederation: false,
  domainBlocksVisibility: 'all',
  domainBlocksRationale: 'all',
  registrationsOpen: true,
  approvalRequired: false
};

export type Viewer = 'anonymous' | 'admin' | 'user' | 'revoked' | 'unknown';

export interface Ctx {
  req: SimRequest;
  res: ServerResponse;
  w: World;
  v: View;
  s: OwnServerSettings;
  viewer: Viewer;
  /** Rate-limit headers to add to whatever is sent. */
  headers: Record<string, string>;
}

export function send(c: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(c.res, status, body, { ...c.headers, ...headers });
}

/** `head 404`: an empty body, as Rails sends it. */
export function head(c: Ctx, status: number): void {
  c.res.writeHead(status, { ...c.headers, 'content-length': 0 });
  c.res.end();
}

export const signedIn = (c: Ctx): boolean => c.viewer === 'admin' || c.viewer === 'user';
