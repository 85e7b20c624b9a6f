/**
 * Per-layer gradient norms over training as a heatmap: one row per parameter group ('embeddings',
 * 'layer.0' …, 'head', bottom to top in the model's order), steps bucketed into columns, colour on a log
 * scale (norms span decades; a vanishing layer and an exploding one must both show). A cell is the
 * geometric mean of its bucket; the tooltip gives it and the bucket's step range.
 */
import { niceStep } from './axisFit';
import { echarts, type EChart } from './echarts';
import { formatCount, formatValue } from './format';
import type { MetricsBuffer } from './metricsBuffer';

export const GRAD_NORM_PREFIX = 'grad_norm/';

/** embeddings first, then layers by number, then the head and anything else by name */
export function layerOrder(names: string[]): string[] {
  const rank = (g: string) => (g === 'embeddings' ? -1 : /^layer\.\d+$/.test(g) ? Number(g.slice(6)) : 1e9);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export interface HeatmapCells {
  layers: string[];
  /** the first step of each column */
  columnSteps: number[];
  columnWidth: number;
  /** the last step that has a norm (it lies in the last column) */
  lastStep: number;
  /** [column, row, log10 of the geometric mean] */
  cells: [number, number, number][];
  min: number;
  max: number;
}

/** The heatmap's cells for one run: at most `columns` equal step ranges. */
export function heatmapCells(buffer: MetricsBuffer, runId: string, columns: number): HeatmapCells {
  const run = buffer.run(runId);
  const layers = layerOrder((run?.tags() ?? []).filter((t) => t.startsWith(GRAD_NORM_PREFIX)).map((t) => t.slice(GRAD_NORM_PREFIX.length)));
  let first = Infinity, last = -Infinity;
  for (const l of layers) {
    const s = run!.get(GRAD_NORM_PREFIX + l)!;
    if (s.length) { first = Math.min(first, s.step[0]); last = Math.max(last, s.step[s.length - 1]); }
  }
  const out: HeatmapCells = { layers, columnSteps: [], columnWidth: 1, lastStep: last, cells: [], min: Infinity, max: -Infinity };
  if (!(first <= last)) return out;
  const width = Math.max(1, Math.ceil((last - first + 1) / columns));
  const n = Math.floor((last - first) / width) + 1;
  out.columnWidth = width;
  out.columnSteps = Array.from({ length: n }, (_, i) => first + i * width);
  const sum = new Float64Array(n), count = new Uint32Array(n);
  layers.forEach((l, row) => {
    const s = run!.get(GRAD_NORM_PREFIX + l)!;
    sum.fill(0); count.fill(0);
    for (let i = 0; i < s.length; i++) {
      const v = s.value[i];
      if (!(v > 0) || !Number.isFinite(v)) continue;
      const c = Math.floor((s.step[i] - first) / width);
      sum[c] += Math.log10(v); count[c] += 1;
    }
    for (let c = 0; c < n; c++) {
      if (!count[c]) continue;
      const v = sum[c] / count[c];
      out.cells.push([c, row, v]);
      if (v < out.min) out.min = v;
      if (v > out.max) out.max = v;
    }
  });
  return out;
}

/**
 * The x labels of the columns ('' for none): round step numbers (1, 2, 2.5 or 5 × 10^k apart, about `count`
 * of them, as the line charts' axes have) on the columns that hold them, and always the first step on
 * the first column and the last step on the last one; a round number too near either of those gives way.
 */
export function stepLabels(columnSteps: readonly number[], columnWidth: number, lastStep: number, count = 8): string[] {
  const n = columnSteps.length;
  const labels = new Array<string>(n).fill('');
  if (n === 0) return labels;
  const first = columnSteps[0];
  labels[0] = formatCount(first);
  if (n === 1) return labels;
  labels[n - 1] = formatCount(lastStep);
  let every = niceStep((lastStep - first) / count);
  // steps are whole numbers: 2.5 becomes 5
  if (!Number.isInteger(every)) every = niceStep(Math.ceil(every));
  // columns kept free around the first and last labels: half the distance between two round ones
  const margin = Math.max(1, Math.round(every / columnWidth / 2));
  for (let v = Math.ceil(first / every) * every; v <= lastStep; v += every) {
    const c = Math.floor((v - first) / columnWidth);
    if (c >= margin && c <= n - 1 - margin) labels[c] = formatCount(v);
  }
  return labels;
}

export class GradHeatmap {
  readonly chart: EChart;
  private runId: string;

  /** `target`: the element to draw into, or a chart made elsewhere (tests pass a server-side one) */
  constructor(target: HTMLElement | EChart, private readonly buffer: MetricsBuffer, runId: string) {
    this.runId = runId;
    this.chart = 'setOption' in target ? target : echarts.init(target, undefined, { renderer: 'canvas' });
    this.draw();
  }

  setRun(runId: string): void { this.runId = runId; this.draw(); }
  update(changed?: ReadonlySet<string>): void { if (!changed || changed.has(this.runId)) this.draw(); }
  resize(): void { this.chart.resize(); }
  dispose(): void { this.chart.dispose(); }

  private draw(): void {
    const columns = Math.max(20, Math.min(200, Math.round((this.chart.getWidth() || 600) / 6)));
    const h = heatmapCells(this.buffer, this.runId, columns);
    const lo = Number.isFinite(h.min) ? h.min : -3, hi = Number.isFinite(h.max) ? h.max : 1;
    const labels = stepLabels(h.columnSteps, h.columnWidth, h.lastStep);
    const labelled = (i: number) => labels[i] !== '';
    this.chart.setOption({
      animation: false,
      title: { text: 'gradient norm per layer', subtext: h.layers.length ? '' : 'no per-layer gradient norms yet', left: 8, top: 4, textStyle: { fontSize: 13, fontWeight: 600 } },
      grid: { left: 84, right: 80, top: 34, bottom: 42 },
      tooltip: {
        formatter: (p: { value: [number, number, number] }) => {
          const [c, r, v] = p.value;
          const s0 = h.columnSteps[c];
          const s1 = Math.min(s0 + h.columnWidth - 1, h.lastStep);
          return `${h.layers[r]}<br/>${s1 > s0 ? `steps ${formatCount(s0)}–${formatCount(s1)}` : `step ${formatCount(s0)}`}<br/>norm ${formatValue(10 ** v)}`;
        },
      },
      xAxis: {
        type: 'category', data: h.columnSteps.map(String), name: 'step', nameLocation: 'middle', nameGap: 26, splitArea: { show: false },
        axisLabel: { interval: labelled, formatter: (_: string, i: number) => labels[i], hideOverlap: true },
        axisTick: { interval: labelled, alignWithLabel: true },
      },
      yAxis: { type: 'category', data: h.layers, axisLabel: { fontSize: 11 } },
      visualMap: {
        type: 'continuous', min: lo, max: hi === lo ? lo + 1 : hi, calculable: false, orient: 'vertical', right: 8, top: 40, bottom: 40, itemHeight: 120,
        text: [formatValue(10 ** hi), formatValue(10 ** lo)], textStyle: { fontSize: 10 },
        inRange: { color: ['#313695', '#4575b4', '#74add1', '#abd9e9', '#fee090', '#fdae61', '#f46d43', '#d73027', '#a50026'] },
        formatter: (v: number) => formatValue(10 ** v),
      },
      series: [{ type: 'heatmap', data: h.cells, progressive: 0, emphasis: { disabled: true } }],
    }, { lazyUpdate: true });
  }
}
