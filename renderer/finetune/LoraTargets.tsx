import { useEffect, useId, useMemo, useState } from 'react';
import { adapterParams, type LoraTargetsResult } from '../../common/loraTargets';
import { errorMessage, getApi } from '../api';

export interface LoraTargetsProps {
  /** the base run whose modules are listed */
  run: { experimentPath: string; runId: string };
  /** the target patterns; undefined: the architecture's defaults */
  patterns: string[] | undefined;
  /** the adapter rank, for the trainable count and share */
  r: number;
  onChange(patterns: string[] | undefined): void;
}

const ASK_AFTER_MS = 250;

/** Whether a typed plain pattern names this kind of layer: the kind itself or a dotted suffix of it (`query` of `attention.self.query`). */
function matchesKind(pattern: string, kind: string): boolean {
  return kind === pattern || kind.endsWith(`.${pattern}`);
}

/**
 * The LoRA target picker of the fine-tune form: the patterns as typed (PEFT's rules: a plain name matches a
 * module whose name ends with it at a dot, a pattern with regex characters must match a whole name), each
 * with the number of modules it selects, the model's linear layers as chips to pick, a pattern that matches
 * nothing answered with the names it could mean, and the trainable parameters and share at rank r.
 */
export function LoraTargets({ run, patterns, r, onChange }: LoraTargetsProps) {
  const inputId = useId();
  const [text, setText] = useState((patterns ?? []).join(', '));
  const [answer, setAnswer] = useState<LoraTargetsResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const asked = useMemo(() => text.split(',').map((p) => p.trim()).filter(Boolean), [text]);
  // an undo, a redo or a reload changes the patterns from outside: show them (typing keeps its own text,
  // trailing comma and all, since it already agrees with them)
  const given = (patterns ?? []).join('\u0000');
  useEffect(() => {
    if (asked.join('\u0000') !== given) setText((patterns ?? []).join(', '));
  }, [given]);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      getApi().call('finetune.loraTargets', { ...run, ...(asked.length ? { patterns: asked } : {}) })
        .then((a) => { if (live) { setAnswer(a); setError(null); } }, (e) => live && setError(errorMessage(e)));
    }, ASK_AFTER_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [run.experimentPath, run.runId, asked.join('\u0000')]);

  const set = (next: string[]) => {
    setText(next.join(', '));
    onChange(next.length ? next : undefined);
  };
  // one chip per distinct layer kind (the name after the layer number), the way a user names targets
  const kinds = useMemo(() => {
    const counts = new Map<string, number>();
    for (const m of answer?.adaptable ?? []) {
      const kind = m.name.replace(/^.*?\.\d+\./, '');
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return [...counts];
  }, [answer]);
  const selected = new Set(answer?.selected ?? []);
  // the patterns in force: the ones typed, or the architecture's defaults while none are
  const current = asked.length ? asked : answer?.defaults ?? [];
  const trainable = answer ? adapterParams(answer.adaptable.filter((m) => selected.has(m.name)), r) : 0;
  const share = answer && answer.totalParams ? (100 * trainable) / (answer.totalParams + trainable) : 0;

  return (
    <div className="lora-targets" data-testid="lora-targets">
      <label className="field-label" htmlFor={inputId}>Target modules</label>
      <input id={inputId} className="input mono" value={text} placeholder={answer ? `default: ${answer.defaults.join(', ')}` : ''} spellCheck={false}
          onChange={(e) => { setText(e.target.value); const next = e.target.value.split(',').map((p) => p.trim()).filter(Boolean); onChange(next.length ? next : undefined); }} />
      {answer && (
        <div className="chips lora-target-counts">
          {answer.patterns.map((p) => <span key={p} className={`chip count ${answer.counts[p] ? '' : 'bad'}`} data-testid="lora-target-count">{p}: {answer.counts[p] ?? 0}</span>)}
        </div>
      )}
      {answer?.problems.map((p) => <div key={p} className="field-message" role="alert">{p}</div>)}
      {answer && Object.entries(answer.suggestions).map(([wrong, names]) => (
        <div key={wrong} className="chips lora-suggestions">
          {names.map((s) => <button key={s} className="btn small" onClick={() => set(asked.map((x) => (x === wrong ? s : x)))}>use {s} for {wrong}</button>)}
        </div>
      ))}
      {error && <div className="field-message" role="alert">{error}</div>}
      {answer && (
        <div className="chips lora-target-kinds">
          {kinds.map(([kind, n]) => {
            // on when every module of this kind is selected, by whatever pattern
            const on = (answer.adaptable.filter((m) => m.name.replace(/^.*?\.\d+\./, '') === kind)).every((m) => selected.has(m.name));
            return (
              <button key={kind} className={`chip ${on ? 'on' : ''}`} aria-pressed={on} title={`${n} module${n === 1 ? '' : 's'}`}
                onClick={() => set(on ? current.filter((x) => !matchesKind(x, kind)) : [...current, kind])}>{kind} ×{n}</button>
            );
          })}
        </div>
      )}
      {answer && (
        <div className="lora-share" data-testid="lora-share">
          {selected.size} modules · {trainable.toLocaleString('en-US')} trainable parameters at r={r} · {share.toFixed(2)}% of {(answer.totalParams + trainable).toLocaleString('en-US')}
        </div>
      )}
    </div>
  );
}
