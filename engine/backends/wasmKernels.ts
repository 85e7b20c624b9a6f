/**
 * Kernels the wasm backend lacks or runs slowly, registered in JS over the wasm heap.
 *
 * - UnsortedSegmentSum: wasm has none, so the gradient of `tf.gather` failed on wasm.
 * - GatherV2 (batchDims 0): row copies heap to heap (the package's took 2.4 ms for an embedding lookup).
 * - Slice, SplitV, Unpack: wasm's copied the whole input (readSync) for every slice taken; these
 *   copy only what the slice holds, straight from heap to heap.
 * - BatchMatMul: only a plain, untransposed, batch-1 product takes XNNPACK's fast path (40+ GFLOP/s;
 *   transposed ones ran at ~3.5). A transposed operand is now transposed first (SIMD kernel), and
 *   [batch, m, k] @ [1, k, n] runs as one [batch*m, k] @ [k, n]. tfjs's own matMul gradient
 *   (transposeA / transposeB products) thereby takes the fast path too. A product of at most 4 rows (one
 *   decoding step) runs on a single-threaded SIMD kernel instead: XNNPACK's thread pool costs more than it.
 * - Transpose of the last two axes, Sum over leading or trailing axes (bias gradients): SIMD kernels.
 * - Add / Sub / Multiply of a tensor and a row vector or column (bias, layer-norm style broadcasts), or of
 *   two small tensors of one shape (a decoding step's residual adds): a single-threaded SIMD kernel;
 *   XNNPACK's broadcasting ops ran ~10x slower with a thread pool.
 *
 * `registerWasmKernelPatches()` may be called any number of times; `unregisterWasmKernelPatches()`
 * puts the package's own kernels back (for measurements).
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernelsFor, offset, type WasmBackendLike } from './fusedKernels';

export type { WasmBackendLike };
type TypedArray = Float32Array | Int32Array | Uint8Array;

const ours = new WeakSet<tf.KernelFunc>();
const originals = new Map<string, tf.KernelConfig | null>();

/** Registers (or replaces) a 'wasm' kernel, remembering the package's own for unregistering. */
export function registerWasmKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  ours.add(kernelFunc);
  const prev = tf.getKernel(kernelName, 'wasm');
  if (!originals.has(kernelName)) originals.set(kernelName, prev && !ours.has(prev.kernelFunc) ? prev : null);
  if (prev) tf.unregisterKernel(kernelName, 'wasm');
  // keep the package kernel's setup (it binds its wasm function when the backend starts), which
  // the original kernelFunc that ours may fall back to relies on
  const orig = originals.get(kernelName);
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, setupFunc: orig?.setupFunc, disposeFunc: orig?.disposeFunc });
}

/** Puts back what registerWasmKernel replaced (or removes kernels wasm did not have). */
export function unregisterWasmKernels(): void {
  for (const [kernelName, orig] of originals) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    if (orig) tf.registerKernel(orig);
  }
  originals.clear();
}

/** Calls the package's own kernel (for dtypes these kernels leave to it, e.g. strings). */
function original(kernelName: string, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const orig = originals.get(kernelName);
  if (!orig) throw new Error(`wasm has no kernel ${kernelName} for this input`);
  return orig.kernelFunc(args);
}

/**
 * Copies the box `begin`/`size` of `x` (row-major, shape `xShape`) into `out`, contiguous.
 * Trailing dimensions the box covers completely are merged into one row.
 */
export function copyBox(x: TypedArray, xShape: number[], begin: number[], size: number[], out: TypedArray, outOffset = 0): void {
  const rank = xShape.length;
  let total = 1;
  for (const s of size) total *= s;
  if (total === 0) return;
  if (rank === 0) { out[outOffset] = x[0]; return; }
  // merge trailing full dims into the row
  let last = rank - 1;
  let row = size[last];
  while (last > 0 && size[last] === xShape[last] && begin[last] === 0) {
    last--;
    row *= size[last];
  }
  // strides of x
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * xShape[d + 1];
  let base = 0;
  for (let d = 0; d < rank; d++) base += begin[d] * strides[d];
  const nRows = total / row;
  if (last === 0) {
    // one contiguous block
    out.set(x.subarray(base, base + row), outOffset);
    return;
  }
  const idx = new Array<number>(last).fill(0);
  let o = outOffset;
  let src = base;
  for (let r = 0; r < nRows; r++) {
    if (row >= 16) out.set(x.subarray(src, src + row), o);
    else for (let k = 0; k < row; k++) out[o + k] = x[src + k];
    o += row;
    // advance the odometer over dims [0, last)
    let d = last - 1;
    idx[d]++;
    src += strides[d];
    while (d > 0 && idx[d] === size[d]) {
      src -= size[d] * strides[d];
      idx[d] = 0;
      d--;
      idx[d]++;
      src += strides[d];
    }
  }
}

