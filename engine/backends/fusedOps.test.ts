/**
 * Each fused op on wasm (one SIMD kernel forward, one backward) against the plain tfjs composite
 * on the cpu backend: values and gradients. Runs the single-threaded wasm binary (plain memory);
 * fusedOps.threaded.test.ts runs the same file with two threads (shared memory, helper thread).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select';
import * as F from './fusedOps';

let seed = 777;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const randData = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * s);

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= tol * scale, `${what}: max |a-b| = ${worst} vs scale ${scale}`);
}

/** f on cpu (composite path) and on wasm (fused path); every output as a flat array */
async function both(f: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const res: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const out = tf.tidy(f);
    res.push(out.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(out);
  }
  return [res[0], res[1]];
}

before(async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  await selectBackend('wasm', { threads: Number(process.env.WB_TEST_WASM_THREADS ?? 1) });
});

test('layerNorm: value and gradients equal the composite on cpu', async () => {
  for (let it = 0; it < 8; it++) {
    const shape = [int(1, 5), int(1, 7), int(1, 70)];
    const n = shape.reduce((a, b) => a * b, 1), C = shape[2];
    const x = randData(n, 3), g = randData(C), b = randData(C), dy = randData(n);
    const [c, w] = await both(() => {
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => F.layerNorm(xx, gg, bb, 1e-5);
      const args = [tf.tensor(x, shape), tf.tensor(g, [C]), tf.tensor(b, [C])];
      return [f(args[0], args[1], args[2]), ...tf.grads(f)(args, tf.tensor(dy, shape))];
    });
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => close(w[i], c[i], 1e-4, `layerNorm ${shape} ${what}`));
  }
});

test('gelu: value and gradient equal the tanh formula on cpu', async () => {
  const n = 1031;
  const x = randData(n, 6), dy = randData(n);
  const res: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const out = tf.tidy(() => {
      const f = b === 'cpu' ? F.geluTanhComposite : F.gelu;
      return [f(tf.tensor(x)), tf.grad(f)(tf.tensor(x), tf.tensor(dy))];
    });
    res.push(out.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(out);
  }
  close(res[1][0], res[0][0], 1e-5, 'gelu');
  close(res[1][1], res[0][1], 1e-5, 'gelu grad');
  // and the sigmoid form (the composite used off wasm) is the same function
  await tf.setBackend('cpu');
  const s = tf.tidy(() => F.geluSigmoidComposite(tf.tensor(x)).dataSync());
  close(s, res[0][0], 1e-5, 'gelu sigmoid form');
  await tf.setBackend('wasm');
});

test('softmaxCrossEntropy: value and gradient equal the composite on cpu, ignored labels too', async () => {
  for (let it = 0; it < 6; it++) {
    const N = int(1, 50), V = int(2, 70);
    const logits = randData(N * V, 8);
    const labels = Int32Array.from({ length: N }, () => (rnd() < 0.1 ? -1 : int(0, V - 1)));
    const [c, w] = await both(() => {
      const lab = tf.tensor1d(labels, 'int32');
      const f = (l: tf.Tensor) => F.softmaxCrossEntropy(l, lab);
      const lt = tf.tensor(logits, [N, V]);
      return [f(lt), tf.grad(f)(lt, tf.scalar(1.7))];
    });
    close(w[0], c[0], 1e-5, `ce ${N}x${V}`);
    close(w[1], c[1], 1e-5, `ce grad ${N}x${V}`);
  }
});

test('selfAttention: output, probabilities and gradient equal the composite on cpu', async () => {
  for (const causal of [true, false]) {
    for (let it = 0; it < 3; it++) {
      const B = int(1, 3), T = int(1, 17), H = int(1, 4), D = 4 * int(1, 5);
      const C = H * D;
      const qkv = randData(B * T * 3 * C, 2), dy = randData(B * T * C);
      const [c, w] = await both(() => {
        const x = tf.tensor(qkv, [B, T, 3 * C]);
        const { out, probs } = F.selfAttentionWithProbs(x, H, { causal });
        const g = tf.grad((t: tf.Tensor) => F.selfAttention(t, H, { causal }))(x, tf.tensor(dy, [B, T, C]));
        return [out, probs, g];
      });
      close(w[0], c[0], 1e-4, `attention out B${B} T${T} H${H} D${D} causal=${causal}`);
      close(w[1], c[1], 1e-4, 'attention probs');
      close(w[2], c[2], 1e-4, 'attention dqkv');
    }
  }
});

