/**
 * The fill-mask panel of the inspect cell, for BERT runs: a text with [MASK] where words should be predicted,
 * and for each [MASK] the k most likely tokens with their probabilities (a bar each). "Show attention"
 * hands the text, [MASK]s and all, to the attention view.
 */
import { useState } from 'react';
import type { FillMaskResult } from '../../common/sampling';
import type { ParamsOf } from '../../common/workbenchApi';
import { errorMessage, getApi } from '../api';
import { Field, TextInput } from '../notebook/fields';
import { readFillMaskForm, type FillMaskForm, type FormErrors } from './sampleForm';
import { RunNotice, TextArea, type InspectPanelProps } from './samplePanelParts';
import { useRunModelInfo } from './sampleRunInfo';

type Checkpoint = ParamsOf<'inspect.fillMask'>['checkpoint'];

export function FillMaskPanel({ experimentPath, runId, checkpoint, onSendToAttention }: InspectPanelProps) {
  const { info, error: infoError } = useRunModelInfo(experimentPath, runId);
  const [form, setForm] = useState<FillMaskForm>({ text: '', topK: '5' });
  const [errors, setErrors] = useState<FormErrors<FillMaskForm>>({});
  const [result, setResult] = useState<{ text: string; fill: FillMaskResult } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const set = (key: keyof FillMaskForm, value: string) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  const fill = async () => {
    if (busy) return;
    const read = readFillMaskForm(form);
    if (!read.ok) { setErrors(read.errors); return; }
    setErrors({});
    setError(null);
    setBusy(true);
    try {
      const r = await getApi().call('inspect.fillMask', { experimentPath, runId, checkpoint: checkpoint as Checkpoint, ...read.params });
      setResult({ text: read.params.text, fill: r });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="form" data-testid="fill-mask-panel">
      <RunNotice info={info} error={infoError} needs="bert" />
      <TextArea label="Text with [MASK]" value={form.text} onChange={(v) => set('text', v)} onSubmit={() => void fill()} error={errors.text}
        placeholder="the [MASK] sat on the mat." testId="fill-mask-text" />
      <div className="grid">
        <Field label="Top-k" hint="candidates listed per [MASK]" error={errors.topK}>
          <TextInput value={form.topK} onChange={(v) => set('topK', v ?? '')} />
        </Field>
      </div>
      <div style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
        <button type="button" className="btn primary" onClick={() => void fill()} disabled={busy} data-testid="fill-mask-run">{busy ? 'Filling…' : 'Fill [MASK]'}</button>
        <button type="button" className="btn" onClick={() => set('text', `${form.text}${form.text && !form.text.endsWith(' ') ? ' ' : ''}[MASK]`)}>Insert [MASK]</button>
        {result && onSendToAttention && (
          <button type="button" className="btn" onClick={() => onSendToAttention(result.text)} data-testid="fill-mask-show-attention">Show attention</button>
        )}
        {result && <span className="muted small" role="status">checkpoint {result.fill.checkpoint.name} (step {result.fill.checkpoint.step}) · {result.fill.tokens.length} tokens</span>}
      </div>
      {error && <div className="inline-error" role="alert" data-testid="fill-mask-error">{error}</div>}
      {result && <MaskTables fill={result.fill} />}
    </div>
  );
}

/** One table per [MASK]: its candidates, most likely first, with the probability as a number and a bar (the top one full width, so that small probabilities still compare). */
export function MaskTables({ fill }: { fill: FillMaskResult }) {
  return (
    <div className="preview-grid" data-testid="fill-mask-results">
      {fill.masks.map((m, i) => (
        <div key={m.position} className="output" data-testid="fill-mask-mask">
          <div className="output-head">
            <span className="badge">[MASK] {i + 1}</span>
            <span className="muted small mono">position {m.position}: {fill.tokens.slice(Math.max(0, m.position - 3), m.position).join(' ')} <b>[MASK]</b> {fill.tokens.slice(m.position + 1, m.position + 4).join(' ')}</span>
          </div>
          <table className="table">
            <thead><tr><th>token</th><th className="num">probability</th><th style={{ width: '40%' }} /></tr></thead>
            <tbody>
              {m.candidates.map((c, _, all) => (
                <tr key={c.id}>
                  <td className="mono">{c.token}</td>
                  <td className="num mono">{(c.probability * 100).toFixed(2)}%</td>
                  <td><div style={{ height: 8, borderRadius: 2, background: 'var(--accent)', width: `${Math.max(1, (100 * c.probability) / (all[0].probability || 1))}%` }} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}
