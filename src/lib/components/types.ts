/** The shapes that cross from the server's metric registry to the components (no queries in here). */
import type { Unit } from './format';

export interface Column {
  key: string;
  title: string;
  unit: Unit;
}
export type Cell = string | number | null;
/** What every metric query returns: the chart, its table alternative and its CSV/JSON export. */
export interface Table {
  columns: Column[];
  rows: Cell[][];
}

/** How a table is drawn; the first column is the x axis unless said otherwise. */
export interface ChartShape {
  kind: 'line' | 'bar' | 'matrix' | 'none';
  stacked?: boolean;
  /** Columns drawn as an uncertainty band (lower, upper). */
  band?: [string, string];
  /** Columns drawn dashed (forecasts). */
  dashed?: string[];
  /** Columns left out of the chart (still in the table and the export). */
  hidden?: string[];
  /** Matrix: which columns are x, y and the value. */
  matrix?: { x: string; y: string; v: string };
}

/** What a page gets for one metric: its description and its table. */
export interface MetricData {
  key: string;
  /** The page it belongs to: exports live under /data/<page>/. */
  page: string;
  title: string;
  unit: Unit;
  definition: string;
  audience: 'public' | 'board' | 'ops';
  chart: ChartShape;
  table: Table;
}

/** A marker on a day chart: detected from the data, or written by staff (a day, or a period up to `end`). */
export interface ChartEvent {
  day: string;
  end?: string | null;
  label: string;
  staff?: boolean;
}
