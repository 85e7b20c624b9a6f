/** The masked-LM head of a BERT at each [MASK] of an input: the k most likely tokens and their probabilities. */
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../common/errors';
import type { BERT } from '../models/bert/model';
import type { Tokenizer } from '../tokenizers';
import { specialId, type EncodedInput } from './attentionMaps';

export interface MaskFill {
  /** the [MASK]'s position in the framed input ([CLS] is 0) */
  position: number;
  candidates: { token: string; id: number; probability: number }[];
}

export function fillMask(model: BERT, tokenizer: Tokenizer, input: EncodedInput, topK: number): MaskFill[] {
  const mask = specialId(tokenizer, 'mask');
  const positions = input.ids.flatMap((id, i) => (id === mask ? [i] : []));
  if (!positions.length) throw new EngineError('INVALID_CONFIG', 'the text has no [MASK] token; write [MASK] where a word should be predicted, e.g. "the [MASK] sat on the mat"', ['text']);
  const T = input.ids.length;
  const probs = tf.tidy(() => {
    const { hidden } = model.forward({
      inputIds: tf.tensor2d(input.ids, [1, T], 'int32'),
      ...(input.tokenTypeIds ? { tokenTypeIds: tf.tensor2d(input.tokenTypeIds, [1, T], 'int32') } : {}),
    });
    const rows = tf.gather(tf.reshape(hidden, [T, model.config.dModel]), tf.tensor1d(positions, 'int32')) as tf.Tensor2D; // [M, d]
    return tf.softmax(model.mlmLogitsRows(rows)).arraySync() as number[][]; // [M, V]
  });
  return positions.map((position, m) => ({
    position,
    candidates: probs[m].map((probability, id) => ({ id, probability }))
      .sort((a, b) => b.probability - a.probability).slice(0, topK)
      .map((c) => ({ ...c, token: tokenizer.idToToken(c.id) ?? `<${c.id}>` })),
  }));
}
