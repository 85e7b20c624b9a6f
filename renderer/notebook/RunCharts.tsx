import { useEffect } from 'react';
import { ingestMetrics, RunDashboard, type RunInfo } from '../dashboards';
import { errorMessage, getApi } from '../api';
import { useStore } from '../state/store';
import { comparableConfigOf, plannedStepsOf, runConfigOf } from '../../common/runConfig';

/** Runs (experiment file and run id) whose metrics.jsonl was read into the dashboards' buffer (once per window). */
const loaded = new Set<string>();

async function loadMetrics(experimentPath: string, runId: string): Promise<void> {
  const key = `${experimentPath}\u0000${runId}`;
  if (loaded.has(key)) return;
  loaded.add(key);
  try {
    ingestMetrics(runId, await getApi().call('runs.metrics', { experimentPath, runId }));
  } catch (err) {
    loaded.delete(key);
    useStore.getState().showBanner({ tone: 'warning', title: `Could not read the metrics of ${runId}`, message: errorMessage(err) });
  }
}

export interface ShownRun { runId: string; live: boolean; label?: string }

/**
 * The pretrain cell's charts: renderer/dashboards' RunDashboard over the runs shown (those the cell's
 * runs table has ticked, the live one among them), overlaid in the colours the table shows. Past points
 * come from runs.metrics; live ones arrive through onRunEvents, which session/runs feeds to the same buffer.
 */
export function RunCharts({ runs, colors, focusRunId }: { runs: ShownRun[]; colors?: Record<string, string>; focusRunId?: string | null }) {
  const history = useStore((s) => s.history);
  const path = useStore((s) => s.path);
  const key = runs.map((r) => r.runId).join('|');
  useEffect(() => {
    if (path) for (const r of runs) void loadMetrics(path, r.runId);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, path]);
  const configs = Object.fromEntries(runs.flatMap((r) => {
    const h = history.find((x) => x.id === r.runId);
    const config = h?.ok ? comparableConfigOf(runConfigOf(h.run)) : undefined;
    return config ? [[r.runId, config]] : [];
  }));
  const labels = Object.fromEntries(runs.filter((r) => r.label).map((r) => [r.runId, r.label!]));
  // run.json's config snapshot has the planned steps; its status is the run's own unless it is live
  // (then the live events say it)
  const info = Object.fromEntries(runs.flatMap((r): [string, RunInfo][] => {
    const h = history.find((x) => x.id === r.runId);
    if (!h?.ok) return [];
    const steps = plannedStepsOf(runConfigOf(h.run));
    const created = Date.parse(h.run.created) / 1000;
    return [[r.runId, { totalSteps: steps, status: r.live ? null : h.run.status, startedAt: Number.isFinite(created) ? created : null }]];
  }));
  return (
    <div className="run-charts">
      <RunDashboard runIds={runs.map((r) => r.runId)} configs={configs} runLabels={labels} runInfo={info} colors={colors} focusRunId={focusRunId} />
    </div>
  );
}
