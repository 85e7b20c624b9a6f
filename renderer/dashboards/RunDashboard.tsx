/**
 * The live dashboards of a pretrain cell: progress and ETA, diagnostics as banners, loss (train smoothed
 * over raw, validation points), learning rate, global gradient norm, the per-layer gradient-norm heatmap,
 * tokens per second, and — with several runs — one colour per run and a table of their configs'
 * differences. Charts draw from the MetricsBuffer imperatively; React renders only controls, the
 * progress bar and banners (those at most ~10 times a second).
 */
import { useEffect, useMemo, useRef, useState, type CSSProperties } from 'react';
import type { Diagnostic } from '../../common/runEvents';
import { configDiff } from './configDiff';
import { formatCount, formatDuration, formatStep } from './format';
import { GradHeatmap } from './gradHeatmap';
import { useMetricsVersion } from './hooks';
import { LiveLineChart, type CurveSpec, type LineChartOptions } from './lineChart';
import { metricsBuffer as sharedBuffer, type MetricsBuffer, type XAxisMode } from './metricsBuffer';
import { RUN_COLORS } from './runColors';
import { MAX_SMOOTHING } from './smoothing';
import { ChartUpdateQueue } from './updateQueue';

export { RUN_COLORS };

export interface RunDashboardProps {
  /** the runs to show, overlaid; the first one's heatmap and progress lead */
  runIds: string[];
  /** the buffer to read; the shared `metricsBuffer` by default */
  buffer?: MetricsBuffer;
  /** display names by run id (legend, progress, diff table); the id by default */
  runLabels?: Record<string, string>;
  /**
   * colours by run id (runColors keeps them steady as runs come and go, and the caller's own list of
   * runs can show the same); by default RUN_COLORS in the order of runIds
   */
  colors?: Record<string, string>;
  /** the run the user picked: the heatmap shows it */
  focusRunId?: string | null;
  /** each run's config (any JSON object): the diff table shows the keys whose values differ */
  configs?: Record<string, unknown>;
  /**
   * what the caller knows of a run besides its points (run.json of a reopened run): its step count and
   * status, for the header where no live event said them
   */
  runInfo?: Record<string, RunInfo>;
  /** a banner was dismissed (the dashboard hides it either way) */
  onDismissDiagnostic?: (runId: string, diagnostic: Diagnostic) => void;
  /** initial smoothing weight, 0–0.999; 0.6 as TensorBoard */
  defaultSmoothing?: number;
  /** called with the chart controllers once mounted (benchmarks, tests, programmatic zoom) */
  onCharts?: (charts: DashboardCharts) => void;
}

export interface RunInfo {
  /** the run's planned steps */
  totalSteps?: number | null;
  /** the run's status as recorded; it wins over the buffer's, which only live events set */
  status?: string | null;
  /** when the run started, seconds since the epoch (run.json's `created`): wall time counts from it */
  startedAt?: number | null;
}

export interface DashboardCharts { loss: LiveLineChart; lr: LiveLineChart; gradNorm: LiveLineChart; throughput: LiveLineChart; heatmap: GradHeatmap }

/** the validation curve's colour when one run is shown: one that stands apart from the run's own */
const soloValColor = (runColor: string) => (runColor === '#d62728' ? '#444' : '#d62728');

