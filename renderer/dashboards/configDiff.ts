/**
 * What differs between runs' configs: each config flattened to dotted paths ('optimizer.lr',
 * 'model.layers', 'dataset.sources[0].path'), and only the paths whose values are not all the same kept.
 * A key one run lacks counts as a difference and shows as '—'.
 */

export function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, '[]');
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

export interface ConfigDiffRow { path: string; values: string[] }

/** Rows for the paths whose values differ, in the order the first config that has them lists them. */
export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flatten(c));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) for (const p of f.keys()) if (!seen.has(p)) { seen.add(p); paths.push(p); }
  const rows: ConfigDiffRow[] = [];
  for (const path of paths) {
    const values = flat.map((f) => f.get(path) ?? '—');
    if (values.some((v) => v !== values[0])) rows.push({ path, values });
  }
  return rows;
}
