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

/** a key mask [B, T] of one of several kinds; `kind` cycles through them */
function keyMask(B: number, T: number, kind: number): number[] {
  const m: number[] = [];
  for (let b = 0; b < B; b++) {
    const k = (kind + b) % 5;
    const len = k === 1 ? 1 : int(1, T); // right padding; kind 1: all but one key padded
    const lead = int(0, T - 1);
    for (let t = 0; t < T; t++) {
      if (k === 0 || k === 1) m.push(t < len ? 1 : 0);
      else if (k === 2) m.push(rnd() < 0.3 ? 1 : 0); // scattered, many padded (a row may have no key)
      else if (k === 3) m.push(t >= lead ? 1 : 0); // left padding: causal queries before `lead` see no key
      else m.push(b === 0 && B > 1 ? 0 : 1); // a sequence that is all padding, or none padded
    }
  }
  return m;
}

const hasNaN = (a: ArrayLike<number>) => Array.prototype.some.call(a, (x: number) => Number.isNaN(x));

test('selfAttention with a key padding mask: output, probabilities and gradient equal the -1e9 composite on cpu', async () => {
  let kind = 0;
  for (const causal of [false, true]) {
    for (const dtype of ['int32', 'float32'] as const) {
      for (let it = 0; it < 5; it++, kind++) {
        const B = int(1, 4), T = int(1, 24), H = int(1, 4), D = it % 2 ? 4 * int(1, 5) : int(1, 13); // any head size
        const C = H * D;
        const qkv = randData(B * T * 3 * C, 2), dy = randData(B * T * C);
        const mask = keyMask(B, T, kind);
        const [c, w] = await both(() => {
          const x = tf.tensor(qkv, [B, T, 3 * C]);
          const keyMask = tf.tensor2d(mask, [B, T], dtype);
          const { out, probs } = F.selfAttentionWithProbs(x, H, { causal, keyMask });
          const g = tf.grad((t: tf.Tensor) => F.selfAttention(t, H, { causal, keyMask }))(x, tf.tensor(dy, [B, T, C]));
          return [out, probs, g];
        });
        const what = `B${B} T${T} H${H} D${D} causal=${causal} ${dtype} mask ${mask.join('')}`;
        for (const a of w) assert.ok(!hasNaN(a), `NaN in the fused result: ${what}`);
        close(w[0], c[0], 1e-4, `masked attention out ${what}`);
        close(w[1], c[1], 1e-4, `masked attention probs ${what}`);
        close(w[2], c[2], 1e-4, `masked attention dqkv ${what}`);
        // a query that sees some key gives padding keys exactly 0
        const P = w[1];
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < T; i++) {
            const visible = (j: number) => mask[b * T + j] !== 0 && (!causal || j <= i);
            if (!Array.from({ length: T }, (_, j) => visible(j)).some(Boolean)) continue;
            for (let h = 0; h < H; h++) {
              for (let j = 0; j < T; j++) if (!visible(j)) assert.equal(P[((b * H + h) * T + i) * T + j], 0, `P[${b},${h},${i},${j}] ${what}`);
            }
          }
        }
      }
    }
  }
});

test('an all-ones key mask changes nothing', async () => {
  await tf.setBackend('wasm');
  const B = 2, T = 9, H = 2, D = 8;
  const x = tf.tensor(randData(B * T * 3 * H * D, 2), [B, T, 3 * H * D]);
  const ones = tf.ones([B, T], 'int32');
  for (const causal of [false, true]) {
    const a = F.selfAttention(x, H, { causal }), b = F.selfAttention(x, H, { causal, keyMask: ones });
    close(b.dataSync(), a.dataSync(), 0, `causal=${causal}`);
    tf.dispose([a, b]);
  }
  tf.dispose([x, ones]);
});

test('a key mask of the wrong shape is refused', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([2, 3, 24]), m = tf.ones([2, 4], 'int32');
  assert.throws(() => F.selfAttention(x, 2, { keyMask: m }), /keyMask must be \[B, T\] = \[2, 3\]/);
  tf.dispose([x, m]);
});

/** erf in float64: Taylor series below 2.5, Laplace's continued fraction for erfc above */
function erfc64(z: number): number {
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2.5) return 1 - erf64(z);
  let f = z;
  for (let n = 200; n >= 1; n--) f = z + (n / 2) / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
function erf64(z: number): number {
  if (Math.abs(z) >= 2.5) return z > 0 ? 1 - erfc64(z) : erfc64(-z) - 1;
  let term = z, sum = z;
  for (let n = 1; n < 200; n++) {
    term *= -z * z / n;
    sum += term / (2 * n + 1);
    if (Math.abs(term) < 1e-18 * Math.abs(sum)) break;
  }
  return sum * 2 / Math.sqrt(Math.PI);
}

