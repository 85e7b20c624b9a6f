/**
 * The text of a JSON document a person reads and diffs (experiment files): two-space indentation, and a
 * short object or array on one line (`{ "kind": "char" }`, `[0.9, 0.95]`) when it fits in WIDTH (130) columns,
 * the way such files are written by hand. The same value always gives the same text, so opening and
 * saving a file without edits changes no byte.
 */
const WIDTH = 130;
const INDENT = '  ';

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

function entriesOf(v: Record<string, unknown> | unknown[]): [string | null, unknown][] {
  if (Array.isArray(v)) return v.map((x) => [null, x === undefined ? null : x]);
  return Object.entries(v).filter(([, x]) => x !== undefined);
}

function oneLine(v: unknown): string {
  if (!isContainer(v)) return JSON.stringify(v ?? null);
  const items = entriesOf(v).map(([k, x]) => (k === null ? oneLine(x) : `${JSON.stringify(k)}: ${oneLine(x)}`));
  if (Array.isArray(v)) return items.length ? `[${items.join(', ')}]` : '[]';
  return items.length ? `{ ${items.join(', ')} }` : '{}';
}

function format(v: unknown, indent: string, used: number): string {
  const flat = oneLine(v);
  // the root is always broken up: a document is read top-down
  if (!isContainer(v) || (indent !== '' && indent.length + used + flat.length <= WIDTH) || entriesOf(v).length === 0) return flat;
  const inner = indent + INDENT;
  const lines = entriesOf(v).map(([k, x]) => {
    const key = k === null ? '' : `${JSON.stringify(k)}: `;
    return `${inner}${key}${format(x, inner, key.length)}`;
  });
  const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${lines.join(',\n')}\n${indent}${close}`;
}

export function formatJsonDocument(value: unknown): string {
  return `${format(value, '', 0)}\n`;
}
