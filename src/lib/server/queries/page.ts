import type { RequestEvent } from '@sveltejs/kit';
import { dataOrNull } from '../db.ts';
import { runMetrics } from '../metrics/index.ts';
import type { MetricData } from '../../components/types.ts';
import type { Facts, PageKey, QueryContext } from '../metrics/types.ts';
import { dashboardConfig, queryContext } from './context.ts';
import type { Db } from '../../../../collectors/store/database.ts';

export const config = dashboardConfig();

/**
 * Who is looking. Until sign-in lands (hooks.server.ts sets locals.staff), everyone who can reach the
 * dashboard is treated as staff; the auth hook sets locals.staff = false for anonymous visitors.
 */
export const isStaff = (locals: App.Locals): boolean => locals.staff ?? true;

export interface PageData {
  empty: boolean;
  range: QueryContext['range'] | null;
  facts: Facts | null;
  metrics: Record<string, MetricData | null>;
  staff: boolean;
  hasToken: boolean;
}

/** The common part of every page's load: the snapshot, the range from the URL, the page's metrics. */
export async function loadPage<X extends Record<string, unknown> = Record<string, never>>(
  event: Pick<RequestEvent, 'url' | 'locals'>,
  _page: PageKey,
  keys: string[],
  extra?: (db: Db, q: QueryContext) => Promise<X>
): Promise<PageData & Partial<X>> {
  const staff = isStaff(event.locals);
  const db = await dataOrNull();
  if (!db)
    return {
      empty: true,
      range: null,
      facts: null,
      metrics: {},
      staff,
      hasToken: config.hasToken
    } as PageData & Partial<X>;
  const q = await queryContext(db, event.url, config);
  const metrics = await runMetrics(db, q, keys, { staff });
  const more = extra ? await extra(db, q) : ({} as Partial<X>);
  return {
    empty: false,
    range: q.range,
    facts: q.facts,
    metrics,
    staff,
    hasToken: config.hasToken || q.facts.hasAdminData,
    ...more
  };
}
