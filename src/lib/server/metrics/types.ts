import type { Db } from '../../../../collectors/store/database.ts';
import type { Unit } from '../../components/format.ts';
import type { Range } from '../../components/range.ts';
import type { Volume } from '../queries/forecast.ts';

export type { Unit };
/** Who a metric is for: public metrics may go into transparency reports; board and ops stay inside. */
export type Audience = 'public' | 'board' | 'ops';
export type PageKey =
  'overview' | 'growth' | 'retention' | 'federation' | 'moderation' | 'capacity' | 'status';

export type { Cell, Column, Table, ChartShape } from '../../components/types.ts';
import type { Table, ChartShape } from '../../components/types.ts';

export interface DashboardConfig {
  /** Disks and buckets holding the stores (FEDIPULSE_VOLUMES, or FEDIPULSE_DISK_BYTES as one volume). */
  volumes: Volume[];
  diskWarningDays: number;
  backlogTargetHours: number;
  largePeerUsers: number;
  hasToken: boolean;
  staleAfterHours: number;
}

export interface QueryContext {
  range: Range;
  facts: Facts;
  config: DashboardConfig;
}

/** Facts about the snapshot, looked up once per snapshot. */
export interface Facts {
  instance: string | null;
  firstDay: string;
  lastDay: string;
  simulated: boolean;
  latestCrawl: { runId: number; day: string } | null;
  hasAdminData: boolean;
}

export interface Metric {
  key: string;
  title: string;
  unit: Unit;
  /** Written for the people who read the number: what it counts, from where, and its caveats. */
  definition: string;
  audience: Audience;
  page: PageKey;
  /** Views and tables read: for docs/metrics.md and to find what a schema change touches. */
  sources: string[];
  chart: ChartShape;
  /** Shown only to signed-in staff (locals.staff); its export refuses others. */
  staffOnly?: boolean;
  query(db: Db, q: QueryContext): Promise<Table>;
}