function sliceTo(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // views after the allocation: malloc may have grown (and so replaced) the heap
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  copyBox(src, x.shape, begin, size, dst);
  return out;
}

const slice: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return original(tf.Slice, args);
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin_, size_);
  return sliceTo(args.backend as WasmBackendLike, x, begin_, size_);
};

const splitV: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return original(tf.SplitV, args);
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[ax] = s;
    const out = sliceTo(args.backend as WasmBackendLike, x, begin, size);
    begin[ax] += s;
    return out;
  });
};

const unpack: tf.KernelFunc = (args) => {
  const value = args.inputs.value as tf.TensorInfo;
  if (value.dtype === 'string') return original(tf.Unpack, args);
  let { axis } = args.attrs as unknown as tf.UnpackAttrs;
  if (axis < 0) axis += value.shape.length;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(value.shape.length).fill(0);
  const size = value.shape.slice();
  size[axis] = 1;
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    begin[axis] = i;
    const o = sliceTo(args.backend as WasmBackendLike, value, begin, size);
    outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
  }
  return outs;
};

/**
 * TensorFlow's semantics: `segmentIds` (int32) has the shape of a prefix of `x`'s; the result is
 * [numSegments, ...x.shape[segmentIds.rank:]], rows with an id outside [0, numSegments) are dropped.
 * (For 1-D ids, the only kind `tf.gather`'s gradient makes, this is what the cpu backend computes.)
 */
const unsortedSegmentSum: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const ids = args.inputs.segmentIds as tf.TensorInfo;
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = args.backend as WasmBackendLike;
  const idRank = ids.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (ids.shape[d] !== x.shape[d]) throw new Error(`UnsortedSegmentSum: segmentIds shape [${ids.shape}] is not a prefix of x's [${x.shape}]`);
  }
  const inner = x.shape.slice(idRank);
  let innerSize = 1;
  for (const s of inner) innerSize *= s;
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  const dst = backend.typedArrayFromHeap(out);
  const src = backend.typedArrayFromHeap(x);
  const idv = backend.typedArrayFromHeap(ids);
  dst.fill(0);
  const n = idv.length;
  for (let r = 0; r < n; r++) {
    const s = idv[r];
    if (s < 0 || s >= numSegments) continue;
    const o = s * innerSize;
    const i0 = r * innerSize;
    for (let k = 0; k < innerSize; k++) dst[o + k] += src[i0 + k];
  }
  return out;
};

/** GatherV2 with batchDims 0: rows of `inner` elements copied heap to heap (the package's took 2.4 ms for 768 rows of 128). */
const gatherV2: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const indices = args.inputs.indices as tf.TensorInfo;
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  if (x.dtype === 'string' || (batchDims ?? 0) !== 0) return original(tf.GatherV2, args);
  const backend = args.backend as WasmBackendLike;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const dim = x.shape[ax];
  const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const idx = backend.typedArrayFromHeap(indices);
  const n = idx.length;
  for (let i = 0; i < n; i++) {
    if (!(idx[i] >= 0 && idx[i] < dim)) {
      (backend as unknown as { disposeData(d: tf.DataId, f?: boolean): void }).disposeData(out.dataId, true);
      throw new Error(`GatherV2: the index value ${idx[i]} is not in [0, ${dim - 1}]`);
    }
  }
  let o = 0;
  for (let a = 0; a < outer; a++) {
    const base = a * dim * inner;
    for (let i = 0; i < n; i++) {
      const s0 = base + idx[i] * inner;
      if (inner >= 16) dst.set(src.subarray(s0, s0 + inner), o);
      else for (let k = 0; k < inner; k++) dst[o + k] = src[s0 + k];
      o += inner;
    }
  }
  return out;
};

// ------------------------------------------------------------------------------------------------
// transpose, sum, matMul

function origKernel(kernelName: string): tf.KernelFunc {
  const o = originals.get(kernelName) ?? tf.getKernel(kernelName, 'wasm');
  if (!o) throw new Error(`wasm has no kernel ${kernelName}`);
  return o.kernelFunc;
}