export function RunDashboard(props: RunDashboardProps) {
  const buffer = props.buffer ?? sharedBuffer;
  const { runIds } = props;
  const label = (id: string) => props.runLabels?.[id] ?? id;
  const colorOf = (i: number) => props.colors?.[runIds[i]] ?? RUN_COLORS[i % RUN_COLORS.length];
  const [smoothing, setSmoothing] = useState(props.defaultSmoothing ?? 0.6);
  const [logY, setLogY] = useState(true);
  const [x, setX] = useState<XAxisMode>('step');
  const [heatRun, setHeatRun] = useState<string | undefined>(undefined);
  const multi = runIds.length > 1;
  const runKey = runIds.join('\u0000');
  // what the curves are made of, as a value: callers pass new label and colour objects on every render
  const lookKey = runIds.map((id, i) => `${label(id)}\u0001${colorOf(i)}`).join('\u0000');

  const curves = useMemo(() => {
    const per = (tag: string, suffix: string, extra: Partial<CurveSpec> = {}) =>
      runIds.map((id, i): CurveSpec => ({ runId: id, tag, name: multi ? `${label(id)}${suffix}` : suffix.trim() || tag, color: colorOf(i), smooth: true, ...extra }));
    return {
      loss: runIds.flatMap((id, i): CurveSpec[] => [
        { runId: id, tag: 'train/loss', name: multi ? `${label(id)} train` : 'train', color: colorOf(i), smooth: true },
        { runId: id, tag: 'val/loss', name: multi ? `${label(id)} val` : 'validation', color: multi ? colorOf(i) : soloValColor(colorOf(i)), markers: true, dashed: true },
      ]),
      lr: per('train/lr', '', { smooth: false }),
      gradNorm: per('grad/global_norm', ''),
      throughput: per('perf/tokens_per_s', ''),
    };
  }, [runKey, multi, lookKey]);

  // picking a run elsewhere shows its heatmap
  useEffect(() => { if (props.focusRunId && runIds.includes(props.focusRunId)) setHeatRun(props.focusRunId); }, [props.focusRunId, runKey]);

  // the recorded starts go to the buffer: every chart's wall-time axis counts from a run's own start
  const starts = runIds.map((id) => props.runInfo?.[id]?.startedAt ?? null);
  useEffect(() => {
    runIds.forEach((id, i) => { if (starts[i] !== null) buffer.setRunStart(id, starts[i]); });
  }, [buffer, runKey, starts.join(',')]);

  const shared = { x, smoothing };
  const heatShown = heatRun && runIds.includes(heatRun) ? heatRun : runIds[0];
  return (
    <div style={styles.root} data-testid="run-dashboard">
      {runIds.map((id, i) => <RunHeader key={id} buffer={buffer} runId={id} label={label(id)} color={colorOf(i)} showColor={multi || props.colors !== undefined} info={props.runInfo?.[id]} onDismiss={props.onDismissDiagnostic} />)}
      <div style={styles.controls}>
        <label style={styles.control} title="TensorBoard's debiased exponential moving average; past points never move">
          smoothing
          <input type="range" min={0} max={MAX_SMOOTHING} step={0.001} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label="smoothing" style={styles.range} />
          <output style={styles.output}>{smoothing.toFixed(3)}</output>
        </label>
        <label style={styles.control}><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} style={styles.checkbox} /> log scale</label>
        <label style={styles.control}>
          x axis
          <select value={x} onChange={(e) => setX(e.target.value as XAxisMode)} aria-label="x axis" style={styles.select}>
            <option value="step">steps</option><option value="tokens">tokens seen</option><option value="wall">wall time</option>
          </select>
        </label>
        <span style={styles.hint}>wheel to zoom, drag to pan, double-click to reset</span>
      </div>
      <DashboardCharts buffer={buffer} curves={curves} shared={shared} logY={logY} heatRun={heatShown} onCharts={props.onCharts} />
      {multi && (
        <label style={styles.control}>
          heatmap of
          <select value={heatShown} onChange={(e) => setHeatRun(e.target.value)} style={styles.select}>
            {runIds.map((id) => <option key={id} value={id}>{label(id)}</option>)}
          </select>
        </label>
      )}
      {multi && props.configs && <ConfigDiffTable runIds={runIds} label={label} color={colorOf} configs={props.configs} />}
    </div>
  );
}

interface ChartsProps {
  buffer: MetricsBuffer;
  curves: Record<'loss' | 'lr' | 'gradNorm' | 'throughput', CurveSpec[]>;
  shared: { x: XAxisMode; smoothing: number };
  logY: boolean;
  heatRun: string | undefined;
  onCharts?: (c: DashboardCharts) => void;
}

