/**
 * Loads the SIMD kernels of fusedKernels.as (embedded by buildFusedKernels.ts) against the heap of
 * a tfjs-backend-wasm backend: they read and write tensors where tfjs keeps them, with no copies.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { FUSED_KERNELS_WASM, FUSED_KERNELS_WASM_SHARED } from './fusedKernels.wasm';

type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-backend-wasm's BackendWasm that JS kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number; dtype: tf.DataType } | undefined };
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  wasm: { wasmMemory?: { buffer: ArrayBufferLike }; asm?: { memory?: { buffer: ArrayBufferLike } } };
}

export interface FusedExports {
  ln_fwd(x: number, g: number, b: number, y: number, mean: number, rstd: number, rows: number, C: number, eps: number): void;
  ln_bwd(dy: number, x: number, g: number, mean: number, rstd: number, dx: number, dg: number, db: number, rows: number, C: number): void;
  gelu_fwd(x: number, y: number, n: number): void;
  gelu_bwd(x: number, dy: number, dx: number, n: number): void;
  ce_fwd(logits: number, labels: number, lse: number, N: number, V: number): number;
  ce_bwd(logits: number, labels: number, lse: number, dlogits: number, N: number, V: number, scale: number): void;
  attn_fwd(qkv: number, out: number, P: number, B: number, T: number, H: number, D: number, scale: number, causal: number): void;
  attn_bwd(qkv: number, P: number, dout: number, dqkv: number, scratch: number, B: number, T: number, H: number, D: number, scale: number, causal: number): void;
  transpose2d(x: number, out: number, batch: number, rows: number, cols: number): void;
  colsum(x: number, out: number, rows: number, cols: number): void;
  rowsum(x: number, out: number, rows: number, cols: number): void;
  adamw(p: number, g: number, m: number, v: number, po: number, mo: number, vo: number, n: number,
    beta1: number, beta2: number, eps: number, stepSize: number, bc2Sqrt: number, decayFactor: number, gradScale: number): void;
  sumsq(x: number, n: number): number;
  bcast(op: number, big: number, small: number, out: number, rows: number, cols: number, col: number): void;
}

type WA = {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: unknown };
};
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WA }).WebAssembly;

const instances = new WeakMap<object, FusedExports>();

/** The kernels bound to this backend's heap (instantiated once per backend). */
export function kernelsFor(backend: WasmBackendLike): FusedExports {
  const module = backend.wasm;
  let k = instances.get(module);
  if (k) return k;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!memory) throw new Error('fused kernels: the wasm backend exposes no memory');
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = Buffer.from(shared ? FUSED_KERNELS_WASM_SHARED : FUSED_KERNELS_WASM, 'base64');
  const inst = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(bytes), { env: { memory } });
  k = inst.exports as FusedExports;
  instances.set(module, k);
  return k;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('fused kernels: tensor not on the wasm backend');
  return d.memoryOffset;
}
