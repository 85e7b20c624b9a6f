/**
 * Whether a model can train at all where it is asked to: a model far too large for the backend does not
 * fail cleanly later — wasm runs out of its 4 GiB address space ("memory access out of bounds"), and the
 * native backends swap for minutes before the system kills them. So the memory estimate the UI shows
 * (common/modelStats.ts) is checked before the first tensor is made, and the refusal says how much is
 * needed, what the limit is, and what to lower.
 */
import os from 'node:os';
import type { BackendName } from '../../common/backends';
import { EngineError } from '../../common/errors';
import type { ModelConfig } from '../../common/modelConfig';
import { memoryEstimate } from '../../common/modelStats';

/** wasm32's address space; TF.js's threaded SIMD build sets its memory maximum to it */
const WASM_BYTES = 4 * 2 ** 30;
/**
 * The estimate is within tens of percent, and every backend needs room beyond it (temporaries of the
 * backward pass, the data, the runtime): what it may claim of the limit.
 */
const HEADROOM = 0.75;

/** Bytes in the unit that keeps the figure short: 0.50 GB, 16.0 GB, 1.9 TB, 2.0 PB (never 1920000444416.0 GB). */
export function sizeText(bytes: number): string {
  const units: [number, string][] = [[1e18, 'EB'], [1e15, 'PB'], [1e12, 'TB']];
  for (const [v, u] of units) if (bytes >= v) return `${(bytes / v).toFixed(1)} ${u}`;
  return `${(bytes / 1e9).toFixed(bytes < 1e9 ? 2 : 1)} GB`;
}
const gb = sizeText;

/** The most a training step may need on `backend`, and the reason for that limit. */
export function memoryLimit(backend: BackendName, totalMem = os.totalmem()): { bytes: number; what: string } {
  if (backend === 'wasm') return { bytes: WASM_BYTES * HEADROOM, what: 'the wasm backend (it addresses at most 4 GiB)' };
  return { bytes: totalMem * HEADROOM, what: `this machine's ${gb(totalMem)} of memory` };
}

/** Throws INVALID_CONFIG when training `config` at this batch shape cannot fit on `backend`. */
export function checkMemory(config: ModelConfig, batchSize: number, seqLen: number, backend: BackendName, totalMem?: number): void {
  const need = memoryEstimate(config, batchSize, seqLen);
  const limit = memoryLimit(backend, totalMem);
  if (need.total <= limit.bytes) return;
  const advice = backend === 'wasm'
    ? 'use a native backend (npm install @tensorflow/tfjs-node), or lower nLayers, dModel, batchSize or seqLen'
    : 'lower nLayers, dModel, batchSize or seqLen';
  throw new EngineError('INVALID_CONFIG',
    `model: training it needs about ${gb(need.total)} (parameters ${gb(need.parameters)}, gradients ${gb(need.gradients)}, AdamW moments ${gb(need.optimizer)}, activations of a batch of ${batchSize}×${seqLen} ${gb(need.activations)}), more than ${limit.what} leaves for training (${gb(limit.bytes)}); ${advice}`,
    ['model']);
}
