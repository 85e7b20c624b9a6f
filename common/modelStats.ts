import type { ModelConfig } from './modelConfig';
import { resolveModelConfig } from './modelConfig';

/**
 * Size, cost and memory of a model config, computed from the config alone so that the UI can show them
 * as the user types. `parameters` equals the number of scalars the engine creates (a test checks it).
 */
export interface ModelStats {
  parameters: number;
  /** parameters outside the embedding tables (what scaling laws count) */
  nonEmbeddingParameters: number;
  /** forward FLOPs per token at full context: 2 per multiply-add of every matrix product, attention included */
  forwardFlopsPerToken: number;
  /** forward + backward ≈ 3 × forward */
  trainingFlopsPerToken: number;
}

export interface MemoryEstimate {
  parameters: number; // bytes, float32
  gradients: number;
  optimizer: number; // AdamW: two moments per parameter
  activations: number; // kept for the backward pass, per training step
  total: number;
}

const F32 = 4;

export function modelStats(config: ModelConfig): ModelStats {
  const c = resolveModelConfig(config);
  const { vocabSize: V, contextLength: P, dModel: d, dFF: ff, nLayers: L, attnDim: a } = c;
  const attnParams = 4 * d * a + 3 * a + d; // q, k, v [d → a] and the output [a → d], with biases
  const mlpOne = d * ff + ff + ff * d + d;
  const ffnParams = c.moe ? d * c.moe.experts + c.moe.experts * mlpOne : mlpOne;
  const layerParams = attnParams + ffnParams + 4 * d; // two LayerNorms
  const positions = c.positional === 'learned' ? P * d : 0;
  let embeddings = V * d + positions;
  let heads = 0;
  if (c.arch === 'gpt') {
    heads = 2 * d + (c.numLabels ? c.numLabels * d : 0); // ln_f, score
  } else {
    embeddings += c.typeVocabSize * d + 2 * d; // token types, embeddings LayerNorm
    heads = (d * d + d) + (d * d + d) + 2 * d + V + (2 * d + 2) + (c.numLabels ? c.numLabels * d + c.numLabels : 0);
  }
  const parameters = embeddings + L * layerParams + heads;

  // matrix products per token and layer (multiply-adds): projections, feed-forward, attention over the context
  const projMacs = 4 * d * a;
  const ffnMacs = c.moe ? d * c.moe.experts + c.moe.topK * 2 * d * ff : 2 * d * ff;
  const attnMacs = c.attention === 'softmax' ? 2 * P * a : 2 * a * c.headDim; // QKᵀ and PV, or φ(k)vᵀ and φ(q)S
  const headMacs = V * d; // vocabulary projection
  const forwardFlopsPerToken = 2 * (L * (projMacs + ffnMacs + attnMacs) + headMacs);
  return {
    parameters,
    nonEmbeddingParameters: parameters - embeddings,
    forwardFlopsPerToken,
    trainingFlopsPerToken: 3 * forwardFlopsPerToken,
  };
}

/**
 * Memory for training with AdamW in float32 at the given batch shape. Activations follow Korthikanti et
 * al. (2022), per layer ≈ B·T·(17·d + 2.5·H·T) floats for softmax attention (the H·T term is the attention
 * matrix, which linear attention does not keep), plus the logits; an estimate, within tens of percent.
 */
export function memoryEstimate(config: ModelConfig, batchSize: number, seqLen: number): MemoryEstimate {
  const c = resolveModelConfig(config);
  const { parameters } = modelStats(config);
  const B = batchSize;
  const T = Math.min(seqLen, c.contextLength);
  const attnMatrix = c.attention === 'softmax' ? 2.5 * c.nHeads * T : 0;
  const ffnWidth = c.moe ? c.moe.topK * c.dFF : c.dFF;
  const perLayer = B * T * (9 * c.dModel + 2 * ffnWidth + attnMatrix);
  const activations = (c.nLayers * perLayer + 2 * B * T * c.vocabSize) * F32;
  const p = parameters * F32;
  return { parameters: p, gradients: p, optimizer: 2 * p, activations, total: 4 * p + activations };
}
