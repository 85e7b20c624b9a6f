/**
 * Live dashboards of training runs — the API the notebook uses.
 *
 *   import { RunDashboard, ingestRunEvents, ingestMetrics } from '../dashboards';
 *
 *   // feed: outside React, as events arrive (one shared buffer per window)
 *   api.on('onRunEvents', ({ runId, events }) => ingestRunEvents(runId, events));
 *   ingestMetrics(runId, await api.call('runs.metrics', { experimentPath, runId }));   // a past run, or a live run's history
 *
 *   // show: inside the pretrain cell
 *   <RunDashboard runIds={[runId, otherRunId]} configs={{ [runId]: cfgA, [otherRunId]: cfgB }}
 *                 runLabels={{ [runId]: 'small lr' }} onDismissDiagnostic={(runId, d) => …} />
 *
 * RunDashboard props: runIds (overlaid, one colour each), buffer? (default: the shared `metricsBuffer`),
 * runLabels?, colors? (by run id: `runColors(allRunIds, shownRunIds)` keeps a run's colour as others come
 * and go, for the caller's own run list too), focusRunId? (the picked run: its heatmap is shown),
 * configs? (diff table of the keys whose values differ, with two runs or more), runInfo?
 * (a reopened run's step count and recorded status, for its header, and its start time: wall time counts
 * from there — `buffer.setRunStart` does the same outside React),
 * onDismissDiagnostic?, defaultSmoothing? (0–0.999, default 0.6), onCharts? (the chart controllers).
 * Run ids are the caller's keys: use the same id for a run's history and its live events.
 *
 * The pure parts stand alone: `ema` (TensorBoard's debiased EMA; a point's smoothed value never changes
 * when points are appended), `downsample` (M4: first/min/max/last per bucket), `configDiff`, and
 * `MetricsBuffer` (columnar typed arrays per run and tag, subscribers notified at most every 100 ms) with
 * `useMetricsVersion` for React parts that must follow it.
 */
export { RunDashboard, type RunDashboardProps, type DashboardCharts, type RunInfo } from './RunDashboard';
export { MetricsBuffer, metricsBuffer, ingestRunEvents, ingestMetrics, Series, RunMetrics, type XAxisMode, type RunProgress, type BufferListener, type MetricsBufferOptions } from './metricsBuffer';
export { ema, IncrementalEma, MAX_SMOOTHING } from './smoothing';
export { downsample, TailDownsampler, type Points } from './downsample';
export { configDiff, flatten, type ConfigDiffRow } from './configDiff';
export { RUN_COLORS, runColors } from './runColors';
export { useMetricsVersion } from './hooks';
export { LiveLineChart, type CurveSpec, type LineChartOptions } from './lineChart';
export { GradHeatmap, heatmapCells, layerOrder } from './gradHeatmap';
export { formatStep } from './format';
