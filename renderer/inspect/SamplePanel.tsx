/**
 * The sample panel of the inspect cell, for GPT runs: a prompt and the sampling settings, text streamed as
 * the engine draws it (tokens/s per sample), a Stop that ends the request after the current token, and
 * "Show attention" handing prompt + sample to the attention view. The length used is always on screen:
 * the default is lowered to the model's context where that is shorter, and the field says so.
 */
import { useEffect, useRef, useState } from 'react';
import { SAMPLE_LIMITS } from '../../common/sampling';
import type { ParamsOf } from '../../common/workbenchApi';
import { errorMessage, getApi } from '../api';
import { Field, TextInput } from '../notebook/fields';
import { defaultSampleForm, maxNewTokensLimit, readSampleForm, type FormErrors, type SampleForm } from './sampleForm';
import { RunNotice, TextArea, type InspectPanelProps } from './samplePanelParts';
import { useRunModelInfo } from './sampleRunInfo';
import { applyEnded, applyText, describeRequest, newRequestId, startRequest, type SampleRequest } from './sampleStream';

type Checkpoint = ParamsOf<'inspect.sample'>['checkpoint'];

const NUMBER_FIELDS: { key: Exclude<keyof SampleForm, 'prompt'>; label: string; hint: string }[] = [
  { key: 'maxNewTokens', label: 'Max new tokens', hint: 'tokens drawn after the prompt, per sample' },
  { key: 'temperature', label: 'Temperature', hint: '0 always takes the most likely token; higher is more varied' },
  { key: 'topK', label: 'Top-k', hint: 'draw among the k most likely tokens; 0 keeps all' },
  { key: 'topP', label: 'Top-p', hint: 'draw among the fewest most likely tokens whose probabilities reach p; 1 keeps all' },
  { key: 'seed', label: 'Seed', hint: 'sample i uses seed + i: the same seed gives the same text' },
  { key: 'numSamples', label: 'Samples', hint: `how many samples, 1 to ${SAMPLE_LIMITS.numSamples}` },
];

