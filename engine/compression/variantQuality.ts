/**
 * How much a compressed variant lost, measured as its base is: both on the same held-out batches of the
 * base's pretraining data (engine/training/baseData.ts), with the same evaluation (validation loss and
 * perplexity, engine/training/evaluate.ts). An int8 variant is measured twice: in TF.js (dequantized weights,
 * fake-quantized activations) and as its int8 ONNX graph in onnxruntime-node, where int8 really runs — the
 * language-model loss of both on the same batches, so the two can be set side by side.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import type { Objective } from '../../common/pretrainConfig';
import type { EvalResult } from '../../common/runEvents';
import { bertOnnx, gptOnnx } from '../export/onnxModels';
import { onnxLogits, type Probe } from '../export/probe';
import { crossEntropy } from '../models/layers';
import type { AnyModel } from '../models/registry';
import { loadRunModel, type CheckpointChoice } from '../runs/loadRunModel';
import { prepareBaseData } from '../training/baseData';
import { evaluate } from '../training/evaluate';
import type { HostBatch } from '../training/pretrainData';
import { weightSource, type RunQuantization } from './int8Model';
import { throwIfCancelled } from './cancel';

export interface LmLoss { lmLoss: number; perplexity: number }

/** The validation figures of a run's checkpoint on `batches`. */
export async function measureRun(runDir: string, checkpoint: CheckpointChoice, batches: HostBatch[], objective: Objective): Promise<EvalResult> {
  const rm = await loadRunModel(runDir, checkpoint);
  try {
    return await evaluate(rm.model, batches, objective);
  } finally {
    rm.model.dispose();
  }
}

/** A held-out batch as the ONNX graphs take it (the export probe's form): every position a token unless the batch pads. */
function probeOf(h: HostBatch, model: AnyModel): Probe {
  const n = h.B * h.T;
  return {
    batch: h.B, length: h.T, inputIds: Array.from(h.inputIds),
    attentionMask: h.attentionMask ? Array.from(h.attentionMask) : new Array<number>(n).fill(1),
    tokenTypeIds: h.tokenTypeIds ? Array.from(h.tokenTypeIds) : new Array<number>(n).fill(0),
    cacheShape: [h.B, model.config.nHeads, 0, model.config.headDim],
  };
}

/**
 * The language-model loss (causal LM, or the masked-LM part) of the model's int8 ONNX graph — built from
 * its weights and, for an int8 variant, its own codes and input scales — run by onnxruntime-node on `batches`;
 * the mean over batches of each batch's mean over its labelled tokens, as evaluate() takes it.
 */
export async function onnxInt8Loss(model: AnyModel, quantization: RunQuantization | undefined, batches: HostBatch[], signal?: AbortSignal): Promise<LmLoss> {
  const build = model.config.arch === 'gpt' ? gptOnnx : bertOnnx;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-int8-'));
  const file = path.join(dir, 'model_quantized.onnx');
  try {
    fs.writeFileSync(file, build(model.config, weightSource(model.params, quantization), { int8: true }));
    let sum = 0;
    for (const h of batches) {
      throwIfCancelled(signal, 'the ONNX Runtime measurement');
      const logits = await onnxLogits(file, probeOf(h, model));
      sum += tf.tidy(() => crossEntropy(tf.tensor2d(logits, [h.B * h.T, model.config.vocabSize]), tf.tensor1d(h.labels, 'int32')).dataSync()[0]);
    }
    const lmLoss = sum / Math.max(1, batches.length);
    return { lmLoss, perplexity: Math.exp(lmLoss) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Base and variant on the same held-out batches of the base's data, as the int8 writer measures them; for variants that train (QAT, distillation, pruning). */
export async function measureBeside(base: { runDir: string; checkpoint: CheckpointChoice }, variantDir: string, m: { batchSize: number; evalBatches: number; seed: number }, opts: { cacheDir?: string | null; signal?: AbortSignal } = {}): Promise<{ base: EvalResult; variant: EvalResult; batches: number }> {
  const data = await prepareBaseData(base.runDir, { batchSize: m.batchSize, evalBatches: m.evalBatches, seed: m.seed, tokenizerFile: path.join(variantDir, TOKENIZER_FILE), cacheDir: opts.cacheDir, signal: opts.signal });
  try {
    const batches = data.data.validation;
    return { base: await measureRun(base.runDir, base.checkpoint, batches, data.objective), variant: await measureRun(variantDir, 'last', batches, data.objective), batches: batches.length };
  } finally {
    data.data.close();
  }
}