test('geluErf: value and gradient equal the tf.erf composite on cpu, and the exact function to float32 precision', async () => {
  // the reference erf itself
  assert.ok(Math.abs(erf64(0.5) - 0.5204998778130465) < 1e-15 && Math.abs(erfc64(3) - 2.209049699858544e-5) < 1e-19);
  const n = 4099;
  const x = Float32Array.from({ length: n }, (_, i) => (i < 64 ? (i - 32) * 1e-3 : (rnd() * 2 - 1) * (i % 3 === 0 ? 9 : 3)));
  const dy = randData(n);
  const res: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const out = tf.tidy(() => {
      const f = b === 'cpu' ? F.geluErfComposite : F.geluErf;
      return [f(tf.tensor(x)), tf.grad(f)(tf.tensor(x), tf.tensor(dy))];
    });
    res.push(out.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(out);
  }
  // tf.erf (Abramowitz-Stegun 7.1.26) is good to 1.5e-7 absolute: compare at that level
  close(res[1][0], res[0][0], 1e-6, 'geluErf');
  close(res[1][1], res[0][1], 1e-6, 'geluErf grad');
  // against float64: Phi(x) = erfc(-x/sqrt2)/2; relative error a few float32 ulps, plus the conditioning
  // of Phi in the left tail (d ln Phi / d ln x ~ x^2 there)
  let worst = 0, worstG = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const phi = erfc64(-xi * Math.SQRT1_2) / 2;
    const dens = Math.exp(-xi * xi / 2) / Math.sqrt(2 * Math.PI);
    const ref = xi * phi, refG = dy[i] * (phi + xi * dens);
    const tol = 3e-7 * (1 + xi * xi);
    worst = Math.max(worst, Math.abs(res[1][0][i] - ref) / (Math.abs(ref) * tol + 1e-38));
    worstG = Math.max(worstG, Math.abs(res[1][1][i] - refG) / (Math.abs(dy[i]) * (phi + Math.abs(xi) * dens) * tol + 1e-38));
  }
  assert.ok(worst <= 1, `geluErf vs float64: worst error / tolerance = ${worst}`);
  assert.ok(worstG <= 1, `geluErf grad vs float64: worst error / tolerance = ${worstG}`);
  await tf.setBackend('wasm');
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
  for (const causal of [false, true]) {
    const mask = keyMask(B, T, causal ? 3 : 0);
    const [cm, wm] = await both(() => {
      const x = tf.tensor(qkv, [B, T, 3 * C]);
      const o = { causal, keyMask: tf.tensor2d(mask, [B, T], 'int32') };
      return [F.selfAttention(x, H, o), tf.grad((t: tf.Tensor) => F.selfAttention(t, H, o))(x, tf.tensor(dy, [B, T, C]))];
    });
    close(wm[0], cm[0], 1e-4, `masked attention out causal=${causal}`);
    close(wm[1], cm[1], 1e-4, `masked attention dqkv causal=${causal}`);
  }
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
  const erfRes: Float32Array[][] = [];
  for (const b of ['cpu', 'wasm']) {
    await tf.setBackend(b);
    const out = tf.tidy(() => [F.geluErf(tf.tensor(x)), tf.grad(F.geluErf)(tf.tensor(x), tf.tensor(gy))]);
    erfRes.push(out.map((t) => Float32Array.from(t.dataSync() as Float32Array)));
    tf.dispose(out);
  }
  close(erfRes[1][0], erfRes[0][0], 1e-6, 'geluErf (split)');
  close(erfRes[1][1], erfRes[0][1], 1e-6, 'geluErf grad (split)');
  const rows = 131, Cn = 2048;
  const lx = randData(rows * Cn, 3), lg = randData(Cn), lb = randData(Cn);
  const [c2, w2] = await both(() => [F.layerNorm(tf.tensor(lx, [rows, Cn]), tf.tensor(lg), tf.tensor(lb))]);
  close(w2[0], c2[0], 1e-4, 'layerNorm (split)');
});

test('head sizes that are not a multiple of 4 run the kernel too (BERT golden: 6)', async () => {
  for (const [B, T, H, D] of [[2, 5, 2, 3], [2, 12, 4, 6], [1, 7, 1, 1], [3, 9, 2, 13]]) {
    const C = H * D;
    const qkv = randData(B * T * 3 * C, 2), dy = randData(B * T * C);
    for (const causal of [false, true]) {
      const mask = keyMask(B, T, causal ? 0 : 2);
      const [c, w] = await both(() => {
        const x = tf.tensor(qkv, [B, T, 3 * C]);
        const o = { causal, keyMask: tf.tensor2d(mask, [B, T], 'int32') };
        const { out, probs } = F.selfAttentionWithProbs(x, H, o);
        return [out, probs, tf.grad((t: tf.Tensor) => F.selfAttention(t, H, o))(x, tf.tensor(dy, [B, T, C]))];
      });
      ['out', 'probs', 'dqkv'].forEach((what, i) => close(w[i], c[i], 1e-4, `attention D${D} causal=${causal} ${what}`));
    }
  }
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
      const a = F.geluErf(F.gelu(F.selfAttention(qkv, 2, { keyMask: tf.tensor2d([1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [2, 8], 'int32') })));
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

test('queryAttention (one query per head against cached keys, a decoding step) equals the composite on cpu; bad shapes are refused', async () => {
  for (let it = 0; it < 12; it++) {
    const B = int(1, 2), H = int(1, 5), n = int(1, 80), D = int(1, 40);
    // a large scale on some cases: scores far apart, where an online softmax must rescale its running sums
    const s = it % 3 ? 1 : 8;
    const q = randData(B * H * D, s), k = randData(B * H * n * D, s), v = randData(B * H * n * D);
    const [c, w] = await both(() => [F.queryAttention(tf.tensor(q, [B, H, 1, D]), tf.tensor(k, [B, H, n, D]), tf.tensor(v, [B, H, n, D]))]);
    close(w[0], c[0], 1e-5, `queryAttention B${B} H${H} n${n} D${D} scale ${s}`);
  }
  assert.throws(() => F.queryAttention(tf.ones([1, 2, 2, 4]), tf.ones([1, 2, 5, 4]), tf.ones([1, 2, 5, 4])), /q must be \[B, H, 1, D\]/);
  assert.throws(() => F.queryAttention(tf.ones([1, 2, 1, 4]), tf.ones([1, 2, 5, 4]), tf.ones([1, 2, 6, 4])), /keys, values \[B, H, n, D\]/);
});