export function SamplePanel({ experimentPath, runId, checkpoint, onSendToAttention }: InspectPanelProps) {
  const { info, error: infoError } = useRunModelInfo(experimentPath, runId);
  const contextLength = info?.contextLength ?? null;
  const [form, setForm] = useState<SampleForm>(() => defaultSampleForm(null));
  const lengthEdited = useRef(false);
  const [errors, setErrors] = useState<FormErrors<SampleForm>>({});
  const [request, setRequest] = useState<SampleRequest | null>(null);
  const [stopError, setStopError] = useState<string | null>(null);
  const live = useRef<SampleRequest | null>(null);
  live.current = request;
  const running = request?.status === 'running';

  // the default length follows the model's context until the user sets one
  useEffect(() => {
    if (contextLength !== null && !lengthEdited.current) setForm((f) => ({ ...f, maxNewTokens: defaultSampleForm(contextLength).maxNewTokens }));
  }, [contextLength]);

  useEffect(() => {
    const api = getApi();
    const offText = api.on('onSampleText', (e) => setRequest((r) => (r ? applyText(r, e) : r)));
    const offEnded = api.on('onSampleEnded', (e) => setRequest((r) => (r ? applyEnded(r, e) : r)));
    return () => {
      offText();
      offEnded();
      // a panel that goes away stops what it started
      const r = live.current;
      if (r?.status === 'running') getApi().call('inspect.stopSample', { requestId: r.requestId }).catch(() => undefined);
    };
  }, []);

  const set = (key: keyof SampleForm, value: string) => {
    if (key === 'maxNewTokens') lengthEdited.current = true;
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  const generate = async () => {
    if (running) return;
    const read = readSampleForm(form, contextLength);
    if (!read.ok) { setErrors(read.errors); return; }
    setErrors({});
    setStopError(null);
    const requestId = newRequestId();
    setRequest(startRequest(requestId, read.params));
    try {
      await getApi().call('inspect.sample', { experimentPath, runId, checkpoint: checkpoint as Checkpoint, requestId, ...read.params });
    } catch (err) {
      setRequest((r) => (r?.requestId === requestId ? { ...r, status: 'failed', error: errorMessage(err) } : r));
    }
  };

  const stop = () => {
    if (!request || !running) return;
    // a request that ended meanwhile has nothing to stop: only a refusal of a live one is news
    getApi().call('inspect.stopSample', { requestId: request.requestId }).catch((err) => { if (live.current?.status === 'running') setStopError(errorMessage(err)); });
  };

  const limit = maxNewTokensLimit(contextLength);
  const prompt = request?.params.prompt ?? '';
  const overall = request && request.samples.length ? request.samples.reduce((n, s) => n + s.tokensPerSecond, 0) / request.samples.length : null;
  return (
    <div className="form" data-testid="sample-panel">
      <RunNotice info={info} error={infoError} needs="gpt" />
      <TextArea label="Prompt" value={form.prompt} onChange={(v) => set('prompt', v)} onSubmit={() => void generate()} error={errors.prompt}
        placeholder="ROMEO:" testId="sample-prompt" />
      <div className="grid">
        {NUMBER_FIELDS.map(({ key, label, hint }) => (
          <Field key={key} label={label} hint={hint} error={errors[key]}>
            <TextInput value={form[key]} onChange={(v) => set(key, v ?? '')} />
          </Field>
        ))}
      </div>
      <div className="muted small" data-testid="sample-length">
        {contextLength === null
          ? `At most ${limit} new tokens per sample.`
          : `At most ${limit} new tokens per sample (${limit === contextLength ? `the model's context is ${contextLength} tokens` : `the workbench's cap; the context is ${contextLength}`}); past the context the model sees the latest tokens only.`}
      </div>
      <div style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
        <button type="button" className="btn primary" onClick={() => void generate()} disabled={running} data-testid="sample-generate">Generate</button>
        <button type="button" className="btn danger" onClick={stop} disabled={!running} data-testid="sample-stop">Stop</button>
        {request && <span className="muted small" role="status" data-testid="sample-status">{describeRequest(request)}{overall !== null ? ` · ${overall.toFixed(1)} tokens/s` : ''}</span>}
      </div>
      {request?.error && <div className="inline-error" role="alert" data-testid="sample-error">{request.error}</div>}
      {stopError && <div className="inline-error" role="alert">{stopError}</div>}
      {request?.samples.map((s, i) => {
        const tokens = request.promptTokens !== undefined ? request.promptTokens + s.newTokens : null;
        const tooLong = tokens !== null && request.contextLength !== undefined && tokens > request.contextLength;
        return (
          <div key={i} className="output" data-testid="sample-output">
            <div className="output-head">
              <span className="badge">sample {i + 1}</span>
              <span className="muted small mono" data-testid="sample-meta">seed {s.seed} · {s.newTokens}/{request.params.maxNewTokens} tokens · {s.tokensPerSecond.toFixed(1)} tokens/s</span>
              <span className="spacer" />
              {tooLong && <span className="muted small">{tokens} tokens: the attention view shows at most {request.contextLength}</span>}
              {onSendToAttention && (
                <button type="button" className="btn small" disabled={running} onClick={() => onSendToAttention(prompt + s.text)}
                  title="open the prompt and this sample in the attention view" data-testid="sample-show-attention">Show attention</button>
              )}
            </div>
            <pre className="mono" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', margin: '8px 0 0', padding: '8px 10px', background: 'var(--panel-2)', border: '1px solid var(--border)', borderRadius: 6, fontSize: 12.5, maxHeight: 360, overflow: 'auto' }}
              data-testid="sample-text"><span className="muted">{prompt}</span>{s.text}</pre>
          </div>
        );
      })}
    </div>
  );
}
