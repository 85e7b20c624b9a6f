/**
 * Parameters grouped by the layer they belong to, for per-layer diagnostics (gradient norms, update
 * ratios, the heatmap): 'embeddings', 'layer.0' … 'layer.{L-1}', 'head'. The same names for both
 * architectures, so charts of GPT and BERT runs line up.
 */
const LAYER = /^(?:h|bert\.encoder\.layer)\.(\d+)\./;
const EMBEDDING = /^(?:wte|wpe|bert\.embeddings)\./;

export function layerOf(param: string): string {
  const m = LAYER.exec(param);
  if (m) return `layer.${m[1]}`;
  return EMBEDDING.test(param) ? 'embeddings' : 'head';
}

/** Group name → parameter names, in model order (embeddings, layers by index, head). */
export function groupParams(names: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const g = layerOf(n);
    const list = groups.get(g);
    if (list) list.push(n);
    else groups.set(g, [n]);
  }
  const rank = (g: string) => (g === 'embeddings' ? -1 : g === 'head' ? Infinity : Number(g.slice(6)));
  return new Map([...groups].sort((a, b) => rank(a[0]) - rank(b[0])));
}
