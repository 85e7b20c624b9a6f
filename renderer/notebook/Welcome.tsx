import { useEffect, useState } from 'react';
import type { z } from 'zod';
import type { ExperimentTemplate } from '../../common/workbenchApi';
import { errorMessage, getApi } from '../api';
import { runCommand } from '../commands';
import { fileName } from '../lib/format';
import { useStore } from '../state/store';

type Template = z.infer<typeof ExperimentTemplate>;

/** What the notebook shows with no experiment open: templates to start from and files to reopen. */
export function Welcome() {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [recent, setRecent] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const setOpenDialog = useStore((s) => s.setOpenDialog);
  useEffect(() => {
    getApi().call('experiments.templates', {}).then(setTemplates, (e) => setError(errorMessage(e)));
    getApi().call('experiments.recent', {}).then(setRecent, () => {});
  }, []);
  return (
    <div className="welcome">
      <h1>Transformer Workbench</h1>
      <p className="muted">Build a dataset, shape a model, pretrain it and watch it learn — one experiment file holds it all.</p>
      {error && <div className="inline-error">Cannot reach the workbench host: {error}</div>}
      <h3>Start from a template</h3>
      <div className="template-grid">
        {(templates ?? []).map((t) => (
          <button key={t.id} className="template" onClick={() => void runCommand('experiment.new', { args: [t.id] })}>
            <strong>{t.name}</strong>
            <span className="muted small">{t.description}</span>
          </button>
        ))}
        {templates === null && !error && <span className="muted">Loading templates…</span>}
      </div>
      <h3>Open</h3>
      <div className="recent">
        {recent.map((p) => (
          <button key={p} className="link-row" onClick={() => void runCommand('experiment.open', { args: [p] })}><span>{fileName(p)}</span><span className="muted small mono">{p}</span></button>
        ))}
        <button className="btn" onClick={() => setOpenDialog('open')}>Open an experiment file…</button>
      </div>
    </div>
  );
}
