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