/** Mounts the ECharts instances once; later prop changes go to the controllers, not through a re-mount. */
function DashboardCharts({ buffer, curves, shared, logY, heatRun, onCharts }: ChartsProps) {
  const refs = { loss: useRef<HTMLDivElement>(null), lr: useRef<HTMLDivElement>(null), gradNorm: useRef<HTMLDivElement>(null), throughput: useRef<HTMLDivElement>(null), heatmap: useRef<HTMLDivElement>(null) };
  const charts = useRef<DashboardCharts | null>(null);

  const optionsOf = (): Record<'loss' | 'lr' | 'gradNorm' | 'throughput', LineChartOptions> => ({
    loss: { title: 'loss', curves: curves.loss, x: shared.x, smoothing: shared.smoothing, logY },
    lr: { title: 'learning rate', curves: curves.lr, x: shared.x, smoothing: 0, logY: false },
    gradNorm: { title: 'global gradient norm', curves: curves.gradNorm, x: shared.x, smoothing: shared.smoothing, logY: true },
    throughput: { title: 'tokens per second', curves: curves.throughput, x: shared.x, smoothing: shared.smoothing, logY: false },
  });

  useEffect(() => {
    const o = optionsOf();
    const c: DashboardCharts = {
      loss: new LiveLineChart(refs.loss.current!, buffer, o.loss),
      lr: new LiveLineChart(refs.lr.current!, buffer, o.lr),
      gradNorm: new LiveLineChart(refs.gradNorm.current!, buffer, o.gradNorm),
      throughput: new LiveLineChart(refs.throughput.current!, buffer, o.throughput),
      heatmap: new GradHeatmap(refs.heatmap.current!, buffer, heatRun ?? ''),
    };
    charts.current = c;
    const lines = [c.loss, c.lr, c.gradNorm, c.throughput];
    const updates = new ChartUpdateQueue([...lines.map((l) => (ch: ReadonlySet<string>) => l.update(ch)), (ch) => c.heatmap.update(ch)]);
    const unsubscribe = buffer.subscribe((changed) => updates.notify(changed));
    const dbl = (l: LiveLineChart) => () => l.zoomTo(null);
    const resets = lines.map((l) => { const f = dbl(l); l.chart.getZr().on('dblclick', f); return f; });
    const ro = new ResizeObserver(() => { for (const l of lines) l.resize(); c.heatmap.resize(); });
    Object.values(refs).forEach((r) => ro.observe(r.current!));
    onCharts?.(c);
    return () => {
      unsubscribe(); ro.disconnect(); updates.dispose();
      lines.forEach((l, i) => l.chart.getZr().off('dblclick', resets[i]));
      for (const l of lines) l.dispose();
      c.heatmap.dispose();
      charts.current = null;
    };
  }, [buffer]);

  useEffect(() => {
    const c = charts.current;
    if (!c) return;
    const o = optionsOf();
    c.loss.setOptions(o.loss); c.lr.setOptions(o.lr); c.gradNorm.setOptions(o.gradNorm); c.throughput.setOptions(o.throughput);
  }, [curves, shared.x, shared.smoothing, logY]);

  useEffect(() => { if (heatRun) charts.current?.heatmap.setRun(heatRun); }, [heatRun]);

  return (
    <div style={styles.grid}>
      <div ref={refs.loss} style={{ ...styles.chart, gridColumn: '1 / span 2', height: 320 }} data-testid="chart-loss" />
      <div ref={refs.lr} style={styles.chart} data-testid="chart-lr" />
      <div ref={refs.gradNorm} style={styles.chart} data-testid="chart-grad-norm" />
      <div ref={refs.heatmap} style={{ ...styles.chart, gridColumn: '1 / span 2', height: 300 }} data-testid="chart-grad-heatmap" />
      <div ref={refs.throughput} style={{ ...styles.chart, gridColumn: '1 / span 2' }} data-testid="chart-tokens-per-s" />
    </div>
  );
}

/** Progress, ETA, status and the run's diagnostic banners. */
function RunHeader({ buffer, runId, label, color, showColor, info, onDismiss }: { buffer: MetricsBuffer; runId: string; label: string; color: string; showColor: boolean; info?: RunInfo; onDismiss?: (runId: string, d: Diagnostic) => void }) {
  useMetricsVersion(buffer);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  const run = buffer.run(runId);
  const live = run?.progress;
  // a run read back from metrics.jsonl has no step count or status of its own: the caller's info fills them
  const p = live && {
    ...live,
    totalSteps: live.totalSteps > 0 ? live.totalSteps : info?.totalSteps ?? 0,
    status: info?.status ?? live.status,
  };
  const frac = p && p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const done = p?.status === 'completed' || (p !== undefined && p.totalSteps > 0 && p.step >= p.totalSteps);
  const key = (d: Diagnostic) => `${d.kind}@${d.step}`;
  const banners = (run?.diagnostics ?? []).filter((d) => !dismissed.has(key(d)));
  return (
    <div style={styles.header}>
      <div style={styles.progressRow}>
        {showColor && <span style={{ ...styles.swatch, background: color }} data-testid={`run-color-${runId}`} />}
        <strong style={{ minWidth: 80 }}>{label}</strong>
        <div style={styles.bar} role="progressbar" aria-valuemin={0} aria-valuemax={p?.totalSteps ?? 0} aria-valuenow={p?.step ?? 0} aria-label={`${label} progress`}>
          <div style={{ ...styles.barFill, width: `${(frac * 100).toFixed(2)}%`, background: p?.status === 'failed' ? '#d62728' : done || !p?.status || p.status === 'running' || p.status === 'preparing' ? color : '#c9a227' }} />
        </div>
        <span style={styles.progressText}>
          {p ? `step ${formatStep(p.step)}${p.totalSteps ? ` / ${formatStep(p.totalSteps)}` : ''} · ${formatCount(p.tokens)} tokens` : 'no data'}
          {p?.status && p.status !== 'running' ? ` · ${p.status}` : ''}
          {!done && p?.etaSeconds != null && (!p.status || p.status === 'running') ? ` · ETA ${formatDuration(p.etaSeconds)}` : ''}
        </span>
      </div>
      {banners.map((d) => (
        <div key={key(d)} role="alert" style={{ ...styles.banner, ...(d.severity === 'error' ? styles.bannerError : styles.bannerWarning) }}>
          <div style={{ flex: 1 }}>
            <div><strong>{d.severity === 'error' ? 'Error' : 'Warning'} at step {d.step}:</strong> {d.message}</div>
            <div style={{ marginTop: 2 }}><em>What to try:</em> {d.advice}</div>
          </div>
          <button type="button" style={styles.dismiss} aria-label="dismiss" onClick={() => { setDismissed(new Set(dismissed).add(key(d))); onDismiss?.(runId, d); }}>×</button>
        </div>
      ))}
    </div>
  );
}

