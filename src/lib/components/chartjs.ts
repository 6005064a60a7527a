/** Chart.js, tree-shaken to what the dashboard draws; loaded lazily by Chart.svelte, once per page. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip
} from 'chart.js';
import annotation from 'chartjs-plugin-annotation';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  // Registered with the rest, before any chart exists: registered later by one chart, it would run on
  // the page's other charts without the state it sets up at their creation (and throw).
  annotation
);

export { Chart };

/** The heatmap's extra controller, only on pages that have one. */
export async function withMatrix(): Promise<void> {
  const { MatrixController, MatrixElement } = await import('chartjs-chart-matrix');
  Chart.register(MatrixController, MatrixElement);
}
