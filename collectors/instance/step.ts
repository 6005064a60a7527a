import type { CollectorContext } from '../context.ts';
import type { SourceStatus } from '../store/runs.ts';
import type { OwnClient } from './client.ts';

/** One source of the own-server collection: fetch, parse, store; throws ApiError when it cannot. */
export interface StepInput {
  ctx: CollectorContext;
  client: OwnClient;
  /** The instance key in every table: the configured host (stable even when the server renames itself). */
  instance: string;
  /** What earlier steps learned for later ones. */
  shared: {
    topServers?: string[];
    serverStart?: string | null;
    /** The start of history moved earlier this run (found from the measures): backfill again from it. */
    historyMoved?: boolean;
    /** The server's Mastodon version as this collection found it (branches where behaviour differs). */
    version?: string | null;
    /** Limited federation mode (4.4+ says so in v2 configuration.limited_federation). */
    limitedFederation?: boolean;
  };
}

export interface Collected {
  items: number;
  /** The one line a person reads for this source. */
  summary: string;
  status?: SourceStatus;
  message?: string;
  limitedFederation?: boolean;
}

export type Step = (input: StepInput) => Promise<Collected>;

/** How many peers get per-peer admin measures (FEDIPULSE_TOP_PEERS, default 50). */
export function topPeersSetting(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FEDIPULSE_TOP_PEERS?.trim();
  const n = raw ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 1000) : 50;
}
