import { useEffect, useRef, useState } from 'react';
import type { z } from 'zod';
import type { ExperimentTemplate } from '../../common/workbenchApi';
import { errorMessage, getApi } from '../api';
import { runCommand } from '../commands';
import { fileName } from '../lib/format';
import { useStore } from '../state/store';

type Template = z.infer<typeof ExperimentTemplate>;
type Listed = { path: string; name: string; mtimeMs: number };

/**
 * Open, new and save-as in one dialog, for browser mode (no native dialogs) and for the desktop when a
 * command comes without a path: the workspace's experiment files, a path field, and the templates.
 */
export function OpenDialog() {
  const open = useStore((s) => s.openDialog);
  const saving = open === 'save';
  const setOpen = useStore((s) => s.setOpenDialog);
  const hasDoc = useStore((s) => s.doc !== null);
  const docPath = useStore((s) => s.path);
  const docName = useStore((s) => s.doc?.name ?? 'experiment');
  const [files, setFiles] = useState<Listed[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const pathInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      setError(null);
      const slug = docName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'experiment';
      setPath(docPath ?? `experiments/${slug}.experiment.json`);
      getApi().call('experiments.list', {}).then(setFiles, (e) => { setFiles([]); setError(errorMessage(e)); });
      getApi().call('experiments.templates', {}).then(setTemplates, () => {});
      // showModal focuses the first button (✕); the path is what the dialog asks for. A frame later, so
      // the path set above is in the field and selected whole, ready to be typed over.
      requestAnimationFrame(() => { pathInput.current?.focus(); pathInput.current?.select(); });
    } else if (!open && d.open) d.close();
  }, [open, docPath, docName]);

  const act = async (id: string, args: string[]) => { setOpen(false); await runCommand(id, { args }); };

  return (
    <dialog ref={ref} className="dialog" onClose={() => setOpen(false)}>
      <div className="dialog-head"><h2>Experiments</h2><button className="icon-btn" aria-label="Close" onClick={() => setOpen(false)}>✕</button></div>
      <div className="dialog-body">
        {/* Enter in the path field does what the dialog was opened for (a form with one field submits on Enter) */}
        <form className="dialog-form" onSubmit={(e) => { e.preventDefault(); if (path && (!saving || hasDoc)) void act(saving ? 'experiment.saveAs' : 'experiment.open', [path]); }}>
          <label className="field field-wide">
            <span className="field-label">Path of an experiment file</span>
            <input ref={pathInput} className="input mono" value={path} onChange={(e) => setPath(e.target.value)} placeholder="experiments/name.experiment.json" />
          </label>
          <div className="dialog-actions">
            <button type="button" className={saving ? 'btn' : 'btn primary'} disabled={!path} onClick={() => void act('experiment.open', [path])}>Open this file</button>
            <button type="button" className={saving ? 'btn primary' : 'btn'} disabled={!path || !hasDoc} onClick={() => void act('experiment.saveAs', [path])}>Save the current experiment here</button>
          </div>
        </form>
        {error && <div className="inline-error">{error}</div>}
        <h3>In the workspace</h3>
        <div className="file-list">
          {files === null && <span className="muted">Listing…</span>}
          {files?.length === 0 && <span className="muted">No experiment files found.</span>}
          {files?.map((f) => (
            <button key={f.path} className="link-row" onClick={() => void act('experiment.open', [f.path])} onMouseEnter={() => setPath(f.path)}>
              <span>{f.name || fileName(f.path)}</span><span className="muted small mono">{f.path}</span><span className="muted small">{new Date(f.mtimeMs).toLocaleString()}</span>
            </button>
          ))}
        </div>
        <h3>New from a template</h3>
        <div className="file-list">
          {templates.map((t) => (
            <button key={t.id} className="link-row" onClick={() => void act('experiment.new', [t.id])}><span>{t.name}</span><span className="muted small">{t.description}</span></button>
          ))}
        </div>
      </div>
    </dialog>
  );
}
