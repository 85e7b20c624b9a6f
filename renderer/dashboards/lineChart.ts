/**
 * One live line chart, driven imperatively (no React render per update): it reads curves straight from
 * the MetricsBuffer, smooths them with the incremental EMA, downsamples them to about two points per
 * pixel and hands ECharts only those. While the whole run is in view a new batch costs time for its own
 * points (TailDownsampler); zoomed in (wheel, drag, or `zoomTo`), the visible range is downsampled afresh
 * from the full-resolution columns, so zooming reveals real points, never interpolated ones, and the y
 * axis fits what is visible.
 */
import { fitAxis, type AxisFit } from './axisFit';
import { chartHeader } from './chartHeader';
import { downsample, lowerBound, TailDownsampler, type Points } from './downsample';
import { echarts, type EChart } from './echarts';
import { formatValue, formatX, X_AXIS_LABEL } from './format';
import type { MetricsBuffer, Series, XAxisMode } from './metricsBuffer';
import { IncrementalEma } from './smoothing';

export interface CurveSpec {
  runId: string;
  tag: string;
  /** legend entry; curves with the same name share it */
  name: string;
  color: string;
  /** draw the raw curve faintly under its smoothed one (when smoothing > 0) */
  smooth?: boolean;
  /** sparse curves (validation) show their points */
  markers?: boolean;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  curves: CurveSpec[];
  x: XAxisMode;
  smoothing: number;
  logY: boolean;
  /** empty-state text */
  emptyText?: string;
}

interface CurveState {
  spec: CurveSpec;
  epoch: number;
  ema: IncrementalEma | null;
  rawTail: TailDownsampler;
  smoothTail: TailDownsampler;
  /** the y range of the points last drawn (the visible ones when zoomed): the y axis fits all curves' */
  yLo: number;
  yHi: number;
}

const EMPTY: Points = { x: new Float64Array(0), y: new Float64Array(0), length: 0 };

export class LiveLineChart {
  readonly chart: EChart;
  private o: LineChartOptions;
  private curves: CurveState[] = [];
  /** the visible x window in display units, or null for everything */
  private view: [number, number] | null = null;
  private extent: [number, number] = [0, 1];
  private readonly onZoom: (e: unknown) => void;

  /** `target`: the element to draw into, or a chart made elsewhere (tests pass a server-side one) */
  constructor(target: HTMLElement | EChart, private readonly buffer: MetricsBuffer, options: LineChartOptions) {
    this.o = options;
    this.chart = 'setOption' in target ? target : echarts.init(target, undefined, { renderer: 'canvas' });
    this.onZoom = (e) => this.zoomEvent(e);
    this.chart.on('datazoom', this.onZoom);
    this.rebuild();
  }

  /** which runs it draws: the buffer notifies with changed run ids */
  get runIds(): Set<string> { return new Set(this.o.curves.map((c) => c.runId)); }

  setOptions(next: Partial<LineChartOptions>): void {
    const xChanged = next.x !== undefined && next.x !== this.o.x;
    this.o = { ...this.o, ...next };
    if (xChanged) this.view = null;
    this.rebuild();
  }

  /** Zooms to the x window [from, to] (display units), or back to everything with null. */
  zoomTo(window: [number, number] | null): void {
    this.view = window;
    this.draw('view');
  }

  resize(): void {
    this.chart.resize();
    // the title and legend share the top row only while both fit the new width
    const head = chartHeader(this.chart.getWidth(), this.o.title, this.legend);
    this.chart.setOption({ title: [{ id: 'title', ...head.title }], legend: head.legend, grid: { top: head.gridTop } });
  }

  /** the legend's entries as last drawn */
  private legend: string[] = [];

  dispose(): void {
    this.chart.off('datazoom', this.onZoom);
    this.chart.dispose();
  }

  /** new points arrived for some of its runs */
  update(changedRuns?: ReadonlySet<string>): void {
    if (changedRuns && !this.o.curves.some((c) => changedRuns.has(c.runId))) return;
    // zoomed, the y fit depends on every curve; else only the changed curves' series are sent
    this.draw(this.view ? 'view' : 'data', changedRuns);
  }

  private rebuild(): void {
    const target = this.targetBuckets();
    this.curves = this.o.curves.map((spec) => ({
      spec,
      epoch: -1,
      ema: spec.smooth && this.o.smoothing > 0 ? new IncrementalEma(this.o.smoothing) : null,
      rawTail: new TailDownsampler(target),
      smoothTail: new TailDownsampler(target),
      yLo: Infinity,
      yHi: -Infinity,
    }));
    this.yFit = null;
    this.chart.clear();
    this.draw('full');
  }

  private targetBuckets(): number {
    // about three px per bucket; M4 then draws at most ~1.3 points per pixel column
    return Math.max(50, Math.round((this.chart.getWidth() || 600) / 3));
  }

  private series(c: CurveState): Series | undefined { return this.buffer.series(c.spec.runId, c.spec.tag); }

