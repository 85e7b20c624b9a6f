/**
 * Which weights of a model become int8 and along which axis their per-channel scales run. Every 2-D weight
 * does unless a keepFloat pattern names it; vectors (biases, norms) stay float32. The axis is the output
 * channel: 1 for GPT-2's Conv1D projections, stored [in, out]; 0 for everything else — BERT's nn.Linear
 * weights [out, in], and every embedding table [rows, d], one scale per row, which for a tied LM head is also
 * one scale per output logit.
 */
import type { AnyModel } from '../models/registry';

export interface Int8Layout {
  /** weight name → its output-channel axis */
  axes: Map<string, 0 | 1>;
  /** the projections whose input is quantized with them (weight names without `.weight`) */
  sites: Set<string>;
  /** 2-D weights kept in float32, with why */
  kept: { name: string; reason: string }[];
}

const GPT_CONV1D = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
const BERT_QKV = /^(bert\.encoder\.layer\.\d+\.attention\.self)\.(query|key|value)\.weight$/;

/** A keepFloat pattern as a whole-name match; `*` is any run of characters, everything else literal. */
export function patternMatcher(patterns: readonly string[]): (name: string) => string | undefined {
  const res = patterns.map((p) => ({ p, re: new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`) }));
  return (name) => res.find((r) => r.re.test(name))?.p;
}

export function int8Layout(model: AnyModel, keepFloat: readonly string[]): Int8Layout {
  const match = patternMatcher(keepFloat);
  const gpt = model.config.arch === 'gpt';
  const axes = new Map<string, 0 | 1>();
  const kept: Int8Layout['kept'] = [];
  for (const spec of model.params.specs) {
    if (spec.shape.length !== 2) continue;
    const pattern = match(spec.name);
    if (pattern) kept.push({ name: spec.name, reason: `keepFloat '${pattern}'` });
    else axes.set(spec.name, gpt && GPT_CONV1D.test(spec.name) ? 1 : 0);
  }
  // BERT runs query|key|value as one projection of one input: int8 all three, or none
  for (const name of [...axes.keys()]) {
    const m = BERT_QKV.exec(name);
    if (!m) continue;
    const keptOne = ['query', 'key', 'value'].map((k) => `${m[1]}.${k}.weight`).find((n) => !axes.has(n));
    if (keptOne) {
      axes.delete(name);
      kept.push({ name, reason: `${keptOne} is kept, and query, key and value share one input` });
    }
  }
  return { axes, sites: new Set([...axes.keys()].map((n) => n.replace(/\.weight$/, ''))), kept };
}

/** Share of the model's scalars that `layout` leaves in float32 (vectors and kept weights). */
export function floatShare(model: AnyModel, layout: Int8Layout): number {
  let all = 0;
  let quantized = 0;
  for (const s of model.params.specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    all += n;
    if (layout.axes.has(s.name)) quantized += n;
  }
  return all ? (all - quantized) / all : 0;
}