/** The perm, with adjacent axes that stay together merged: [shape', perm'] */
function collapsePerm(shape: number[], perm: number[]): [number[], number[]] {
  // drop size-1 axes, then merge runs of consecutive source axes
  const keep = perm.filter((p) => shape[p] !== 1);
  const groups: number[][] = [];
  for (const p of keep) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] === p - 1) g.push(p); else groups.push([p]);
  }
  const order = groups.map((g) => g[0]).slice().sort((a, b) => a - b);
  const newShape = order.map((first) => groups.find((g) => g[0] === first)!.reduce((n, ax) => n * shape[ax], 1));
  const newPerm = groups.map((g) => order.indexOf(g[0]));
  return [newShape, newPerm];
}

/** Transposes a float32 tensor on the heap when the perm is a (batched) swap of two axis groups. */
function fastTranspose(backend: WasmBackendLike, x: tf.TensorInfo, perm: number[]): tf.TensorInfo | null {
  if (x.dtype !== 'float32') return null;
  const [s, p] = collapsePerm(x.shape, perm);
  const outShape = perm.map((i) => x.shape[i]);
  let batch: number, rows: number, cols: number;
  if (p.length === 2 && p[0] === 1 && p[1] === 0) { batch = 1; rows = s[0]; cols = s[1]; }
  else if (p.length === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1) { batch = s[0]; rows = s[1]; cols = s[2]; }
  else if (p.length <= 1) {
    const out = backend.makeOutput(outShape, x.dtype);
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x));
    return out;
  } else return null;
  const out = backend.makeOutput(outShape, x.dtype);
  kernelsFor(backend).transpose2d(offset(backend, x), offset(backend, out), batch, rows, cols);
  return out;
}

const transpose: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  return fastTranspose(args.backend as WasmBackendLike, x, perm) ?? origKernel(tf.Transpose)(args);
};

const sum: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return origKernel(tf.Sum)(args);
  const axes = tf.util.parseAxisParam(axis, x.shape).slice().sort((a, b) => a - b);
  const rank = x.shape.length;
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  if (!leading && !trailing) return origKernel(tf.Sum)(args);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const reduced = axes.reduce((n, a) => n * x.shape[a], 1);
  const kept = x.shape.reduce((n, d) => n * d, 1) / Math.max(reduced, 1);
  const out = backend.makeOutput(outShape, 'float32');
  if (reduced === 0) { backend.typedArrayFromHeap(out).fill(0); return out; }
  const k = kernelsFor(backend);
  if (leading) k.colsum(offset(backend, x), offset(backend, out), reduced, kept);
  else k.rowsum(offset(backend, x), offset(backend, out), kept, reduced);
  return out;
};

/** Products with at most this many rows (a decoding step's) run on matmul_rows, off XNNPACK's thread pool. */
const SMALL_ROWS = 4;

const batchMatMul: tf.KernelFunc = (args) => {
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const orig = origKernel(tf.BatchMatMul);
  const aR = a.shape.length, bR = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || aR < 2 || bR < 2) return orig(args);
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1), batchB = outerB.reduce((x, y) => x * y, 1);
  if (batchA !== batchB && batchB !== 1 && batchA !== 1) return orig(args);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) return orig(args); // let the package report the shape error
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
  const a3: tf.TensorInfo = { dataId: a.dataId, dtype: a.dtype, shape: [batchA, ar, ac] };
  const b3: tf.TensorInfo = { dataId: b.dataId, dtype: b.dtype, shape: [batchB, br, bc] };
  const temps: tf.TensorInfo[] = [];
  const plain = (x: tf.TensorInfo, y: tf.TensorInfo, tA: boolean) =>
    orig({ ...args, inputs: { a: x, b: y }, attrs: { ...args.attrs, transposeA: tA, transposeB: false } }) as tf.TensorInfo;
  try {
    let bb = b3;
    if (transposeB) {
      const t = fastTranspose(backend, b3, [0, 2, 1]);
      if (!t) return orig(args);
      temps.push(t);
      bb = t;
    }
    let out: tf.TensorInfo;
    if (batchB === 1 && !transposeA && batchA * m <= SMALL_ROWS) {
      out = backend.makeOutput([batchA * m, n], 'float32');
      kernelsFor(backend).matmul_rows(offset(backend, a3), offset(backend, bb), offset(backend, out), batchA * m, k, n);
    } else if (batchB === 1 && !transposeA) {
      // [batchA, m, k] @ [1, k, n] is one [batchA*m, k] @ [k, n]
      out = plain({ dataId: a.dataId, dtype: a.dtype, shape: [1, batchA * m, k] }, bb, false);
    } else if (batchA === 1 && batchB === 1) {
      const t = fastTranspose(backend, a3, [0, 2, 1]);
      if (!t) return orig(args);
      temps.push(t);
      out = plain(t, bb, false);
    } else {
      // batched products run the package's kernel (attention: use fusedOps.selfAttention)
      out = plain(a3, bb, transposeA);
    }
    return { dataId: out.dataId, dtype: out.dtype, shape: outShape };
  } finally {
    for (const t of temps) backend.disposeData(t.dataId, true);
  }
};

