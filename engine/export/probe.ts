/**
 * The probe on which an exported bundle is checked against the model it came from: a fixed batch of two
 * sequences at the full context length (every learned position is used), the second padded over its last
 * quarter (the padding mask is used), BERT's second half as segment B (token types are used). Ids are
 * drawn from a seeded generator over the whole vocabulary, so every embedding row can be hit.
 * Logits are compared as max |a - b| / max |b| (engine/golden's measure, the README's).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import { BERT } from '../models/bert/model';
import type { AnyModel } from '../models/registry';

export interface Probe {
  batch: number;
  length: number;
  /** row-major [batch, length] */
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  /** a GPT graph's key/value cache per layer, [batch, heads, 0, headDim]: empty at the start */
  cacheShape: number[];
}

export const PROBE_SEED = 20240501;

export function makeProbe(c: ResolvedModelConfig, seed = PROBE_SEED): Probe {
  const B = 2;
  const T = c.contextLength;
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; }; // LCG: the same ids on every machine
  const inputIds = Array.from({ length: B * T }, () => Math.floor(next() * c.vocabSize));
  const real = Math.max(1, T - Math.floor(T / 4));
  const attentionMask = Array.from({ length: B * T }, (_, i) => (i < T || i % T < real ? 1 : 0));
  const tokenTypeIds = Array.from({ length: B * T }, (_, i) => (c.arch === 'bert' && i % T >= T / 2 ? 1 : 0));
  return { batch: B, length: T, inputIds, attentionMask, tokenTypeIds, cacheShape: [B, c.nHeads, 0, c.headDim] };
}

/**
 * The logits a bundle's graph outputs, from the engine's model on the probe: a language model's [B, T, V]
 * (next-token for GPT, masked-LM for BERT), a classifier's [B, numLabels] (BERT's pooled [CLS], GPT's last real token).
 */
export function engineLogits(model: AnyModel, p: Probe): Float32Array {
  return tf.tidy(() => {
    const t = (v: number[]) => tf.tensor2d(v, [p.batch, p.length], 'int32');
    const batch = { inputIds: t(p.inputIds), attentionMask: t(p.attentionMask), ...(model instanceof BERT ? { tokenTypeIds: t(p.tokenTypeIds) } : {}) };
    const { hidden } = model.forward(batch);
    const classifier = model.config.numLabels !== undefined;
    if (model instanceof BERT) return (classifier ? model.classLogits(hidden) : model.mlmLogits(hidden)).dataSync() as Float32Array;
    return (classifier ? model.classLogits(hidden, batch) : model.lmLogits(hidden)).dataSync() as Float32Array;
  });
}

/** The same logits from an ONNX file run by onnxruntime-node (CPU). */
export async function onnxLogits(file: string, p: Probe): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run(onnxFeeds(session.inputNames, p));
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The inputs a bundle's graph names, from a probe: ids, masks, positions 0…T-1, and an empty GPT cache. */
export function onnxFeeds(inputNames: readonly string[], p: Probe): Record<string, ort.Tensor> {
  const t = (v: ArrayLike<number>) => new ort.Tensor('int64', BigInt64Array.from(Array.from(v, BigInt)), [p.batch, p.length]);
  const positions = Array.from({ length: p.batch * p.length }, (_, i) => i % p.length);
  const all: Record<string, ort.Tensor> = { input_ids: t(p.inputIds), attention_mask: t(p.attentionMask), token_type_ids: t(p.tokenTypeIds), position_ids: t(positions) };
  const emptyCache = new ort.Tensor('float32', new Float32Array(0), p.cacheShape);
  return Object.fromEntries(inputNames.map((n) => [n, n.startsWith('past_key_values.') ? emptyCache : all[n]]));
}
