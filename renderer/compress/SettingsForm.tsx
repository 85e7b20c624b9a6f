import { Checkbox, Field, NumberInput, Section, Select, TextInput } from '../notebook/fields';
import { type Method, type SettingsField, settingsSections } from './settingsFields';

type Settings = Record<string, unknown>;

const getIn = (o: unknown, path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Settings)[k] : undefined), o);

/** A copy of `o` with `value` at `path`; undefined removes the key, and an object left empty goes too (the default is back). */
export function setSetting(o: Settings, path: string[], value: unknown): Settings {
  const [head, ...rest] = path;
  const next: Settings = { ...o };
  const v = rest.length ? setSetting((o[head] as Settings | undefined) ?? {}, rest, value) : value;
  if (v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)) delete next[head];
  else next[head] = v;
  return next;
}

const shown = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));

function FieldControl({ f, value, onChange }: { f: SettingsField; value: unknown; onChange: (v: unknown) => void }) {
  switch (f.kind) {
    case 'number': return <NumberInput value={value} placeholder={shown(f.fallback)} step={f.integer ? 1 : undefined} onChange={onChange} />;
    case 'choice': return <Select value={value} options={f.options} placeholder={`${shown(f.fallback)} (default)`} onChange={onChange} />;
    case 'switch': return <Checkbox value={value} fallback={Boolean(f.fallback)} label={f.label} hint={f.hint} onChange={onChange} />;
    case 'names': return <TextInput value={Array.isArray(value) ? value.join(', ') : undefined} placeholder={f.hint ?? 'comma-separated'}
      onChange={(t) => onChange(t === undefined ? undefined : t.split(',').map((s) => s.trim()).filter(Boolean))} />;
  }
}

/**
 * The method's settings as a form: one section per level of the method's schema, each field empty while it
 * keeps its default (shown as the placeholder). Every change goes through `onChange` as the whole settings
 * object, which the cell stores per method (and undo takes back).
 */
export function SettingsForm({ method, settings, onChange }: { method: Method; settings: Settings; onChange: (s: Settings) => void }) {
  return (
    <div className="compress-settings" data-testid="compress-settings">
      {settingsSections(method).map((section) => (
        <Section key={section.path.join('.') || 'top'} title={section.title}>
          {section.fields.map((f) => (
            <Field key={f.path.join('.')} label={f.label} hint={f.hint}>
              <FieldControl f={f} value={getIn(settings, f.path)} onChange={(v) => onChange(setSetting(settings, f.path, v))} />
            </Field>
          ))}
        </Section>
      ))}
    </div>
  );
}