// ------------------------------------------------------------------------------------------------
// broadcasting Add / Sub / Mul

/**
 * How `small` broadcasts onto `big` when it is a row vector (its shape, leading 1s dropped, is a
 * suffix of big's) or a column (big's leading dims then 1s): [rows, cols, isColumn]; null otherwise.
 */
export function broadcastPattern(big: number[], small: number[]): [number, number, boolean] | null {
  const n = big.reduce((x, y) => x * y, 1);
  if (small.length > big.length) return null;
  const s = [...new Array<number>(big.length - small.length).fill(1), ...small];
  const sn = s.reduce((x, y) => x * y, 1);
  if (sn === 0 || n === 0 || sn === n) return null;
  if (sn === 1) return [1, n, true]; // a scalar: one 'row' of n columns, SIMD across it
  // row: s = [1,...,1, big[j..]]
  let j = 0;
  while (j < s.length && s[j] === 1) j++;
  if (s.slice(j).every((d, i) => d === big[j + i])) return [n / sn, sn, false];
  // column: s = [big[..k], 1,...,1]
  let k = s.length;
  while (k > 0 && s[k - 1] === 1) k--;
  if (s.slice(0, k).every((d, i) => d === big[i])) return [sn, n / sn, true];
  return null;
}

/** Same-shape operands up to this many elements (a decoding step's rows) also run on the single-threaded kernel. */
const SMALL_ELEMENTWISE = 4096;

function binary(kernelName: string, op: 'add' | 'sub' | 'mul'): tf.KernelFunc {
  return (args) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return origKernel(kernelName)(args);
    const aBig = a.shape.reduce((x, y) => x * y, 1) >= b.shape.reduce((x, y) => x * y, 1);
    const [big, small] = aBig ? [a, b] : [b, a];
    const n = big.shape.reduce((x, y) => x * y, 1);
    const same = n <= SMALL_ELEMENTWISE && big.shape.join() === small.shape.join();
    const pat = same ? [1, n, false] as const : broadcastPattern(big.shape, small.shape);
    if (!pat || big.shape.length < small.shape.length) return origKernel(kernelName)(args);
    const code = op === 'add' ? 0 : op === 'mul' ? 3 : aBig ? 1 : 2;
    const out = backend.makeOutput(big.shape.slice(), 'float32');
    kernelsFor(backend).bcast(code, offset(backend, big), offset(backend, small), offset(backend, out), pat[0], pat[1], pat[2] ? 1 : 0);
    return out;
  };
}

/**
 * Registers every kernel of this file for the 'wasm' backend (idempotent). Kernels of
 * fusedOps.ts register themselves on import.
 */
export function registerWasmKernelPatches(): void {
  registerWasmKernel(tf.Slice, slice);
  registerWasmKernel(tf.SplitV, splitV);
  registerWasmKernel(tf.Unpack, unpack);
  registerWasmKernel(tf.UnsortedSegmentSum, unsortedSegmentSum);
  registerWasmKernel(tf.GatherV2, gatherV2);
  registerWasmKernel(tf.Transpose, transpose);
  registerWasmKernel(tf.Sum, sum);
  registerWasmKernel(tf.BatchMatMul, batchMatMul);
  registerWasmKernel(tf.Add, binary(tf.Add, 'add'));
  registerWasmKernel(tf.Sub, binary(tf.Sub, 'sub'));
  registerWasmKernel(tf.Multiply, binary(tf.Multiply, 'mul'));
}

/** Puts the package's own kernels back. */
export function unregisterWasmKernelPatches(): void {
  unregisterWasmKernels();
}
