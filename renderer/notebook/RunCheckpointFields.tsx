import type { CheckpointRef, InspectCheckpoints } from '../../common/inspect';

/** A run of the experiment as a picker lists it: its id, its status, its step. */
export type RunChoice = [id: string, status: string, step: string];

/**
 * The pickers of a cell that works on a trained model (inspect, compress): a run of the experiment (one that is
 * set but no longer listed stays shown as such) and one of its checkpoints — last, best, or a kept one with its
 * validation loss.
 */
export function RunCheckpointFields({ label, runs, runId, onRun, checkpoint, onCheckpoint, checkpoints }: {
  label: string; runs: RunChoice[]; runId: string | undefined; onRun: (id: string | undefined) => void;
  checkpoint: CheckpointRef; onCheckpoint: (c: CheckpointRef) => void; checkpoints: InspectCheckpoints | null;
}) {
  return (
    <>
      <label className="field">
        <span className="field-label">{label}</span>
        <select className="input" aria-label={label} value={runId ?? ''} onChange={(e) => onRun(e.target.value || undefined)}>
          <option value="">— pick a run —</option>
          {runId && !runs.some(([id]) => id === runId) && <option value={runId}>{runId} (not listed)</option>}
          {runs.map(([id, status, step]) => <option key={id} value={id}>{id} · {status} · step {step}</option>)}
        </select>
      </label>
      <label className="field">
        <span className="field-label">Checkpoint</span>
        <select className="input" aria-label="Checkpoint" value={checkpoint} onChange={(e) => onCheckpoint(e.target.value as CheckpointRef)}>
          <option value="last">last{checkpoints?.last ? ` (${checkpoints.last})` : ''}</option>
          <option value="best">best{checkpoints?.best ? ` (${checkpoints.best})` : ''}</option>
          {checkpoints?.checkpoints.map((c) => <option key={c.name} value={c.name}>{c.name}{c.valLoss !== null ? ` · val ${c.valLoss.toFixed(3)}` : ''}</option>)}
        </select>
      </label>
    </>
  );
}
