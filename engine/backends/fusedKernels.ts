/**
 * Loads the SIMD kernels of fusedKernels.as (embedded by buildFusedKernels.ts) against the heap of
 * a tfjs-backend-wasm backend: they read and write tensors where tfjs keeps them, with no copies.
 */
import { Worker } from 'node:worker_threads';
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
  gelu_erf_fwd(x: number, y: number, n: number): void;
  gelu_erf_bwd(x: number, dy: number, dx: number, n: number): void;
  /** keep: byte offset of an f32 [B, T] key mask (1 keep, 0 masked), or 0 for none */
  attn_fwd(qkv: number, out: number, P: number, keep: number, B: number, T: number, H: number, D: number, scale: number, causal: number, bh0: number, bh1: number): void;
  attn_bwd(qkv: number, P: number, dout: number, dqkv: number, scratch: number, keep: number, B: number, T: number, H: number, D: number, scale: number, causal: number, bh0: number, bh1: number): void;
  attn_query(q: number, k: number, v: number, out: number, BH: number, n: number, D: number, scale: number): void;
  transpose2d(x: number, out: number, batch: number, rows: number, cols: number): void;
  matmul_rows(a: number, b: number, out: number, m: number, k: number, n: number): void;
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
const helpers = new WeakMap<object, Helper | null>();

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
  // With the threaded binary (shared heap) a helper thread takes half of the splittable kernels.
  helpers.set(module, shared && helperEnabled ? startHelper(memory, bytes) : null);
  return k;
}

// ------------------------------------------------------------------------------------------------
// a helper thread for the fused kernels
//
// The module has no state of its own, so a second instance in a worker, on the same shared memory,
// can run the other half of a kernel's rows. Jobs go through a small SharedArrayBuffer: the main
// thread writes the export's name index and arguments, bumps `seq` and notifies; the worker runs it
// and stores `seq` into `done`. While the worker starts (or if it never does) everything runs on the
// main thread.

const HELPER_FNS = ['attn_fwd', 'attn_bwd', 'gelu_fwd', 'gelu_bwd', 'gelu_erf_fwd', 'gelu_erf_bwd', 'ln_fwd'] as const;
type HelperFn = (typeof HELPER_FNS)[number];
const CTL_SEQ = 0, CTL_DONE = 1, CTL_FN = 2, CTL_NARGS = 3, CTL_READY = 4, CTL_ERR = 5;

const HELPER_SOURCE = `
const { workerData } = require('worker_threads');
const { memory, bytes, ctlBuffer, names } = workerData;
const ctl = new Int32Array(ctlBuffer, 0, 8);
const args = new Float64Array(ctlBuffer, 32, 24);
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
Atomics.store(ctl, ${CTL_READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${CTL_SEQ}, seen);
  const seq = Atomics.load(ctl, ${CTL_SEQ});
  if (seq === seen) continue;
  seen = seq;
  if (seq < 0) break;
  try {
    inst.exports[names[ctl[${CTL_FN}]]](...Array.from(args.subarray(0, ctl[${CTL_NARGS}])));
  } catch (e) {
    Atomics.store(ctl, ${CTL_ERR}, 1);
  }
  Atomics.store(ctl, ${CTL_DONE}, seq);
  Atomics.notify(ctl, ${CTL_DONE});
}
`;

interface Helper { worker: Worker; ctl: Int32Array; args: Float64Array; seq: number; broken: boolean }

let helperEnabled = process.env.WB_FUSED_HELPER !== '0';
/** Whether backends initialised from now on get a helper thread (default: yes; env WB_FUSED_HELPER=0: no). */
export function setFusedHelperEnabled(on: boolean): void { helperEnabled = on; }

function startHelper(memory: { buffer: ArrayBufferLike }, bytes: Uint8Array): Helper | null {
  try {
    const ctlBuffer = new SharedArrayBuffer(32 + 24 * 8);
    const worker = new Worker(HELPER_SOURCE, { eval: true, execArgv: [], workerData: { memory, bytes, ctlBuffer, names: HELPER_FNS } });
    worker.unref();
    const h: Helper = { worker, ctl: new Int32Array(ctlBuffer, 0, 8), args: new Float64Array(ctlBuffer, 32, 24), seq: 0, broken: false };
    worker.on('error', () => { h.broken = true; });
    worker.on('exit', () => { h.broken = true; });
    return h;
  } catch {
    return null;
  }
}

/**
 * Runs `fn(...mine)` here and `fn(...theirs)` on the helper thread at the same time, when the backend
 * has a ready helper; otherwise both, one after the other, here.
 */
export function runSplit(backend: WasmBackendLike, fn: HelperFn, mine: number[], theirs: number[]): void {
  const k = kernelsFor(backend) as unknown as Record<HelperFn, (...a: number[]) => void>;
  const h = helpers.get(backend.wasm);
  if (!h || h.broken || Atomics.load(h.ctl, CTL_READY) !== 1) {
    k[fn](...mine);
    k[fn](...theirs);
    return;
  }
  h.args.set(theirs);
  h.ctl[CTL_FN] = HELPER_FNS.indexOf(fn);
  h.ctl[CTL_NARGS] = theirs.length;
  const seq = ++h.seq;
  Atomics.store(h.ctl, CTL_SEQ, seq);
  Atomics.notify(h.ctl, CTL_SEQ);
  k[fn](...mine);
  let waited = 0;
  for (;;) {
    const d = Atomics.load(h.ctl, CTL_DONE);
    if (d === seq) break;
    if (Atomics.wait(h.ctl, CTL_DONE, d, 1000) === 'timed-out' && ++waited >= 30) {
      // the helper is gone: never use it again (its half may be lost, so fail this call loudly)
      h.broken = true;
      throw new Error('fused kernels: the helper thread stopped answering');
    }
  }
  if (Atomics.load(h.ctl, CTL_ERR)) {
    h.broken = true;
    throw new Error('fused kernels: the helper thread failed a kernel');
  }
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('fused kernels: tensor not on the wasm backend');
  return d.memoryOffset;
}
