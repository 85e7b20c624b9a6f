import { type CellInput, parsedConfig } from '../lib/cellConfig';
import { duration, loss } from '../lib/format';
import { controlRun, resumeRun } from '../session/runs';
import { activeJobOf, pretrainStale } from '../state/selectors';
import type { Job } from '../state/runsSlice';
import { formatStep } from '../dashboards';
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

function JobStatus({ job }: { job: Job }) {
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

function CellRuns({ cell }: { cell: PretrainCellT }) {
  const history = useStore((s) => s.history);
  const selectedRunDir = useStore((s) => s.selectedRunDir);
  const selectRun = useStore((s) => s.selectRun);
  const jobs = useStore((s) => s.jobs);
  const refs = [...(cell.runs ?? [])].reverse();
  if (!refs.length) return <p className="muted">No runs yet. Run the cell (Shift+Enter) to pretrain; runs are kept beside the experiment file.</p>;
  return (
    <table className="table runs-table" aria-label="runs">
      <thead><tr><th>run</th><th>status</th><th className="num">step</th><th className="num">train</th><th className="num">val</th><th /></tr></thead>
      <tbody>
        {refs.map((r) => {
          const h = history.find((x) => x.id === r.runId);
          const dir = h?.dir ?? Object.values(jobs).find((j) => j.runId === r.runId)?.runDir ?? null;
          const status = h?.ok ? h.run.status : r.status;
          // a run still going: its step and losses as its job reports them (run.json and the cell's
          // reference are written at checkpoints and at the end only)
          const job = Object.values(jobs).find((j) => j.runId === r.runId && j.ended === null);
          const live = job !== undefined;
          const shownStatus = job ? job.status : status;
          const canResume = h?.ok && !live && ['interrupted', 'paused', 'cancelled', 'failed'].includes(status);
          return (
            <tr key={r.runId} className={dir && dir === selectedRunDir ? 'selected' : ''} onClick={() => dir && selectRun(dir)}>
              <td className="mono">{r.runId}</td>
              <td><span className={`badge status-${shownStatus}`}>{shownStatus}</span></td>
              <td className="num mono">{job ? job.step : h?.ok ? h.run.step : r.step ?? '—'}</td>
              <td className="num mono">{loss(job ? job.trainLoss : r.finalTrainLoss)}</td>
              <td className="num mono">{loss(job ? job.valLoss : h?.ok ? h.run.bestValLoss ?? r.finalValLoss : r.finalValLoss)}</td>
              <td className="num">{canResume && dir && <button className="btn small" onClick={(e) => { e.stopPropagation(); void resumeRun(dir, cell.id); }}>Resume</button>}</td>
            </tr>
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
  const selectedRunDir = useStore((s) => s.selectedRunDir);
  const history = useStore((s) => s.history);
  const refs = cell.runs ?? [];
  // the live run and the run picked in a runs list, overlaid; else this cell's newest run
  const shown: ShownRun[] = [];
  if (job?.runDir && job.runId) shown.push({ runId: job.runId, runDir: job.runDir, live: true, label: `${job.runId} (live)` });
  const picked = history.find((x) => x.dir === selectedRunDir && refs.some((r) => r.runId === x.id));
  if (picked && !shown.some((r) => r.runDir === picked.dir)) shown.push({ runId: picked.id, runDir: picked.dir, live: false });
  if (!shown.length) {
    const newest = history.find((x) => x.id === refs[refs.length - 1]?.runId);
    if (newest) shown.push({ runId: newest.id, runDir: newest.dir, live: false });
  }

  return (
    <>
      <ConfigPanel cell={cell} kind="pretrain" form={<PretrainForm cell={cell} />} side={parsed ? <LrChart config={parsed} /> : undefined} />
      <div className={stale ? 'output is-stale' : 'output'}>
        {stale && <div className="stale-note">The configs changed since the newest run started: its results describe the old dataset, model or pretrain settings. Run again to bring them up to date.</div>}
        {job && <JobStatus job={job} />}
        {shown.length > 0 && <RunCharts runs={shown} />}
        <CellRuns cell={cell} />
      </div>
    </>
  );
}
