import { z } from 'zod';
import type { ModelConfigInput, ResolvedModelConfig } from './modelConfig';

/**
 * Hugging Face config.json ↔ our model config, for GPT-2 and BERT. Export writes `toHf…`, import and the
 * golden tests read `fromHf…`; fields we do not model are ignored on the way in.
 */

export interface HfGpt2Config {
  vocab_size: number; n_positions: number; n_embd: number; n_head: number; n_layer: number;
  n_inner?: number | null; layer_norm_epsilon?: number; num_labels?: number;
}

export interface HfBertConfig {
  vocab_size: number; max_position_embeddings: number; hidden_size: number; num_attention_heads: number;
  num_hidden_layers: number; intermediate_size: number; type_vocab_size?: number; layer_norm_eps?: number; num_labels?: number;
}

export function fromHfGpt2Config(h: HfGpt2Config): ModelConfigInput {
  return {
    arch: 'gpt', vocabSize: h.vocab_size, contextLength: h.n_positions, dModel: h.n_embd, nHeads: h.n_head, nLayers: h.n_layer,
    ...(h.n_inner ? { dFF: h.n_inner } : {}),
    ...(h.layer_norm_epsilon !== undefined ? { layerNormEps: h.layer_norm_epsilon } : {}),
    activation: 'gelu_new', positional: 'learned',
  };
}

export function fromHfBertConfig(h: HfBertConfig): ModelConfigInput {
  return {
    arch: 'bert', vocabSize: h.vocab_size, contextLength: h.max_position_embeddings, dModel: h.hidden_size,
    nHeads: h.num_attention_heads, nLayers: h.num_hidden_layers, dFF: h.intermediate_size,
    typeVocabSize: h.type_vocab_size ?? 2,
    ...(h.layer_norm_eps !== undefined ? { layerNormEps: h.layer_norm_eps } : {}),
    activation: 'gelu', positional: 'learned',
  };
}

// ---------------------------------------------------------------------------------------------------
// config.json as another tool wrote it: what import reads, checked, with the options this engine cannot run
// named instead of silently dropped.

const positive = z.number().int().positive();
const eps = z.number().positive().max(1);

/** Hugging Face GPT-2 config.json: the sizes, and the options that would change the computation. */
export const HfGpt2ConfigFile = z.object({
  model_type: z.literal('gpt2'),
  architectures: z.array(z.string()).optional(),
  vocab_size: positive, n_positions: positive, n_embd: positive, n_head: positive, n_layer: positive,
  n_inner: positive.nullable().optional(),
  layer_norm_epsilon: eps.optional(),
  activation_function: z.enum(['gelu_new', 'gelu']).optional()
    .describe('this engine runs gelu_new (tanh approximation) and gelu (exact)'),
  scale_attn_weights: z.literal(true).optional().describe('attention scaled by 1/sqrt(head size), as GPT-2'),
  scale_attn_by_inverse_layer_idx: z.literal(false).optional().describe('not supported'),
  reorder_and_upcast_attn: z.literal(false).optional().describe('not supported'),
  add_cross_attention: z.literal(false).optional().describe('an encoder-decoder GPT-2 is not supported'),
  tie_word_embeddings: z.literal(true).optional().describe('this engine ties the LM head to the token embeddings'),
});

/** Hugging Face BERT config.json. */
export const HfBertConfigFile = z.object({
  model_type: z.literal('bert'),
  architectures: z.array(z.string()).optional(),
  vocab_size: positive, max_position_embeddings: positive, hidden_size: positive, num_attention_heads: positive,
  num_hidden_layers: positive, intermediate_size: positive,
  type_vocab_size: positive.optional(),
  layer_norm_eps: eps.optional(),
  hidden_act: z.enum(['gelu', 'gelu_new']).optional().describe('this engine runs gelu (exact) and gelu_new (tanh approximation)'),
  position_embedding_type: z.literal('absolute').optional().describe('relative position embeddings are not supported'),
  is_decoder: z.literal(false).optional().describe('a decoder BERT is not supported'),
  add_cross_attention: z.literal(false).optional().describe('an encoder-decoder BERT is not supported'),
  tie_word_embeddings: z.literal(true).optional().describe('this engine ties the MLM decoder to the word embeddings'),
});

/** A config.json's model, as our model config; `activation` taken from the file where it says. */
export function modelConfigFromHf(file: z.infer<typeof HfGpt2ConfigFile> | z.infer<typeof HfBertConfigFile>): ModelConfigInput {
  if (file.model_type === 'gpt2') return { ...fromHfGpt2Config(file), activation: file.activation_function ?? 'gelu_new' };
  return { ...fromHfBertConfig(file), activation: file.hidden_act ?? 'gelu' };
}

