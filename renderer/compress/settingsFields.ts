/**
 * The compress cell's settings form, read off the method's schema (common/compressConfig.ts) rather than
 * written out by hand: each owner of a method refines its fields there, and the form follows. Nested objects
 * become sections; numbers, choices, switches and lists of names become fields; a field's placeholder is its
 * default, so an untouched form runs with the defaults.
 */
import type { z } from 'zod';
import { CompressConfig } from '../../common/compressConfig';

export type SettingsPath = string[];

export type SettingsField =
  | { kind: 'number'; path: SettingsPath; label: string; hint?: string; fallback: unknown; integer: boolean }
  | { kind: 'choice'; path: SettingsPath; label: string; hint?: string; fallback: unknown; options: string[] }
  | { kind: 'switch'; path: SettingsPath; label: string; hint?: string; fallback: unknown }
  | { kind: 'names'; path: SettingsPath; label: string; hint?: string; fallback: unknown };

export interface SettingsSection { title: string; path: SettingsPath; fields: SettingsField[] }

export type Method = CompressConfig['method'];

interface Def { type: string; innerType?: z.ZodType; entries?: Record<string, string>; element?: z.ZodType; checks?: { _zod?: { def?: { check?: string; format?: string } } }[] }
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly']);

/** The schema under defaults and optionals, and the description found on the way. */
function unwrap(s: z.ZodType): { core: z.ZodType; hint?: string } {
  let core = s;
  let hint = s.description;
  while (WRAPPERS.has(defOf(core).type) && defOf(core).innerType) {
    core = defOf(core).innerType!;
    hint ??= core.description;
  }
  return { core, hint };
}

/** camelCase → words: 'calibrationBatches' → 'calibration batches'. */
export const labelOf = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

const getIn = (o: unknown, path: SettingsPath): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

/** The method's schema. */
export function methodSchema(method: Method): z.ZodObject {
  const option = CompressConfig.options.find((o) => o.shape.method.value === method);
  if (!option) throw new Error(`no compression method '${method}'`);
  return option as unknown as z.ZodObject;
}

/** Every field of a method's settings, in sections (the top level first, then each nested object). */
export function settingsSections(method: Method): SettingsSection[] {
  const defaults = CompressConfig.parse({ method });
  const sections: SettingsSection[] = [];
  const walk = (shape: Record<string, z.ZodType>, path: SettingsPath, title: string) => {
    const section: SettingsSection = { title, path, fields: [] };
    sections.push(section);
    for (const [key, schema] of Object.entries(shape)) {
      if (path.length === 0 && key === 'method') continue;
      const { core, hint } = unwrap(schema);
      const d = defOf(core);
      const at = [...path, key];
      const base = { path: at, label: labelOf(key), ...(hint ? { hint } : {}), fallback: getIn(defaults, at) };
      if (d.type === 'number') section.fields.push({ kind: 'number', ...base, integer: (d.checks ?? []).some((c) => c._zod?.def?.format === 'safeint' || c._zod?.def?.check === 'number_format') });
      else if (d.type === 'enum') section.fields.push({ kind: 'choice', ...base, options: Object.values(d.entries ?? {}) });
      else if (d.type === 'boolean') section.fields.push({ kind: 'switch', ...base });
      else if (d.type === 'array') section.fields.push({ kind: 'names', ...base });
      else if (d.type === 'object') walk((core as z.ZodObject).shape as Record<string, z.ZodType>, at, path.length ? `${title} › ${labelOf(key)}` : labelOf(key));
      // anything else (a union of schedules…) is edited in the cell's JSON tab
    }
  };
  walk(methodSchema(method).shape as Record<string, z.ZodType>, [], 'settings');
  return sections.filter((s) => s.fields.length > 0);
}
