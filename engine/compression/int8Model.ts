/**
 * An int8 variant, opened (engine/runs/loadRunModel.ts): its weights arrive dequantized from the checkpoint
 * (./int8Checkpoint.ts), and its activations are fake-quantized through the model's activation hook
 * (engine/models/base.ts `activationView`): per token, or with the scales calibrated when it was written,
 * which its checkpoint's manifest holds under extra.int8.activationScales. So the model computes in TF.js
 * what its int8 ONNX graph computes, and every feature that opens it (inspect, sample, export, serve,
 * compare) sees the quantized model. The codes and scales travel with it for the exporter.
 */
import type { ActivationQuant } from '../../common/compressConfig';
import { EngineError } from '../../common/errors';
import type { RunConfig } from '../../common/runConfig';
import type { JsonValue } from '../../common/runFolder';
import type { WeightSource } from '../export/onnxModels';
import type { ParamStore } from '../models/params';
import type { AnyModel } from '../models/registry';
import type { LoadedCheckpoint } from '../runs/checkpoint';
import { fakeQuantActivationView } from './fakeQuant';
import type { Int8Quantized } from './quantize';

export interface RunQuantization {
  /** the int8 weights' codes and scales, by parameter name */
  weights: ReadonlyMap<string, Int8Quantized>;
  activations: ActivationQuant;
  /** static activations: the scale of each projection's input */
  activationScales?: Readonly<Record<string, number>>;
}

/** What an int8 variant's checkpoint records beside its tensors (manifest extra.int8). */
export interface Int8Extra {
  activationScales?: Record<string, number>;
  kept: { name: string; reason: string }[];
}

export const int8ExtraOf = (ck: LoadedCheckpoint): Partial<Int8Extra> => (ck.manifest.extra.int8 ?? {}) as Partial<Int8Extra>;

export function int8ExtraJson(e: Int8Extra): JsonValue {
  return JSON.parse(JSON.stringify(e)) as JsonValue;
}

/**
 * For an int8 variant's checkpoint: sets the model's activation view and returns the quantization; for any
 * other run, undefined (and a float run's checkpoint holding int8 weights is refused: it cannot be what the
 * run trained).
 */
export function openInt8(config: RunConfig, ck: LoadedCheckpoint, model: AnyModel): RunQuantization | undefined {
  if (config.task !== 'compress' || config.compress.method !== 'int8') {
    if (ck.int8.size) throw new EngineError('INVALID_CONFIG', `${ck.dir}: holds int8 weights (${[...ck.int8.keys()][0]}, …) but the run is not an int8 variant; the checkpoint does not belong to this run`, ['checkpoint']);
    return undefined;
  }
  const activations = config.compress.activations;
  const scales = int8ExtraOf(ck).activationScales;
  if (activations.mode === 'static' && !scales) {
    throw new EngineError('INVALID_CONFIG', `${ck.dir}: the variant's activations are static but its checkpoint records no calibrated scales (extra.int8.activationScales); write the variant again from its base`, ['checkpoint']);
  }
  const sites = new Set([...ck.int8.keys()].map((n) => n.replace(/\.weight$/, '')));
  model.activationView = fakeQuantActivationView(sites, activations.mode === 'static' ? scales : undefined);
  return { weights: ck.int8, activations, ...(activations.mode === 'static' && scales ? { activationScales: scales } : {}) };
}

/** The exporter's view of a model's weights: its parameters, and an int8 variant's codes and input scales. */
export function weightSource(params: ParamStore, q?: RunQuantization): WeightSource {
  return {
    get: (name) => { const v = params.get(name); return { shape: [...v.shape], data: v.dataSync() as Float32Array }; },
    ...(q ? { int8: (name: string) => q.weights.get(name), activationScale: (site: string) => q.activationScales?.[site] } : {}),
  };
}