/** What config.json says beyond the sizes: the special ids and the dropout the model trained with. */
export interface HfConfigExtras { padTokenId?: number; bosTokenId?: number; eosTokenId?: number }

/**
 * The options a Hugging Face GPT-2 / BERT config.json cannot express (their models have learned absolute
 * positions, softmax attention and dense feed-forward blocks only), each with the way out; [] when it can.
 */
export function hfUnrepresentable(c: ResolvedModelConfig): string[] {
  const family = c.arch === 'gpt' ? 'GPT-2' : 'BERT';
  const out: string[] = [];
  if (c.positional !== 'learned') out.push(`positional '${c.positional}': Hugging Face's ${family} has learned absolute positions only, so its config.json cannot say '${c.positional}'; train with positional 'learned' to export`);
  if (c.attention !== 'softmax') out.push(`attention '${c.attention}': Hugging Face's ${family} runs softmax attention only; train with attention 'softmax' to export`);
  if (c.moe) out.push(`moe: Hugging Face's ${family} has a dense feed-forward block, not a mixture of experts; remove moe to export`);
  if (c.attnDim !== c.dModel) out.push(`headDim ${c.headDim} × nHeads ${c.nHeads} = ${c.attnDim} ≠ dModel ${c.dModel} (heads were pruned): Hugging Face's ${family} config.json derives the head width as dModel / nHeads, so it cannot say this shape; export the unpruned base, or a head-pruned variant once the bundle writes its removed heads back as zero heads`);
  return out;
}

/** The class names of a sequence classifier, in the order of its logits; absent for a language model. */
export interface HfClassifierLabels { labels?: readonly string[] }

/** HF's PretrainedConfig derives num_labels from id2label; single_label_classification: a softmax over the labels (cross-entropy), as the engine trains. */
function classifierFields(c: ResolvedModelConfig, labels: readonly string[] | undefined): Record<string, unknown> {
  if (c.numLabels === undefined) return {};
  if (!labels || labels.length !== c.numLabels) throw new Error(`a classifier of ${c.numLabels} labels needs ${c.numLabels} label names for config.json, got ${labels?.length ?? 'none'}`);
  return {
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    problem_type: 'single_label_classification',
  };
}

export function toHfGpt2Config(c: ResolvedModelConfig, x: HfConfigExtras & HfClassifierLabels = {}): Record<string, unknown> {
  return {
    architectures: [c.numLabels === undefined ? 'GPT2LMHeadModel' : 'GPT2ForSequenceClassification'], model_type: 'gpt2',
    vocab_size: c.vocabSize, n_positions: c.contextLength, n_ctx: c.contextLength, n_embd: c.dModel, n_head: c.nHeads, n_layer: c.nLayers, n_inner: c.dFF,
    activation_function: c.activation, layer_norm_epsilon: c.layerNormEps,
    resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout, initializer_range: c.initStd,
    // GPT2Config's defaults (50256) would point past a small vocabulary; GPT2ForSequenceClassification finds each row's last real token by pad_token_id
    bos_token_id: x.bosTokenId ?? null, eos_token_id: x.eosTokenId ?? null, pad_token_id: x.padTokenId ?? null,
    tie_word_embeddings: true, scale_attn_weights: true, use_cache: false, torch_dtype: 'float32',
    ...classifierFields(c, x.labels),
  };
}

export type HfBertArchitecture = 'BertForPreTraining' | 'BertForMaskedLM' | 'BertForSequenceClassification';

export function toHfBertConfig(c: ResolvedModelConfig, architecture: HfBertArchitecture, x: HfConfigExtras & HfClassifierLabels = {}): Record<string, unknown> {
  return {
    architectures: [architecture], model_type: 'bert',
    vocab_size: c.vocabSize, max_position_embeddings: c.contextLength, hidden_size: c.dModel, num_attention_heads: c.nHeads,
    num_hidden_layers: c.nLayers, intermediate_size: c.dFF, type_vocab_size: c.typeVocabSize,
    hidden_act: c.activation, layer_norm_eps: c.layerNormEps,
    hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: c.dropout, initializer_range: c.initStd,
    pad_token_id: x.padTokenId ?? 0, position_embedding_type: 'absolute', tie_word_embeddings: true, torch_dtype: 'float32',
    ...classifierFields(c, x.labels),
  };
}
