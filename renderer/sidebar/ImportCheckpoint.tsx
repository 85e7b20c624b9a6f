import { useState } from 'react';
import { errorMessage, getApi } from '../api';
import { refreshHistory } from '../session/runs';
import { useStore } from '../state/store';

type Outcome = { ok: true; runId: string; summary: string; notes: string[] } | { ok: false; message: string };

/**
 * "Import…" beside the runs list: a Hugging Face GPT-2 or BERT checkpoint folder becomes a run of this
 * experiment (runs.import), which the runs list, the inspect cell and every other view then open. The
 * folder is typed (or pasted) as a path: in browser mode it must lie inside the workspace.
 */
export function ImportCheckpoint({ onClose }: { onClose: () => void }) {
  const path = useStore((s) => s.path);
  const selectRun = useStore((s) => s.selectRun);
  const [dir, setDir] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function submit() {
    if (!path || !dir.trim()) return;
    setBusy(true);
    setOutcome(null);
    try {
      const r = await getApi().call('runs.import', { experimentPath: path, sourceDir: dir.trim() });
      await refreshHistory();
      selectRun(r.runId);
      setOutcome({ ok: true, runId: r.runId, summary: `${r.architecture}, ${r.parameters.toLocaleString('en')} parameters`, notes: r.notes });
    } catch (err) {
      setOutcome({ ok: false, message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="import-form" aria-label="import a checkpoint" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <label className="small muted" htmlFor="import-dir">Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json)</label>
      <input id="import-dir" className="input mono small" value={dir} placeholder="/path/to/gpt2" disabled={busy} autoFocus
        onChange={(e) => setDir(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape') onClose(); }} />
      <div className="import-actions">
        <button type="submit" className="btn small primary" disabled={busy || !dir.trim()}>{busy ? 'Importing…' : 'Import'}</button>
        <button type="button" className="btn small ghost" onClick={onClose} disabled={busy}>Close</button>
      </div>
      {outcome?.ok === false && <p className="inline-error small" role="alert">{outcome.message}</p>}
      {outcome?.ok && (
        <div className="small" role="status">
          Imported as run <span className="mono">{outcome.runId}</span> ({outcome.summary}).
          {outcome.notes.map((n) => <p key={n} className="muted">{n}</p>)}
        </div>
      )}
    </form>
  );
}
