import { Fragment } from 'react';
import { type CellInput, parsedConfig } from '../lib/cellConfig';
import { duration, loss } from '../lib/format';
import { controlRun, resumeRun } from '../session/runs';
import { ExportButton, ExportDetails } from './ExportRun';
import { ServeButton, ServeDetails } from './ServeRun';
import { activeJobOf, pretrainStale, useOverlaidRuns } from '../state/selectors';
import type { Job } from '../state/runsSlice';
import { formatStep, runColors } from '../dashboards';
import { useStore } from '../state/store';
import { ConfigPanel } from './ConfigPanel';
import { RunCharts, type ShownRun } from './RunCharts';
import { Field, NumberInput, Section, Select } from './fields';
import { LrChart } from './LrChart';
import { useCellConfig } from './useCellConfig';

type PretrainCellT = Extract<CellInput, { kind: 'pretrain' }>;

function PretrainForm({ cell }: { cell: PretrainCellT }) {
  const { get, set, error } = useCellConfig(cell);
  const num = (path: string[], label: string, placeholder?: string, hint?: string) => (
    <Field label={label} hint={hint} error={error(path)}>
      <NumberInput value={get(path)} placeholder={placeholder} onChange={(v) => set(path, v)} />
    </Field>
  );
  return (
    <div className="form">
      <Section title="Run">
        <Field label="Objective" error={error(['objective'])}><Select value={get(['objective'])} options={['causal-lm', 'mlm', 'mlm-nsp'] as const} placeholder="by architecture" onChange={(v) => set(['objective'], v)} /></Field>
        {num(['steps'], 'Steps', '2000')}
        {num(['batchSize'], 'Batch size', '12')}
        {num(['gradAccumSteps'], 'Grad. accumulation', '1')}
        {num(['seqLen'], 'Sequence length', 'context length')}
        {num(['seed'], 'Seed', '1337')}
        <Field label="Backend"><Select value={get(['backend'])} options={['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const} placeholder="auto (default)" onChange={(v) => set(['backend'], v)} /></Field>
      </Section>
      <Section title="Optimizer and schedule">
        {num(['optimizer', 'lr'], 'Peak learning rate', '0.001')}
        {num(['optimizer', 'weightDecay'], 'Weight decay', '0.1')}
        {num(['clipNorm'], 'Clip grad. norm', '1')}
        <Field label="Schedule"><Select value={get(['schedule', 'kind'])} options={['cosine', 'linear', 'constant'] as const} placeholder="cosine (default)" onChange={(v) => set(['schedule', 'kind'], v)} /></Field>
        {num(['schedule', 'warmupSteps'], 'Warmup steps', '100')}
        {num(['schedule', 'minLr'], 'Min learning rate', '0.0001')}
        {num(['schedule', 'decaySteps'], 'Decay ends at', 'steps')}
      </Section>
      <Section title="Evaluation and checkpoints">
        {num(['evalInterval'], 'Evaluate every', '250')}
        {num(['evalBatches'], 'Eval batches', '20')}
        {num(['checkpointInterval'], 'Checkpoint every', '500')}
        {num(['keepCheckpoints'], 'Keep checkpoints', '3')}
      </Section>
    </div>
  );
}

export function JobStatus({ job }: { job: Job }) {
  const frac = job.totalSteps ? job.step / job.totalSteps : job.progress ? job.progress.done / Math.max(1, job.progress.total) : 0;
  const paused = job.status === 'paused';
  return (
    <div className="job" data-testid="job-status">
      <div className="job-line">
        <span className={`badge status-${job.status}`}>{job.status}</span>
        <span className="mono">{job.progress ? `${job.progress.phase} ${job.progress.done}/${job.progress.total}` : `step ${formatStep(job.step)}${job.totalSteps ? ` / ${formatStep(job.totalSteps)}` : ''}`}</span>
        <span className="muted">train <span className="mono">{loss(job.trainLoss)}</span> · val <span className="mono">{loss(job.valLoss)}</span> · ETA {duration(job.etaSeconds)}</span>
        <span className="spacer" />
        <button className="btn small" onClick={() => void controlRun(job.cellId, paused ? 'resume' : 'pause')}>{paused ? 'Resume' : 'Pause'}</button>
        <button className="btn small danger" onClick={() => void controlRun(job.cellId, 'stop')}>Stop</button>
      </div>
      <div className="progress"><div className="progress-bar" style={{ width: `${Math.round(frac * 1000) / 10}%` }} /></div>
      {job.diagnostics.slice(-3).map((d, i) => (
        <div key={i} className={`diagnostic ${d.severity}`}><strong>step {d.step}:</strong> {d.message} <span className="muted">{d.advice}</span></div>
      ))}
    </div>
  );
}

/**
 * The cell's runs, newest first. A row's checkbox puts the run on the charts or takes it off (any number
 * of runs, each in the colour of its swatch); clicking a row, or its run id, picks the run (the sidebar
 * marks it too, and the heatmap shows it).
 */
function CellRuns({ cell, overlaid, colors }: { cell: PretrainCellT; overlaid: readonly string[]; colors: Record<string, string> }) {
  const history = useStore((s) => s.history);
  const selectedRunId = useStore((s) => s.selectedRunId);
  const selectRun = useStore((s) => s.selectRun);
  const setRunOverlaid = useStore((s) => s.setRunOverlaid);
  const jobs = useStore((s) => s.jobs);
  const refs = [...(cell.runs ?? [])].reverse();
  if (!refs.length) return <p className="muted">No runs yet. Run the cell (Shift+Enter) to pretrain; runs are kept beside the experiment file.</p>;
  return (
    <table className="table runs-table" aria-label="runs">
      <caption className="runs-caption">Tick runs to overlay them on the charts; their configs' differences are listed under the charts.</caption>
      <thead><tr><th>run</th><th>status</th><th className="num">step</th><th className="num">train</th><th className="num">val</th><th /></tr></thead>
      <tbody>
        {refs.map((r) => {
          const h = history.find((x) => x.id === r.runId);
          // a run whose folder is listed or whose job reported here can be shown and picked
          const known = h !== undefined || jobs[r.runId] !== undefined;
          const status = h?.ok ? h.run.status : r.status;
          // a run still going: its step and losses as its job reports them (run.json and the cell's
          // reference are written at checkpoints and at the end only)
          const job = jobs[r.runId]?.ended === null ? jobs[r.runId] : undefined;
          const live = job !== undefined;
          const shownStatus = job ? job.status : status;
          const canResume = h?.ok && !live && ['interrupted', 'paused', 'cancelled', 'failed'].includes(status);
          const on = overlaid.includes(r.runId);
          const idOfName = `run-name-${cell.id}-${r.runId}`;
          const selected = known && r.runId === selectedRunId;
          const canServe = h?.ok && !live && h.run.step > 0;
          return (
            <Fragment key={r.runId}>
            <tr className={selected ? 'selected' : undefined} onClick={() => known && selectRun(r.runId)}>
              <td className="mono">
                <span className="run-name">
                  {/* named by the run id beside it (not a label of its own, which the cell's name would repeat) */}
                  <input type="checkbox" className="run-overlay" checked={on} disabled={!known} aria-labelledby={idOfName}
                    title={on ? 'shown on the charts: untick to take it off' : 'tick to overlay it on the charts'}
                    onClick={(e) => e.stopPropagation()} onChange={(e) => setRunOverlaid(cell.id, r.runId, e.target.checked)} />
                  <span className="run-swatch" style={on ? { background: colors[r.runId] } : undefined} aria-hidden="true" />
                  <button type="button" id={idOfName} className="run-pick" aria-pressed={selected} disabled={!known} title="pick this run: the sidebar marks it and the heatmap shows it"
                    onClick={(e) => { e.stopPropagation(); if (known) selectRun(r.runId); }}>{r.runId}</button>
                </span>
              </td>
              <td><span className={`badge status-${shownStatus}`}>{shownStatus}</span></td>
              <td className="num mono">{job ? job.step : h?.ok ? h.run.step : r.step ?? '—'}</td>
              <td className="num mono">{loss(job ? job.trainLoss : r.finalTrainLoss)}</td>
              <td className="num mono">{loss(job ? job.valLoss : h?.ok ? h.run.bestValLoss ?? r.finalValLoss : r.finalValLoss)}</td>
              <td className="num">{canResume && <button className="btn small" onClick={(e) => { e.stopPropagation(); void resumeRun(r.runId, cell.id); }}>Resume</button>}{canServe && <><ExportButton runId={r.runId} /><ServeButton runId={r.runId} /></>}</td>
            </tr>
            <ExportDetails runId={r.runId} colSpan={6} />
            <ServeDetails runId={r.runId} colSpan={6} />
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

export function PretrainCell({ cell }: { cell: PretrainCellT }) {
  const parsed = parsedConfig('pretrain', cell.pretrain);
  const job = useStore((s) => activeJobOf(s, cell.id));
  const stale = useStore((s) => pretrainStale(s, cell.id));
  const selectedRunId = useStore((s) => s.selectedRunId);
  const history = useStore((s) => s.history);
  const jobs = useStore((s) => s.jobs);
  // the runs ticked in the runs table (the live one unless unticked; the newest when nothing is), overlaid
  const overlaid = useOverlaidRuns(cell.id);
  const colors = runColors((cell.runs ?? []).map((r) => r.runId), overlaid);
  const shown = overlaid.flatMap((runId): ShownRun[] => {
    const live = jobs[runId]?.ended === null;
    const known = live || jobs[runId] !== undefined || history.some((x) => x.id === runId);
    return known ? [{ runId, live, label: live ? `${runId} (live)` : undefined }] : [];
  });
  const focusRunId = selectedRunId !== null && history.some((x) => x.id === selectedRunId) ? selectedRunId : null;

  return (
    <>
      <ConfigPanel cell={cell} kind="pretrain" form={<PretrainForm cell={cell} />} side={parsed ? <LrChart config={parsed} /> : undefined} />
      <div className={stale ? 'output is-stale' : 'output'}>
        {stale && <div className="stale-note">The configs changed since the newest run started: its results describe the old dataset, model or pretrain settings. Run again to bring them up to date.</div>}
        {job && <JobStatus job={job} />}
        {shown.length > 0 && <RunCharts runs={shown} colors={colors} focusRunId={focusRunId} />}
        <CellRuns cell={cell} overlaid={overlaid} colors={colors} />
      </div>
    </>
  );
}