  /** x origin in display units: wall time counts from the run's start, the same for all its series */
  private origin(runId: string): number { return this.o.x === 'wall' ? this.buffer.run(runId)?.origin() ?? 0 : 0; }

  private zoomEvent(e: unknown): void {
    const ev = (e as { batch?: Record<string, number>[] }).batch?.[0] ?? (e as Record<string, number>);
    const [lo, hi] = this.extent;
    let a: number, b: number;
    if (ev.startValue !== undefined && ev.endValue !== undefined) { a = ev.startValue; b = ev.endValue; } else {
      a = lo + ((ev.start ?? 0) / 100) * (hi - lo);
      b = lo + ((ev.end ?? 100) / 100) * (hi - lo);
    }
    this.view = a <= lo && b >= hi ? null : [a, b];
    this.draw('view');
  }

  /** everything of one curve, downsampled for the current view */
  private pointsOf(values: ArrayLike<number>, tail: TailDownsampler, s: Series, restart: boolean, t0: number): Points {
    const xs = s.column(this.o.x);
    if (!this.view) {
      if (restart) tail.reset();
      return tail.update(xs, values, s.length);
    }
    // zoomed: the visible range plus one neighbour each side (the line runs off the edge correctly),
    // plus the first and last points, which hold the zoom extent steady
    const from = Math.max(0, lowerBound(xs, s.length, this.view[0] + t0) - 1);
    const to = Math.min(s.length, lowerBound(xs, s.length, this.view[1] + t0) + 1);
    const mid = downsample(xs, values, this.targetBuckets(), from, to);
    const out: Points = { x: new Float64Array(mid.length + 2), y: new Float64Array(mid.length + 2), length: 0 };
    const push = (x: number, y: number) => { out.x[out.length] = x; out.y[out.length] = y; out.length += 1; };
    if (from > 0) push(xs[0], values[0]);
    for (let i = 0; i < mid.length; i++) push(mid.x[i], mid.y[i]);
    if (to < s.length) push(xs[s.length - 1], values[s.length - 1]);
    return out;
  }

  /**
   * 'full': options changed, everything is sent; 'view': the zoom window moved; 'data': points arrived
   * for `changed` runs (whole run in view), and only their series are sent — ECharts deep-copies what
   * it is given, so unchanged curves are left out.
   */
  private draw(kind: 'full' | 'view' | 'data', changed?: ReadonlySet<string>): void {
    const series: object[] = [];
    let lo = Infinity, hi = -Infinity;
    const legend: string[] = [];
    for (const c of this.curves) {
      const s = this.series(c);
      const ps = c.spec;
      if (!legend.includes(ps.name)) legend.push(ps.name);
      const t0 = this.origin(ps.runId);
      if (s && s.length) {
        const xs = s.column(this.o.x);
        lo = Math.min(lo, xs[0] - t0); hi = Math.max(hi, xs[s.length - 1] - t0);
      }
      if (kind === 'data' && changed && !changed.has(ps.runId)) continue;
      if (!s || s.length === 0) { c.yLo = Infinity; c.yHi = -Infinity; series.push(...this.seriesOf(c, EMPTY, null)); continue; }
      const dataChanged = s.epoch !== c.epoch;
      c.epoch = s.epoch;
      if (dataChanged) c.ema?.reset();
      const smoothed = c.ema ? c.ema.update(s.value, s.length) : null;
      const restart = kind === 'full' || kind === 'view' || dataChanged;
      const raw = this.pointsOf(s.value, c.rawTail, s, restart, t0);
      const sm = smoothed ? this.pointsOf(smoothed, c.smoothTail, s, restart, t0) : null;
      let yLo = Infinity, yHi = -Infinity;
      for (const p of sm ? [raw, sm] : [raw]) {
        for (let i = 0; i < p.length; i++) {
          const x = p.x[i] - t0, y = p.y[i];
          if ((!this.view || (x >= this.view[0] && x <= this.view[1])) && Number.isFinite(y) && (!this.o.logY || y > 0)) {
            if (y < yLo) yLo = y;
            if (y > yHi) yHi = y;
          }
        }
      }
      c.yLo = yLo; c.yHi = yHi;
      series.push(...this.seriesOf(c, raw, sm, t0));
    }
    if (lo <= hi) this.extent = [lo, hi];
    // the y axis fits the curves drawn (every curve's range: unchanged ones keep theirs)
    let yLo = Infinity, yHi = -Infinity;
    for (const c of this.curves) { yLo = Math.min(yLo, c.yLo); yHi = Math.max(yHi, c.yHi); }
    const yFit = this.keepOrFit(yLo, yHi);
    const yChanged = yFit !== this.yFit;
    this.yFit = yFit;
    if (kind === 'data') {
      if (series.length || yChanged) this.chart.setOption(yChanged ? { series, yAxis: this.yAxisOf(yFit) } : { series }, { lazyUpdate: this.lazyData });
      this.setEmptyText(lo > hi);
      return;
    }
    const mode = this.o.x;
    this.legend = legend;
    const head = chartHeader(this.chart.getWidth() || 600, this.o.title, legend);
    this.emptyShown = lo > hi;
    this.chart.setOption({
      animation: false,
      title: [{ id: 'title', ...head.title }, this.emptyTitle(lo > hi)],
      grid: { left: 56, right: 16, top: head.gridTop, bottom: 42 },
      legend: head.legend,
      tooltip: { trigger: 'axis', axisPointer: { type: 'line' }, valueFormatter: (v: unknown) => formatValue(Number(v)) },
      xAxis: { type: 'value', name: X_AXIS_LABEL[mode], nameLocation: 'middle', nameGap: 26, scale: true, min: 'dataMin', max: 'dataMax', axisLabel: { formatter: (v: number) => formatX(mode, v), hideOverlap: true } },
      yAxis: this.yAxisOf(yFit),
      dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none', ...(this.view ? { startValue: this.view[0], endValue: this.view[1] } : { start: 0, end: 100 }) }],
      series,
    }, { replaceMerge: kind === 'full' ? ['series'] : [], lazyUpdate: true });
  }

