import { z } from 'zod';
import type { ModelConfigInput } from './modelConfig';

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