test('kernels split across threads agree with the composite on larger shapes', async () => {
  const B = 3, T = 33, H = 4, D = 8, C = H * D;
  const qkv = randData(B * T * 3 * C, 2), dy = randData(B * T * C);
  const [c, w] = await both(() => {
    const x = tf.tensor(qkv, [B, T, 3 * C]);
    return [F.selfAttention(x, H), tf.grad((t: tf.Tensor) => F.selfAttention(t, H))(x, tf.tensor(dy, [B, T, C]))];
  });
  close(w[0], c[0], 1e-4, 'attention out');
  close(w[1], c[1], 1e-4, 'attention dqkv');
  const n = 3 * 8192 + 7;
  const x = randData(n, 4), gy = randData(n);
  const res: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const out = tf.tidy(() => [F.gelu(tf.tensor(x)), tf.grad(F.gelu)(tf.tensor(x), tf.tensor(gy))]);
    res.push(out.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(out);
  }
  close(res[1][0], res[0][0], 1e-5, 'gelu (split)');
  close(res[1][1], res[0][1], 1e-5, 'gelu grad (split)');
  const rows = 131, Cn = 2048;
  const lx = randData(rows * Cn, 3), lg = randData(Cn), lb = randData(Cn);
  const [c2, w2] = await both(() => [F.layerNorm(tf.tensor(lx, [rows, Cn]), tf.tensor(lg), tf.tensor(lb))]);
  close(w2[0], c2[0], 1e-4, 'layerNorm (split)');
});

test('shapes the kernels do not take fall back to the composite', async () => {
  await tf.setBackend('wasm');
  // head size 3 is not a multiple of 4
  const x = tf.randomNormal([2, 5, 18]);
  const a = F.selfAttention(x, 2);
  const b = F.selfAttentionComposite(x, 2);
  close(a.dataSync(), b.dataSync(), 1e-6, 'fallback');
  tf.dispose([x, a, b]);
});

test('a training step of fused ops leaks no tensors', async () => {
  await tf.setBackend('wasm');
  const w = tf.tidy(() => tf.variable(tf.randomNormal([16, 48], 0, 0.1)));
  const g = tf.tidy(() => tf.variable(tf.ones([16])));
  const b = tf.tidy(() => tf.variable(tf.zeros([16])));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 16]);
      const h = F.layerNorm(x, g, b);
      const qkv = tf.reshape(tf.matMul(tf.reshape(h, [16, 16]), w), [2, 8, 48]);
      const a = F.gelu(F.selfAttention(qkv, 2));
      return F.softmaxCrossEntropy(tf.reshape(a, [16, 16]), tf.tensor1d(Array.from({ length: 16 }, (_, k) => k % 16), 'int32')) as tf.Scalar;
    }));
    value.dispose();
    tf.dispose(grads);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, g, b]);
});

test('adamwUpdate equals the composite on cpu over several steps, with decay and grad scaling', async () => {
  const n = 1037;
  const p0 = randData(n), grads = [randData(n), randData(n), randData(n)];
  const res: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    let p = tf.tensor(p0), m = tf.zeros([n]), v = tf.zeros([n]);
    for (let t = 1; t <= 3; t++) {
      const h = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: t === 2 ? 0 : 0.1, step: t, gradScale: t === 3 ? 0.5 : 1 };
      const g = tf.tensor(grads[t - 1]);
      const r = F.adamwUpdate(p, g, m, v, h);
      tf.dispose([p, m, v, g]);
      ({ param: p, m, v } = r);
    }
    res.push([p, m, v].map((x) => Float32Array.from(x.dataSync() as Float32Array)));
    tf.dispose([p, m, v]);
  }
  ['param', 'm', 'v'].forEach((what, i) => close(res[1][i], res[0][i], 1e-5, `adamw ${what}`));
});

test('sumOfSquares equals the composite on cpu', async () => {
  const shapes = [[7], [3, 5], [2, 3, 4], [1]];
  const data = shapes.map((s) => randData(s.reduce((a, b) => a * b, 1), 3));
  const [c, w] = await both(() => [F.sumOfSquares(data.map((d, i) => tf.tensor(d, shapes[i])))]);
  close(w[0], c[0], 1e-6, 'sumOfSquares');
});