function ConfigDiffTable({ runIds, label, color, configs }: { runIds: string[]; label: (id: string) => string; color: (i: number) => string; configs: Record<string, unknown> }) {
  const rows = useMemo(() => configDiff(runIds.map((id) => configs[id] ?? {})), [runIds, configs]);
  return (
    <div style={{ marginTop: 8 }}>
      <div style={{ fontWeight: 600, fontSize: 13, margin: '4px 0' }}>configuration differences</div>
      {rows.length === 0 ? <div style={styles.hint}>the runs' configurations are identical</div> : (
        <table style={styles.table} data-testid="config-diff">
          <thead><tr><th style={styles.th}>setting</th>{runIds.map((id, i) => <th key={id} style={styles.th}><span style={{ ...styles.swatch, background: color(i) }} />{label(id)}</th>)}</tr></thead>
          <tbody>{rows.map((r) => <tr key={r.path}><td style={styles.tdPath}>{r.path}</td>{r.values.map((v, i) => <td key={i} style={styles.td}>{v}</td>)}</tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

const styles: Record<string, CSSProperties> = {
  // the app's font and colours where its stylesheet defines them (renderer/styles.css), else plain ones
  root: { fontFamily: 'var(--sans, system-ui, sans-serif)', fontSize: 12.5, color: 'var(--text, #222)', display: 'flex', flexDirection: 'column', gap: 6 },
  header: { display: 'flex', flexDirection: 'column', gap: 4 },
  progressRow: { display: 'flex', alignItems: 'center', gap: 8 },
  bar: { flex: 1, height: 10, background: '#e8e8e8', borderRadius: 5, overflow: 'hidden' },
  barFill: { height: '100%', transition: 'width 0.2s linear' },
  progressText: { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap', color: '#444' },
  swatch: { display: 'inline-block', width: 10, height: 10, borderRadius: 2, marginRight: 4, verticalAlign: 'middle' },
  banner: { display: 'flex', alignItems: 'flex-start', gap: 8, padding: '6px 10px', borderRadius: 4, border: '1px solid' },
  bannerWarning: { background: '#fff8e1', borderColor: '#f0c36d' },
  bannerError: { background: '#fdecea', borderColor: '#e57373' },
  dismiss: { border: 'none', background: 'transparent', fontSize: 16, cursor: 'pointer', lineHeight: 1 },
  controls: { display: 'flex', alignItems: 'center', gap: 16, flexWrap: 'wrap' },
  control: { display: 'inline-flex', alignItems: 'center', gap: 6, color: 'var(--muted, #555)', fontSize: 12 },
  // as the app's .input
  select: { height: 28, padding: '0 6px', border: '1px solid var(--border-strong, #cdd2d8)', borderRadius: 5, background: 'var(--panel, #fff)', color: 'var(--text, #222)', font: 'inherit', fontSize: 12.5, cursor: 'pointer' },
  range: { width: 120, margin: 0, accentColor: 'var(--accent, #2f5fd0)', cursor: 'pointer' },
  checkbox: { margin: 0, accentColor: 'var(--accent, #2f5fd0)', cursor: 'pointer' },
  output: { width: 40, fontFamily: 'var(--mono, ui-monospace, monospace)', fontSize: 12, color: 'var(--text, #222)' },
  hint: { color: '#888', fontSize: 12 },
  grid: { display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 8 },
  chart: { height: 240, border: '1px solid #eee', borderRadius: 4, minWidth: 0 },
  table: { borderCollapse: 'collapse', fontSize: 12 },
  th: { textAlign: 'left', borderBottom: '1px solid #ccc', padding: '3px 10px' },
  td: { borderBottom: '1px solid #eee', padding: '3px 10px', fontFamily: 'ui-monospace, monospace' },
  tdPath: { borderBottom: '1px solid #eee', padding: '3px 10px', fontFamily: 'ui-monospace, monospace', color: '#555' },
};
