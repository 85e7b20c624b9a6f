/**
 * POST /v1/fill-mask and POST /v1/classify for encoder models: one forward pass each, run at once (the
 * input is bounded by the body limit and the model's context, and the work by one pass).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../common/errors';
import { ClassifyRequest, FillMaskRequest } from '../../common/serveApi';
import { encodeInput, type EncodedInput } from '../inspect/attentionMaps';
import { fillMask } from '../inspect/fillMask';
import { BERT } from '../models/bert/model';
import { GPT } from '../models/gpt/model';
import type { RunModel } from '../runs/loadRunModel';
import { ApiFailure, invalid, parseBody } from './http';

/** A refusal of the engine about the input (too long, no [MASK], no pair for this model) as a 422 naming the field. */
function asInputFailure(err: unknown): never {
  if (!(err instanceof EngineError) || err.code !== 'INVALID_CONFIG') throw err;
  throw invalid(err.message, err.path?.[0] === 'pair' ? 'pair' : 'input');
}

function encode(rm: RunModel, input: string, pair: string | undefined): EncodedInput {
  try {
    return encodeInput(rm.tokenizer, rm.model.config, input, pair);
  } catch (err) {
    return asInputFailure(err);
  }
}

export function fillMaskRoute(rm: RunModel, modelId: string, body: unknown) {
  const r = parseBody(FillMaskRequest, body);
  if (!(rm.model instanceof BERT)) throw invalid(`this server's model is a ${rm.model.config.arch} model, which has no masked-LM head; /v1/fill-mask needs a BERT run (use /v1/completions)`, 'model');
  const input = encode(rm, r.input, r.pair);
  try {
    return { object: 'fill_mask' as const, model: modelId, masks: fillMask(rm.model, rm.tokenizer, input, r.top_k) };
  } catch (err) {
    return asInputFailure(err);
  }
}

export function classifyRoute(rm: RunModel, modelId: string, body: unknown) {
  const r = parseBody(ClassifyRequest, body);
  const model = rm.model;
  if (!model.config.numLabels) {
    throw new ApiFailure(501, `this server's ${model.config.arch} model has no classification head: pretraining (causal-lm, mlm, mlm-nsp) trains none. `
      + '/v1/classify needs a run whose model config sets numLabels (the sequence-classification head: BertForSequenceClassification\'s `classifier`, '
      + 'GPT2ForSequenceClassification\'s `score`), which a fine-tuning run on a labelled task such as the Brown genres trains; serve such a run', 'not_implemented_error', 'model');
  }
  const input = encode(rm, r.input, r.pair);
  const T = input.ids.length;
  const probabilities = tf.tidy(() => {
    const batch = { inputIds: tf.tensor2d(input.ids, [1, T], 'int32'), ...(input.tokenTypeIds ? { tokenTypeIds: tf.tensor2d(input.tokenTypeIds, [1, T], 'int32') } : {}) };
    const { hidden } = model.forward(batch);
    const logits = model instanceof GPT ? model.classLogits(hidden, batch) : model.classLogits(hidden); // [1, numLabels]
    return Array.from(tf.softmax(logits).dataSync());
  });
  const label = probabilities.indexOf(Math.max(...probabilities));
  return { object: 'classification' as const, model: modelId, label, probabilities };
}
