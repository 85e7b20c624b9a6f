/**
 * The patched wasm kernels against the cpu backend, on random shapes. Runs the wasm backend with
 * two XNNPACK threads, so it also exercises wasmThreads.ts (and the shared-memory kernel build).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select';
import { registerWasmKernelPatches, unregisterWasmKernelPatches, copyBox } from './wasmKernels';

let seed = 12345;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const randData = (n: number) => Float32Array.from({ length: n }, () => rnd() * 2 - 1);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** runs f on cpu and on wasm with the same inputs; returns both results as flat arrays */
async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[], number[][]]> {
  const out: Float32Array[][] = [];
  let shapes: number[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const r = tf.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    shapes = list.map((t) => t.shape);
    out.push(list.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(list);
  }
  await tf.setBackend('wasm');
  return [out[0], out[1], shapes];
}

function close(a: Float32Array, b: Float32Array, tol = 1e-5, what = ''): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * scale)) assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
  }
}

let threads = 0;
before(async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  const info = await selectBackend('wasm', { threads: 2 });
  threads = info.threads;
});

test('the wasm backend runs with the XNNPACK threads asked for', () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(threads, 2);
});

test('copyBox copies boxes of 1-D to 5-D arrays', () => {
  for (let it = 0; it < 200; it++) {
    const rank = int(1, 5);
    const shape = Array.from({ length: rank }, () => int(1, 6));
    const begin = shape.map((d) => int(0, d - 1));
    const sz = shape.map((d, i) => int(0, d - begin[i]));
    const x = randData(size(shape));
    const out = new Float32Array(size(sz));
    copyBox(x, shape, begin, sz, out);
    // reference: index arithmetic
    const strides = shape.map((_, i) => size(shape.slice(i + 1)));
    let o = 0;
    const idx = new Array(rank).fill(0);
    for (let n = 0; n < size(sz); n++) {
      let src = 0;
      for (let d = 0; d < rank; d++) src += (begin[d] + idx[d]) * strides[d];
      assert.equal(out[o++], x[src]);
      for (let d = rank - 1; d >= 0; d--) { if (++idx[d] < sz[d]) break; idx[d] = 0; }
    }
  }
});

test('Slice equals cpu on random 1-D to 4-D shapes and odd offsets', async () => {
  for (let it = 0; it < 60; it++) {
    const rank = int(1, 4);
    const shape = Array.from({ length: rank }, () => int(1, 9));
    const begin = shape.map((d) => int(0, d - 1));
    const sz = shape.map((d, i) => (rnd() < 0.2 ? -1 : int(1, d - begin[i])));
    const data = randData(size(shape));
    const dtype = rnd() < 0.2 ? 'int32' : 'float32';
    const [c, w, shapes] = await both(() => tf.slice(tf.tensor(dtype === 'int32' ? Int32Array.from(data, (v) => Math.round(v * 100)) : data, shape, dtype), begin, sz));
    close(w[0], c[0], 0, `slice ${shape} ${begin} ${sz}`);
    assert.ok(shapes[0].every((d, i) => d === (sz[i] === -1 ? shape[i] - begin[i] : sz[i])));
  }
});

test('split and unstack equal cpu', async () => {
  for (let it = 0; it < 20; it++) {
    const rank = int(1, 4);
    const shape = Array.from({ length: rank }, () => int(1, 7));
    const axis = int(0, rank - 1);
    const data = randData(size(shape));
    const n = shape[axis];
    const cut = int(0, n);
    const [c1, w1] = await both(() => tf.split(tf.tensor(data, shape), [cut, n - cut], axis));
    c1.forEach((c, i) => close(w1[i], c, 0, `split ${shape} axis ${axis}`));
    const [c2, w2] = await both(() => tf.unstack(tf.tensor(data, shape), axis));
    c2.forEach((c, i) => close(w2[i], c, 0, `unstack ${shape} axis ${axis}`));
  }
});

