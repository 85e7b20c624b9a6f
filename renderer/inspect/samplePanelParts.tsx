/** Pieces the sample and fill-mask panels share: the props an inspect cell gives them, a text area with its label and message, a run's warnings. */
import { useId, type KeyboardEvent } from 'react';
import type { RunModelInfo } from './sampleRunInfo';

/** What the inspect cell hands each panel: the run, the checkpoint picked, and where "show attention" goes. */
export interface InspectPanelProps {
  experimentPath: string;
  runId: string;
  /** 'last', 'best' or a checkpoint folder name, step-<N> */
  checkpoint: string;
  onSendToAttention?: (text: string) => void;
}

/** A labelled multi-line input whose error is outside its label and described on it (as notebook/fields.tsx's Field does). */
export function TextArea({ label, value, onChange, onSubmit, error, placeholder, testId }: {
  label: string; value: string; onChange: (v: string) => void; onSubmit: () => void; error?: string; placeholder?: string; testId: string;
}) {
  const id = useId();
  const messageId = `${id}-message`;
  // Ctrl/Cmd+Enter runs, as in the notebook's editors
  const onKeyDown = (e: KeyboardEvent) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onSubmit(); } };
  return (
    <div className={`field field-wide${error ? ' field-error' : ''}`}>
      <label className="field-label" htmlFor={id}>{label}</label>
      <textarea id={id} className="input mono" rows={3} value={value} placeholder={placeholder} data-testid={testId}
        style={{ height: 'auto', padding: '6px 8px', resize: 'vertical', lineHeight: 1.45 }}
        onChange={(e) => onChange(e.target.value)} onKeyDown={onKeyDown}
        {...(error ? { 'aria-invalid': true, 'aria-describedby': messageId } : {})} />
      {error && <span className="field-message" id={messageId}>{error}</span>}
    </div>
  );
}

/** Why this run cannot answer the panel (the other architecture, or a run that cannot be read), or nothing. */
export function RunNotice({ info, error, needs }: { info: RunModelInfo | null; error: string | null; needs: 'gpt' | 'bert' }) {
  if (error) return <div className="inline-error" role="alert">{error}</div>;
  if (!info || info.arch === needs) return null;
  const message = needs === 'gpt'
    ? 'This run is a BERT model, which does not generate text: use the fill-mask panel for it.'
    : 'This run is a GPT model, which has no masked-LM head: use the sample panel for it.';
  return <div className="stale-note" role="status">{message}</div>;
}
