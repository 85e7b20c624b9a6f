import { createContext, type ReactNode, useContext, useEffect, useId, useState } from 'react';

/**
 * Form fields bound to one value of a cell's config. They write on every change; the store coalesces
 * quick edits of one field into one undo step. An empty number field means "leave out" (the default).
 */

type Path = (string | number)[];

/** A copy of `obj` with the value at `path` set (undefined deletes the key). */
export function setIn(obj: unknown, path: Path, value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  const base = (obj && typeof obj === 'object' ? obj : {}) as Record<string | number, unknown>;
  const next = Array.isArray(base) ? [...base] : { ...base };
  const v = setIn(base[head], rest, value);
  if (v === undefined) delete (next as Record<string | number, unknown>)[head];
  else (next as Record<string | number, unknown>)[head] = v;
  return next;
}

export function getIn(obj: unknown, path: Path): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string | number, unknown>)[k] : undefined), obj);
}

/** What a Field tells the control inside it: its id (for the label) and its error message's, if any. */
const FieldContext = createContext<{ id: string; messageId?: string } | null>(null);

/** The control's side of a Field: id, aria-invalid and aria-describedby (nothing outside a Field). */
function useFieldControl() {
  const f = useContext(FieldContext);
  if (!f) return {};
  return { id: f.id, ...(f.messageId ? { 'aria-invalid': true, 'aria-describedby': f.messageId } : {}) };
}

/**
 * A labelled control with its error under it. The message is outside the <label>, so the field's
 * accessible name is its label alone; the control points at it (aria-describedby) and is aria-invalid.
 */
export function Field({ label, hint, error, children, wide }: { label: string; hint?: string; error?: string; children: ReactNode; wide?: boolean }) {
  const id = useId();
  const messageId = error ? `${id}-message` : undefined;
  return (
    <div className={`field${wide ? ' field-wide' : ''}${error ? ' field-error' : ''}`} title={hint}>
      <label className="field-label" htmlFor={id}>{label}</label>
      <FieldContext.Provider value={{ id, messageId }}>{children}</FieldContext.Provider>
      {error && <span className="field-message" id={messageId}>{error}</span>}
    </div>
  );
}

export function NumberInput({ value, onChange, placeholder, step, min, max }: {
  value: unknown; onChange: (v: number | undefined) => void; placeholder?: string; step?: number; min?: number; max?: number;
}) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  // follow the store when it changes from elsewhere (JSON editor, undo) unless the text already means it
  useEffect(() => {
    const shown = text.trim() === '' ? undefined : Number(text);
    if (shown !== value) setText(value === undefined || value === null ? '' : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const field = useFieldControl();
  return (
    <input
      {...field}
      className="input mono"
      inputMode="decimal"
      value={text}
      placeholder={placeholder}
      step={step}
      min={min}
      max={max}
      onChange={(e) => {
        setText(e.target.value);
        const t = e.target.value.trim();
        if (t === '') onChange(undefined);
        else if (Number.isFinite(Number(t))) onChange(Number(t));
      }}
    />
  );
}

export function TextInput({ value, onChange, onBlur, placeholder }: { value: unknown; onChange: (v: string | undefined) => void; onBlur?: (v: string) => void; placeholder?: string }) {
  const field = useFieldControl();
  return (
    <input {...field} className="input mono" value={typeof value === 'string' ? value : ''} placeholder={placeholder}
      onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} onBlur={onBlur && ((e) => onBlur(e.target.value))} />
  );
}

export function Select<T extends string>({ value, options, onChange, placeholder }: {
  value: unknown; options: readonly (T | { value: T; label: string })[]; onChange: (v: T | undefined) => void; placeholder?: string;
}) {
  const field = useFieldControl();
  return (
    <select {...field} className="input" value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value === '' ? undefined : (e.target.value as T))}>
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {options.map((o) => {
        const v = typeof o === 'string' ? o : o.value;
        return <option key={v} value={v}>{typeof o === 'string' ? o : o.label}</option>;
      })}
    </select>
  );
}

export function Checkbox({ value, onChange, label, fallback = false, hint }: { value: unknown; onChange: (v: boolean) => void; label: string; fallback?: boolean; hint?: string }) {
  return (
    <label className="checkbox" title={hint}>
      <input type="checkbox" checked={typeof value === 'boolean' ? value : fallback} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}

export function Section({ title, children, aside }: { title: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <fieldset className="section">
      <legend>{title}{aside}</legend>
      <div className="grid">{children}</div>
    </fieldset>
  );
}
