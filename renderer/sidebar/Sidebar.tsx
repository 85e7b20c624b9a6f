import { useState } from 'react';
import { runsFolderName } from '../../common/experiment';
import { runConfigOf } from '../../common/runConfig';
import { useShallow } from 'zustand/react/shallow';
import { KIND_LABEL } from '../lib/cellConfig';
import { fileName, loss } from '../lib/format';
import { refreshHistory } from '../session/runs';
import { useDocMeta } from '../state/selectors';
import { useStore } from '../state/store';
import { ImportCheckpoint } from './ImportCheckpoint';

function scrollToCell(id: string) {
  document.querySelector(`[data-cell-id="${CSS.escape(id)}"]`)?.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function ExperimentInfo() {
  const { name, path } = useDocMeta();
  const description = useStore((s) => s.doc?.description ?? '');
  const editDocument = useStore((s) => s.editDocument);
  return (
    <div className="side-section">
      <div className="side-title">Experiment</div>
      <input className="input side-name" value={name ?? ''} aria-label="experiment name"
        onChange={(e) => editDocument((d) => ({ ...d, name: e.target.value }), 'doc:name')} />
      <textarea className="input side-desc" rows={3} value={description} placeholder="What this experiment is about" aria-label="description"
        onChange={(e) => editDocument((d) => ({ ...d, description: e.target.value || undefined }), 'doc:description')} />
      <div className="muted small mono path" title={path ?? ''}>{path ? fileName(path) : 'not saved yet'}</div>
    </div>
  );
}

function Outline() {
  const cells = useStore(useShallow((s) => s.doc?.cells.map((c) => `${c.id}\u0000${c.kind}\u0000${c.title ?? ''}`) ?? []));
  const selected = useStore((s) => s.selectedCellId);
  const selectCell = useStore((s) => s.selectCell);
  return (
    <div className="side-section">
      <div className="side-title">Cells</div>
      <ol className="outline">
        {cells.map((key, i) => {
          const [id, kind, title] = key.split('\u0000') as [string, keyof typeof KIND_LABEL, string];
          return (
            <li key={id}>
              <button className={selected === id ? 'outline-item active' : 'outline-item'} onClick={() => { selectCell(id); scrollToCell(id); }}>
                <span className="mono muted">{i + 1}</span><span className={`kind-dot kind-${kind}`} /><span className="ellipsis">{title || KIND_LABEL[kind]}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

/** A row of the runs list: a run folder as runs.list read it, overlaid with its job while it runs. */
interface RunRow { id: string; ok: boolean; problem?: string; status: string; step: number; val: number | null; valLabel: string; importedFrom?: string }

function Runs() {
  const history = useStore((s) => s.history);
  const jobs = useStore((s) => s.jobs);
  const error = useStore((s) => s.historyError);
  const selectedRunId = useStore((s) => s.selectedRunId);
  const selectRun = useStore((s) => s.selectRun);
  const path = useStore((s) => s.path);
  const cellOfRun = useStore(useShallow((s) => Object.fromEntries((s.doc?.cells ?? []).flatMap((c) => (c.kind === 'pretrain' ? (c.runs ?? []).map((r) => [r.runId, c.id]) : [])))));
  // run.json is rewritten at checkpoints and at the end: a live run's step and loss come from its job,
  // and a run whose folder is not listed yet (runs.list is read again when it starts) is shown from it
  const live = Object.values(jobs).filter((j) => j.ended === null && j.status !== 'starting');
  const liveOf = (id: string) => live.find((j) => j.runId === id);
  const rows: RunRow[] = [
    ...live.filter((j) => !history.some((h) => h.id === j.runId)).map((j): RunRow => ({ id: j.runId, ok: true, status: j.status, step: j.step, val: j.valLoss, valLabel: 'val' })),
    ...history.map((r): RunRow => {
      const j = liveOf(r.id);
      if (j) return { id: r.id, ok: true, status: j.status, step: j.step, val: j.valLoss, valLabel: 'val' };
      const config = r.ok ? runConfigOf(r.run) : null;
      if (config?.task === 'import') return { id: r.id, ok: true, status: 'imported', step: 0, val: null, valLabel: '', importedFrom: config.source.architecture };
      return r.ok
        ? { id: r.id, ok: true, status: r.run.status, step: r.run.step, val: r.run.bestValLoss, valLabel: 'best val' }
        : { id: r.id, ok: false, problem: r.problem, status: '', step: 0, val: null, valLabel: '' };
    }),
  ];
  const runsFolder = path ? runsFolderName(fileName(path)) : '';
  const [importing, setImporting] = useState(false);
  return (
    <div className="side-section grow">
      <div className="side-title">Runs <span>
        <button className="link" onClick={() => setImporting(true)} disabled={!path} title={path ? 'bring in a Hugging Face checkpoint folder as a run' : 'save the experiment first'}>import…</button>
        <button className="link" onClick={() => void refreshHistory()} disabled={!path}>refresh</button>
      </span></div>
      {importing && path && <ImportCheckpoint onClose={() => setImporting(false)} />}
      {!path && <p className="muted small">Runs are listed once the experiment is saved.</p>}
      {error && <p className="inline-error small">{error}</p>}
      {path && !error && rows.length === 0 && <p className="muted small">No runs yet.</p>}
      <ul className="run-list" aria-label="runs">
        {rows.map((r) => (
          <li key={r.id}>
            <button className={selectedRunId === r.id ? 'run-item active' : 'run-item'} title={r.ok ? `${runsFolder}/${r.id}` : r.problem}
              onClick={() => { selectRun(r.id); const c = cellOfRun[r.id]; if (c) scrollToCell(c); }}>
              <span className="mono ellipsis">{r.id}</span>
              {r.ok ? <>
                <span className={`badge status-${r.status}`}>{r.status}</span>
                <span className="muted small mono run-meta">{r.importedFrom ? r.importedFrom : `step ${r.step} · ${r.valLabel} ${loss(r.val)}`}</span>
              </> : <span className="badge error">unreadable</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Sidebar() {
  const { hasDoc } = useDocMeta();
  return (
    <aside className="sidebar">
      {hasDoc ? <><ExperimentInfo /><Outline /><Runs /></> : <p className="muted small side-section">Open or create an experiment to begin.</p>}
    </aside>
  );
}