test('the gradient of gather works on wasm and equals cpu (UnsortedSegmentSum)', async () => {
  for (let it = 0; it < 12; it++) {
    const rows = int(1, 20), cols = int(1, 9);
    const table = randData(rows * cols);
    const idx = Int32Array.from({ length: int(1, 40) }, () => int(0, rows - 1));
    const w = randData(idx.length * cols);
    const [c, g] = await both(() => tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, tf.tensor1d(idx, 'int32')), tf.tensor(w, [idx.length, cols]))))(tf.tensor(table, [rows, cols])));
    close(g[0], c[0], 1e-6, 'gather grad');
  }
  // axis 1, and 2-D indices
  const table = randData(3 * 4 * 2);
  const [c, g] = await both(() => tf.grad((p: tf.Tensor) => tf.sum(tf.square(tf.gather(p, tf.tensor2d([[0, 2], [1, 1]], [2, 2], 'int32'), 1))))(tf.tensor(table, [3, 4, 2])));
  close(g[0], c[0], 1e-6, 'gather grad axis 1');
});

test('unsortedSegmentSum equals cpu, and drops ids out of range', async () => {
  for (let it = 0; it < 10; it++) {
    const n = int(1, 30), inner = [int(1, 4), int(1, 3)];
    const k = int(1, 8);
    const x = randData(n * size(inner));
    const ids = Int32Array.from({ length: n }, () => int(-1, k));
    const [c, w] = await both(() => tf.unsortedSegmentSum(tf.tensor(x, [n, ...inner]), tf.tensor1d(ids, 'int32'), k));
    close(w[0], c[0], 1e-6, 'unsortedSegmentSum');
  }
});

test('matMul with transposes, batches and broadcasting equals cpu', async () => {
  for (let it = 0; it < 30; it++) {
    const m = int(1, 40), k = int(1, 40), n = int(1, 40);
    // outer (batch) dims: none, [b] or [b1, b2]; b's are equal to a's or absent (broadcast)
    const outer = Array.from({ length: int(0, 2) }, () => int(1, 3));
    const bOuter = rnd() < 0.5 ? [] : outer;
    const tA = rnd() < 0.5, tB = rnd() < 0.5;
    const aShape = [...outer, tA ? k : m, tA ? m : k];
    const bShape = [...bOuter, tB ? n : k, tB ? k : n];
    const a = randData(size(aShape)), b = randData(size(bShape));
    const [c, w, shapes] = await both(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), tA, tB));
    close(w[0], c[0], 1e-5, `matMul ${aShape} ${bShape} ${tA} ${tB}`);
    assert.deepEqual(shapes[0], [...outer, m, n]);
  }
  // 2-D, and the gradient (which uses transposed products)
  const a = randData(24 * 16), b = randData(16 * 8);
  const [c, w] = await both(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))))([tf.tensor(a, [24, 16]), tf.tensor(b, [16, 8])]));
  close(w[0], c[0], 1e-5, 'matMul grad a');
  close(w[1], c[1], 1e-5, 'matMul grad b');
});

test('transpose and sum equal cpu', async () => {
  for (let it = 0; it < 30; it++) {
    const rank = int(1, 4);
    const shape = Array.from({ length: rank }, () => int(1, 9));
    const perm = shape.map((_, i) => i).sort(() => rnd() - 0.5);
    const data = randData(size(shape));
    const [c, w] = await both(() => tf.transpose(tf.tensor(data, shape), perm));
    close(w[0], c[0], 0, `transpose ${shape} ${perm}`);
    const nAx = int(1, rank);
    const lead = rnd() < 0.5;
    const axes = Array.from({ length: nAx }, (_, i) => (lead ? i : rank - nAx + i));
    const keep = rnd() < 0.5;
    const [c2, w2, s2] = await both(() => tf.sum(tf.tensor(data, shape), axes, keep));
    close(w2[0], c2[0], 1e-5, `sum ${shape} ${axes}`);
    assert.equal(s2[0].length, keep ? rank : rank - nAx);
  }
});

test('unregistering puts the package kernels back, registering again is idempotent', async () => {
  unregisterWasmKernelPatches();
  await assert.rejects(async () => { tf.tidy(() => tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1, 0], 'int32'), 2)); });
  registerWasmKernelPatches();
  registerWasmKernelPatches();
  const r = tf.tidy(() => tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1, 0], 'int32'), 2).arraySync());
  assert.deepEqual(r, [[2, 2], [1, 1]]);
});