  /** false: a data update renders at once (the caller spreads charts over frames itself) */
  lazyData = false;
  private emptyShown: boolean | null = null;
  private setEmptyText(empty: boolean): void {
    if (empty === this.emptyShown) return;
    this.emptyShown = empty;
    this.chart.setOption({ title: [this.emptyTitle(empty)] }, { lazyUpdate: true });
  }

  /** the empty-state text, in the middle of the plot (under the title it would meet a legend row) */
  private emptyTitle(empty: boolean): object {
    return { id: 'empty', text: empty ? (this.o.emptyText ?? 'no data yet') : '', left: 'center', top: 'middle', textStyle: { fontSize: 12, fontWeight: 'normal', color: '#888' } };
  }

  /** the y axis last set: a data update sends the axis only when it changed */
  private yFit: AxisFit | null = null;

  /**
   * The fit for data in [lo, hi]: the current one while the data stays inside it and fills most of it
   * (the axis does not twitch with every new low of a falling loss), else a new one.
   */
  private keepOrFit(lo: number, hi: number): AxisFit | null {
    const cur = this.yFit;
    if (cur && lo >= cur.min && hi <= cur.max) {
      const span = (a: number, b: number) => (this.o.logY ? Math.log(b / a) : b - a);
      if (span(lo, hi) >= 0.75 * span(cur.min, cur.max)) return cur;
    }
    return fitAxis(lo, hi, this.o.logY);
  }

  /** the y axis fitted to the data (axisFit): its bounds, its ticks as labels and split lines, one label format */
  private yAxisOf(fit: AxisFit | null): object {
    return {
      type: this.o.logY ? 'log' : 'value', scale: true,
      min: fit ? fit.min : null, max: fit ? fit.max : null,
      axisLabel: { formatter: fit ? fit.format : (v: number) => formatValue(v), customValues: fit ? fit.ticks : null, hideOverlap: true },
      axisTick: { customValues: fit ? fit.ticks : null },
      splitLine: { lineStyle: { color: '#eee' } },
    };
  }

  private seriesOf(c: CurveState, raw: Points, smoothed: Points | null, t0 = 0): object[] {
    const ps = c.spec;
    // flat [x0, y0, x1, y1, …]: ECharts copies a typed array in one go, an array of pairs pair by pair
    const data = (p: Points) => {
      const d = new Float64Array(2 * p.length);
      for (let i = 0; i < p.length; i++) { d[2 * i] = p.x[i] - t0; d[2 * i + 1] = p.y[i]; }
      return d;
    };
    // each run on a canvas layer of its own: a live run's batch repaints its layer, not a 100k-point past run
    const zlevel = [...new Set(this.o.curves.map((k) => k.runId))].indexOf(ps.runId);
    const base = { type: 'line', name: ps.name, zlevel, dimensions: ['x', 'y'], encode: { x: 0, y: 1 }, showSymbol: !!ps.markers, symbolSize: 5, connectNulls: false, animation: false, emphasis: { disabled: true } };
    if (!smoothed) {
      return [{ ...base, id: `${ps.runId}|${ps.tag}`, data: data(raw), itemStyle: { color: ps.color }, lineStyle: { color: ps.color, width: 1.5, type: ps.dashed ? 'dashed' : 'solid' } }];
    }
    return [
      { ...base, id: `${ps.runId}|${ps.tag}|raw`, data: data(raw), silent: true, tooltip: { show: false }, itemStyle: { color: ps.color }, lineStyle: { color: ps.color, width: 1, opacity: 0.25 }, z: 1 },
      { ...base, id: `${ps.runId}|${ps.tag}`, data: data(smoothed), itemStyle: { color: ps.color }, lineStyle: { color: ps.color, width: 1.8 }, z: 2 },
    ];
  }
}
