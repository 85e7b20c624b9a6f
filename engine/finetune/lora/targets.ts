/**
 * Which modules a LoRA adapter adapts, chosen by name pattern over the model's real module names (a module is
 * a parameter name without `.weight`: GPT `h.0.attn.c_attn`, BERT `bert.encoder.layer.0.attention.self.query`),
 * with PEFT's semantics (tuners_utils `check_target_module_exists`): a plain name matches a module that is it
 * or ends with it at a dot boundary; a pattern with regular-expression characters must match a whole name.
 * PEFT silently adapts nothing for a typo in a list, or fails late with "Target modules ... not found"
 * (peft #294); here a pattern that matches nothing is refused at once with the names it could mean.
 */
import { EngineError } from '../../../common/errors';
import type { TransformerBase } from '../../models/base';
import type { ParamSpec } from '../../models/params';

/** PEFT's defaults (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): GPT-2's fused attention input, BERT's query and value. */
export const DEFAULT_TARGETS: Record<'gpt' | 'bert', readonly string[]> = { gpt: ['c_attn'], bert: ['query', 'value'] };

/** A module LoRA can adapt: a 2-D linear weight that the architecture applies through its linear layers. */
export interface AdaptableModule {
  name: string;
  /** `in_out`: GPT-2 Conv1D [in, out] (PEFT's fan_in_fan_out); `out_in`: nn.Linear [out, in] */
  layout: 'in_out' | 'out_in';
  inFeatures: number;
  outFeatures: number;
}

export interface TargetMatch {
  /** the adapted modules, in the model's order */
  modules: AdaptableModule[];
  /** how many adaptable modules each pattern matches */
  counts: Record<string, number>;
  /** one sentence per pattern that cannot be used, with what it could mean */
  problems: string[];
  /** for a pattern that matches nothing, the names it could mean */
  suggestions: Record<string, string[]>;
}

/** A model's parameters as declared: a built model's, or the specs of a config (no weights needed to list targets). */
export interface ModuleSource { arch: 'gpt' | 'bert'; specs: readonly ParamSpec[] }

export const modulesOf = (model: Pick<TransformerBase, 'params' | 'config'>): ModuleSource => ({ arch: model.config.arch, specs: model.params.specs });

/**
 * Every linear layer of the stack and heads: 2-D weights with a bias beside them (the embeddings have none;
 * nor has GPT-2's `score` head, which PEFT trains whole as modules_to_save), outside a mixture of experts,
 * whose experts run as one stacked product that no adapter can stand in.
 */
export function adaptableModules(model: ModuleSource): AdaptableModule[] {
  const names = new Set(model.specs.map((s) => s.name));
  const out: AdaptableModule[] = [];
  for (const spec of model.specs) {
    if (!spec.name.endsWith('.weight') || spec.shape.length !== 2) continue;
    const name = spec.name.slice(0, -'.weight'.length);
    if (!names.has(`${name}.bias`) || /\.experts\.\d+\./.test(name)) continue;
    const layout = model.arch === 'gpt' ? 'in_out' : 'out_in';
    const [a, b] = spec.shape;
    out.push({ name, layout, inFeatures: layout === 'in_out' ? a : b, outFeatures: layout === 'in_out' ? b : a });
  }
  return out;
}

/** Characters that make a pattern a regular expression; a dot alone does not (`attention.self.query` is a plain name). */
const REGEX_CHARS = /[*+?()[\]{}|^$\\]/;

export function isRegexPattern(pattern: string): boolean {
  return REGEX_CHARS.test(pattern);
}

/** PEFT's rule for one pattern and one module name. */
export function matchesTarget(pattern: string, module: string): boolean {
  if (isRegexPattern(pattern)) return new RegExp(`^(?:${pattern})$`).test(module);
  return module === pattern || module.endsWith(`.${pattern}`);
}

/** The modules the patterns select, the count of each, and what is wrong with any that cannot be used. */
export function loraTargets(model: ModuleSource, patterns: readonly string[]): TargetMatch {
  const adaptable = adaptableModules(model);
  const all = model.specs.map((s) => s.name.replace(/\.(weight|bias)$/, ''));
  const counts: Record<string, number> = {};
  const problems: string[] = [];
  const suggestions: Record<string, string[]> = {};
  const chosen = new Set<string>();
  for (const pattern of patterns) {
    if (isRegexPattern(pattern)) {
      try { new RegExp(pattern); } catch (err) {
        problems.push(`target '${pattern}' is not a valid regular expression (${(err as Error).message}); write a module name such as ${examples(adaptable)}, or a valid pattern`);
        counts[pattern] = 0;
        continue;
      }
    }
    const hits = adaptable.filter((m) => matchesTarget(pattern, m.name));
    counts[pattern] = hits.length;
    hits.forEach((m) => chosen.add(m.name));
    if (hits.length) continue;
    const other = [...new Set(all.filter((n) => matchesTarget(pattern, n)))];
    if (other.length) {
      problems.push(`target '${pattern}' matches ${other.slice(0, 3).join(', ')}${other.length > 3 ? ` and ${other.length - 3} more` : ''}, which ${other.length === 1 ? 'is not a linear layer' : 'are not linear layers'} (embeddings, norms and an expert's weights cannot take an adapter); adapt linear layers such as ${examples(adaptable)}`);
      continue;
    }
    const near = nearNames(pattern, adaptable);
    if (near.length) suggestions[pattern] = near;
    problems.push(`target '${pattern}' matches no module of this ${model.arch} model; ${near.length ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : `its linear layers are e.g. ${examples(adaptable)}`}`);
  }
  return { modules: adaptable.filter((m) => chosen.has(m.name)), counts, problems, suggestions };
}

/** The modules to adapt, or INVALID_CONFIG listing every pattern that cannot be used; default: PEFT's for the architecture. */
export function resolveLoraTargets(model: ModuleSource, patterns: readonly string[] | undefined): { modules: AdaptableModule[]; patterns: string[]; counts: Record<string, number> } {
  const wanted = [...(patterns ?? DEFAULT_TARGETS[model.arch])];
  const m = loraTargets(model, wanted);
  if (m.problems.length) throw new EngineError('INVALID_CONFIG', m.problems.join('; '), ['lora', 'targetModules']);
  return { modules: m.modules, patterns: wanted, counts: m.counts };
}

/** A few distinct module suffixes to show as examples: `c_attn, c_proj, c_fc`. */
function examples(adaptable: AdaptableModule[]): string {
  return [...new Set(adaptable.map((m) => lastPart(m.name)))].slice(0, 4).map((n) => `'${n}'`).join(', ');
}

const lastPart = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/**
 * The names a mistyped pattern could mean: the dotted suffixes of the adaptable modules (`c_attn`,
 * `attn.c_attn`, `self.query`, …) within a small edit distance of it, nearest first; layer numbers are left
 * out of the candidates so that one suggestion covers every layer.
 */
export function nearNames(pattern: string, adaptable: AdaptableModule[], limit = 3): string[] {
  const candidates = new Set<string>();
  for (const m of adaptable) {
    const parts = m.name.split('.');
    for (let i = parts.length - 1; i >= 0 && !/^\d+$/.test(parts[i]); i--) candidates.add(parts.slice(i).join('.'));
  }
  const budget = Math.max(2, Math.floor(pattern.length / 3));
  return [...candidates]
    .map((c) => ({ c, d: editDistance(pattern.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= budget)
    .sort((a, b) => a.d - b.d || a.c.length - b.c.length || a.c.localeCompare(b.c))
    .slice(0, limit)
    .map((x) => x.c);
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
