import { z } from 'zod';

/**
 * The one model config: a plain object, validated here and nowhere else. Every process (engine, host,
 * renderer) imports it; the UI's JSON Schema is generated from it. An impossible config is refused with
 * a message that names the field and says how to fix it.
 */

export const Architecture = z.enum(['gpt', 'bert']).describe('gpt: pre-LN causal decoder (GPT-2). bert: post-LN bidirectional encoder (BERT).');
export const PositionalEncoding = z.enum(['learned', 'sinusoidal', 'rope'])
  .describe('learned: a trained table (GPT-2, BERT). sinusoidal: the fixed table of "Attention is all you need". rope: rotary embeddings applied to queries and keys.');
export const AttentionKind = z.enum(['softmax', 'linear'])
  .describe('softmax: exact O(T²) attention. linear: elu+1 kernel attention, O(T) in sequence length (Katharopoulos et al. 2020).');
export const Activation = z.enum(['gelu_new', 'gelu']).describe("gelu_new: GPT-2's tanh approximation. gelu: BERT's exact erf form.");

export const MoeConfig = z.object({
  experts: z.number().int().min(2).describe('number of expert feed-forward networks per layer'),
  topK: z.number().int().min(1).describe('experts each token is routed to'),
  auxLossWeight: z.number().min(0).default(0.01).describe('weight of the load-balancing loss added to the training loss'),
}).strict();

export const ModelConfigFields = z.object({
  arch: Architecture,
  vocabSize: z.number().int().min(2).describe('size of the token vocabulary'),
  contextLength: z.number().int().min(1).describe('longest sequence the model accepts (n_positions / max_position_embeddings)'),
  dModel: z.number().int().min(1).describe('width of the residual stream (n_embd / hidden_size)'),
  nHeads: z.number().int().min(1).describe('attention heads per layer; must divide dModel unless headDim is given'),
  headDim: z.number().int().min(1).optional().describe('width of one attention head; default dModel / nHeads. A head-pruned model keeps its heads\' width with fewer heads, so nHeads × headDim may differ from dModel'),
  nLayers: z.number().int().min(1).describe('Transformer blocks'),
  dFF: z.number().int().min(1).optional().describe('feed-forward width; default 4 × dModel'),
  positional: PositionalEncoding.default('learned'),
  ropeBase: z.number().positive().default(10000).describe('RoPE frequency base'),
  attention: AttentionKind.default('softmax'),
  moe: MoeConfig.optional().describe('replace every feed-forward block by a top-k mixture of experts'),
  activation: Activation.optional().describe('default: gelu_new for gpt, gelu for bert'),
  layerNormEps: z.number().positive().optional().describe('default: 1e-5 for gpt, 1e-12 for bert'),
  typeVocabSize: z.number().int().min(1).default(2).describe('bert: token-type (segment) vocabulary'),
  numLabels: z.number().int().min(2).optional().describe('adds a sequence-classification head with this many classes'),
  dropout: z.number().min(0).lt(1).default(0).describe('dropout probability on embeddings, attention and residual branches while training'),
  initStd: z.number().positive().default(0.02).describe('standard deviation of the normal initialisation of weights'),
}).strict();

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n && out.length < 8; i++) if (n % i === 0) out.push(i);
  return out;
}

/** Cross-field checks, shared by the model config and the experiment's model cell. */
export function checkModelConfig(c: z.infer<typeof ModelConfigFields> | Omit<z.infer<typeof ModelConfigFields>, 'vocabSize'>, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.headDim === undefined && c.dModel % c.nHeads !== 0) {
    issue('nHeads', `dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}; choose nHeads among ${divisors(c.dModel).join(', ')}, … or change dModel to a multiple of ${c.nHeads}`);
  } else if (c.positional === 'rope' && (c.headDim ?? c.dModel / c.nHeads) % 2 !== 0) {
    issue('positional', `RoPE rotates pairs of dimensions, but the head size ${c.headDim === undefined ? 'dModel/nHeads' : 'headDim'} = ${c.headDim ?? c.dModel / c.nHeads} is odd; use an even head size or positional 'learned' / 'sinusoidal'`);
  }
  if (c.positional === 'sinusoidal' && c.dModel % 2 !== 0) {
    issue('positional', `the sinusoidal table pairs sin and cos, but dModel ${c.dModel} is odd; use an even dModel or positional 'learned'`);
  }
  if (c.moe && c.moe.topK > c.moe.experts) {
    issue('moe', `moe.topK ${c.moe.topK} exceeds moe.experts ${c.moe.experts}; route each token to at most ${c.moe.experts} experts`);
  }
  if (c.arch === 'gpt' && c.numLabels === undefined && c.typeVocabSize !== 2) {
    issue('typeVocabSize', 'token types are a bert feature; remove typeVocabSize for a gpt model');
  }
}

export const ModelConfig = ModelConfigFields.superRefine(checkModelConfig);
export type ModelConfigInput = z.input<typeof ModelConfig>;
export type ModelConfig = z.output<typeof ModelConfig>;

/** A parsed config with every default filled in: what model code reads. */
export interface ResolvedModelConfig extends ModelConfig {
  dFF: number;
  activation: z.infer<typeof Activation>;
  layerNormEps: number;
  headDim: number;
  /** the attention's inner width, nHeads × headDim: dModel unless heads were pruned */
  attnDim: number;
  causal: boolean;
}

export function resolveModelConfig(c: ModelConfig): ResolvedModelConfig {
  const headDim = c.headDim ?? c.dModel / c.nHeads;
  return {
    ...c,
    dFF: c.dFF ?? 4 * c.dModel,
    activation: c.activation ?? (c.arch === 'gpt' ? 'gelu_new' : 'gelu'),
    layerNormEps: c.layerNormEps ?? (c.arch === 'gpt' ? 1e-5 : 1e-12),
    headDim,
    attnDim: c.nHeads * headDim,
    causal: c.arch === 'gpt',
  };
}

/** Small presets a user can start from; the reference model of torch_baseline.py is `gpt-char-small`. */
export const MODEL_PRESETS = {
  'gpt-char-small': { arch: 'gpt', vocabSize: 65, contextLength: 64, dModel: 128, nHeads: 4, nLayers: 4 },
  'bert-mini': { arch: 'bert', vocabSize: 8000, contextLength: 128, dModel: 128, nHeads: 2, nLayers: 2, dFF: 512 },
} satisfies Record<string, ModelConfigInput>;
