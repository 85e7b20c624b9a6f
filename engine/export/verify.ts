/**
 * The check an export ends with: the bundle just written is read back and run on the probe, and its
 * logits (a classifier's: its class logits, ./probe.ts) are compared with the in-app model's — model.safetensors loaded into a fresh engine model,
 * onnx/model.onnx and onnx/model_quantized.onnx run by onnxruntime-node. The report goes into the model
 * card; a bundle that fails it is not published.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { relError } from '../golden/golden';
import type { ParamStore } from '../models/params';
import { createModel, type AnyModel } from '../models/registry';
import { decodeSafetensors } from '../runs/safetensors';
import { engineNameOf, hfNameOf, type HfArchitecture } from './hfLayout';
import type { WeightSource } from './onnxModels';
import { weightSource, type RunQuantization } from '../compression/int8Model';
import { engineLogits, makeProbe, onnxLogits, PROBE_SEED } from './probe';

export const FLOAT_TOLERANCE = 1e-4;
/**
 * int8: weights rounded to 1/254 of each output channel's range and activations to 1/254 of each token's,
 * in every projection of every block; the bundle's card states it with the error measured.
 */
export const INT8_TOLERANCE = 5e-2;

export interface BundleCheck {
  file: string;
  runtime: string;
  relError: number;
  tolerance: number;
  ok: boolean;
}

export interface VerificationReport {
  probe: { batch: number; length: number; seed: number; padded: string };
  checks: BundleCheck[];
  ok: boolean;
}

/** The weights as the ONNX builders read them; an int8 variant's codes and input scales with them (engine/compression/int8Model.ts). */
export const paramSource: (params: ParamStore, q?: RunQuantization) => WeightSource = weightSource;

/** Loads a bundle's model.safetensors into a new engine model of `like`'s config; every tensor must be one of its parameters, every missing one a tensor `arch` leaves out. */
export function modelFromBundle(file: string, like: AnyModel, arch: HfArchitecture): AnyModel {
  const { tensors } = decodeSafetensors(fs.readFileSync(file));
  const { headDim: _h, attnDim: _a, causal: _c, ...config } = like.config; // derived fields, not config fields
  const model = createModel(config, 0);
  try {
    const seen = new Set<string>();
    for (const [hfName, t] of tensors) {
      const name = engineNameOf(hfName, arch);
      if (!model.params.has(name)) throw new Error(`${file}: tensor '${hfName}' is not a parameter of ${arch}`);
      tf.tidy(() => model.params.assign(name, tf.tensor(t.data, t.shape, 'float32')));
      seen.add(name);
    }
    const missing = model.params.names.filter((n) => !seen.has(n) && hfNameOf(n, arch) !== null);
    if (missing.length) throw new Error(`${file}: lacks ${missing.join(', ')}`);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export async function verifyBundle(dir: string, model: AnyModel, arch: HfArchitecture): Promise<VerificationReport> {
  const probe = makeProbe(model.config);
  // an int8 variant's float files hold its dequantized weights, with float activations; its int8 graph is
  // checked against the model as opened, activations fake-quantized as that graph quantizes them
  const view = model.activationView;
  model.activationView = null;
  const reference = engineLogits(model, probe);
  model.activationView = view;
  const int8Reference = view ? engineLogits(model, probe) : reference;
  const checks: BundleCheck[] = [];
  const check = (file: string, runtime: string, logits: Float32Array, tolerance: number, against = reference) => {
    const err = relError(logits, against);
    checks.push({ file, runtime, relError: err, tolerance, ok: err <= tolerance });
  };
  const reloaded = modelFromBundle(path.join(dir, 'model.safetensors'), model, arch);
  try {
    check('model.safetensors', 'Transformer Workbench engine (TensorFlow.js)', engineLogits(reloaded, probe), FLOAT_TOLERANCE);
  } finally {
    reloaded.dispose();
  }
  check('onnx/model.onnx', 'onnxruntime-node (CPU)', await onnxLogits(path.join(dir, 'onnx/model.onnx'), probe), FLOAT_TOLERANCE);
  check('onnx/model_quantized.onnx', 'onnxruntime-node (CPU)', await onnxLogits(path.join(dir, 'onnx/model_quantized.onnx'), probe), INT8_TOLERANCE, int8Reference);
  const padded = `row 2 padded from position ${probe.attentionMask.slice(probe.length).indexOf(0)}`;
  return { probe: { batch: probe.batch, length: probe.length, seed: PROBE_SEED, padded }, checks, ok: checks.every((c) => c.ok) };
}
