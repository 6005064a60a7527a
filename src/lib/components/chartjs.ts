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
  Tooltip
);

export { Chart };

/** The heatmap's extra controller, only on pages that have one. */
export async function withMatrix(): Promise<void> {
  const { MatrixController, MatrixElement } = await import('chartjs-chart-matrix');
  Chart.register(MatrixController, MatrixElement);
}

export async function withAnnotations(): Promise<void> {
  const { default: annotation } = await import('chartjs-plugin-annotation');
  Chart.register(annotation);
}