test('the patched kernels leak no tensors', () => {
  const before = tf.memory().numTensors;
  const x = tf.tidy(() => tf.variable(tf.randomNormal([16, 8])));
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      const g = tf.variableGrads(() => tf.sum(tf.matMul(tf.gather(x, tf.tensor1d([1, 3, 3], 'int32')), tf.transpose(tf.slice(x, [0, 0], [8, 8])))));
      return g.value;
    }).dispose();
  }
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('add, sub and mul with row, column and scalar broadcasting equal cpu', async () => {
  for (let it = 0; it < 40; it++) {
    const rank = int(1, 4);
    const big = Array.from({ length: rank }, () => int(1, 7));
    const kind = int(0, 3);
    let small: number[];
    if (kind === 0) small = big.slice(int(0, rank - 1)); // row (suffix)
    else if (kind === 1) small = big.map((d, i) => (i < int(1, rank) ? d : 1)); // column
    else if (kind === 2) small = [1];
    else small = big.map((d) => (rnd() < 0.5 ? 1 : d)); // general: may fall back
    const x = randData(size(big)), y = randData(size(small));
    for (const op of [tf.add, tf.sub, tf.mul]) {
      for (const swap of [false, true]) {
        const [c, w, s] = await both(() => (swap ? op(tf.tensor(y, small), tf.tensor(x, big)) : op(tf.tensor(x, big), tf.tensor(y, small))));
        close(w[0], c[0], 1e-6, `${op.name} ${big} ${small} ${swap}`);
        assert.deepEqual(s[0], big.length >= small.length ? big : small);
      }
    }
  }
});

test('gather equals cpu on random shapes, axes and index shapes; bad indices throw', async () => {
  for (let it = 0; it < 30; it++) {
    const rank = int(1, 4);
    const shape = Array.from({ length: rank }, () => int(1, 6));
    const axis = int(0, rank - 1);
    const idxShape = Array.from({ length: int(1, 2) }, () => int(1, 5));
    const idx = Int32Array.from({ length: size(idxShape) }, () => int(0, shape[axis] - 1));
    const data = randData(size(shape));
    const dtype = rnd() < 0.2 ? 'int32' : 'float32';
    const [c, w, s] = await both(() => tf.gather(tf.tensor(dtype === 'int32' ? Int32Array.from(data, (v) => Math.round(v * 50)) : data, shape, dtype), tf.tensor(idx, idxShape, 'int32'), axis));
    close(w[0], c[0], 0, `gather ${shape} axis ${axis} idx ${idxShape}`);
    assert.deepEqual(s[0], [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)]);
  }
  const before = tf.memory().numTensors;
  assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32'))), /not in \[0, 2\]/);
  assert.equal(tf.memory().numTensors, before);
});

test('matMul of a few rows (a decoding step: the single-threaded small-row kernel) equals cpu, batched or not', async () => {
  for (let it = 0; it < 30; it++) {
    const m = int(1, 4), k = int(1, 70), n = int(1, 70);
    const outer = rnd() < 0.5 ? [] : [int(1, 4)];
    const tB = rnd() < 0.3;
    const aShape = [...outer, m, k], bShape = tB ? [n, k] : [k, n];
    const a = randData(size(aShape)), b = randData(size(bShape));
    const [c, w, s] = await both(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), false, tB));
    close(w[0], c[0], 1e-5, `matMul ${aShape} ${bShape} ${tB}`);
    assert.deepEqual(s[0], [...outer, m, n]);
  }
});

test('add, sub and mul of two small tensors of one shape (the single-threaded kernel) equal cpu, in either order', async () => {
  for (let it = 0; it < 20; it++) {
    const shape = Array.from({ length: int(1, 3) }, () => int(1, 12));
    const x = randData(size(shape)), y = randData(size(shape));
    for (const op of [tf.add, tf.sub, tf.mul]) {
      const [c, w, s] = await both(() => [op(tf.tensor(x, shape), tf.tensor(y, shape)), op(tf.tensor(y, shape), tf.tensor(x, shape))]);
      close(w[0], c[0], 0, `${op.name} ${shape}`);
      close(w[1], c[1], 0, `${op.name} ${shape} swapped`);
      assert.deepEqual(s[0], shape);
    }
  }
});
