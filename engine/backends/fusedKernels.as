// AssemblyScript source of the fused wasm kernels (SIMD128). Not TypeScript: the extension keeps it
// out of tsc. Compiled by engine/backends/buildFusedKernels.ts into fusedKernels.wasm.ts.
//
// The module imports the tfjs-backend-wasm heap as its memory and keeps no data of its own (no data
// segments, no allocator): every argument that names a tensor is a byte offset into that heap.
// All tensors are float32 (labels int32), row-major.

// ---------------------------------------------------------------------------------------------
// helpers

@inline function vsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function vmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// exp(x) for 4 lanes: Cephes expf polynomial after range reduction; relative error ~2e-7.
@inline function expv(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2n = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}

@inline function exps(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

// natural log for a positive finite x, in f64 (AssemblyScript's Mathf.log carries a lookup table,
// i.e. a data segment, which this module must not have)
function logd(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  const s = (m - 1.0) / (m + 1.0);
  const s2 = s * s;
  const poly = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0))))));
  return <f64>e * 0.6931471805599453 + 2.0 * s * poly;
}

@inline function ptr(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

// ---------------------------------------------------------------------------------------------
// layer norm over the last axis: x [rows, C] -> y; also mean[rows], rstd[rows] for the backward

export function ln_fwd(x: usize, g: usize, b: usize, y: usize, mean: usize, rstd: usize, rows: i32, C: i32, eps: f32): void {
  const C4 = C & ~3;
  const invC: f32 = 1.0 / <f32>C;
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * C);
    const yr = ptr(y, r * C);
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c < C4; c += 4) acc = f32x4.add(acc, v128.load(ptr(xr, c)));
    let s = vsum(acc);
    for (; c < C; c++) s += load<f32>(ptr(xr, c));
    const mu = s * invC;
    const muv = f32x4.splat(mu);
    acc = f32x4.splat(0);
    c = 0;
    for (; c < C4; c += 4) { const d = f32x4.sub(v128.load(ptr(xr, c)), muv); acc = f32x4.add(acc, f32x4.mul(d, d)); }
    let ss = vsum(acc);
    for (; c < C; c++) { const d = load<f32>(ptr(xr, c)) - mu; ss += d * d; }
    const rs: f32 = 1.0 / Mathf.sqrt(ss * invC + eps);
    const rsv = f32x4.splat(rs);
    c = 0;
    for (; c < C4; c += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(ptr(xr, c)), muv), rsv);
      v128.store(ptr(yr, c), f32x4.add(f32x4.mul(xh, v128.load(ptr(g, c))), v128.load(ptr(b, c))));
    }
    for (; c < C; c++) store<f32>(ptr(yr, c), (load<f32>(ptr(xr, c)) - mu) * rs * load<f32>(ptr(g, c)) + load<f32>(ptr(b, c)));
    store<f32>(ptr(mean, r), mu);
    store<f32>(ptr(rstd, r), rs);
  }
}

export function ln_bwd(dy: usize, x: usize, g: usize, mean: usize, rstd: usize, dx: usize, dg: usize, db: usize, rows: i32, C: i32): void {
  const C4 = C & ~3;
  const invC: f32 = 1.0 / <f32>C;
  memory.fill(dg, 0, <usize>C << 2);
  memory.fill(db, 0, <usize>C << 2);
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * C);
    const dyr = ptr(dy, r * C);
    const dxr = ptr(dx, r * C);
    const mu = load<f32>(ptr(mean, r));
    const rs = load<f32>(ptr(rstd, r));
    const muv = f32x4.splat(mu);
    const rsv = f32x4.splat(rs);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let c = 0;
    for (; c < C4; c += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(ptr(xr, c)), muv), rsv);
      const dyv = v128.load(ptr(dyr, c));
      const dxh = f32x4.mul(dyv, v128.load(ptr(g, c)));
      a1 = f32x4.add(a1, dxh);
      a2 = f32x4.add(a2, f32x4.mul(dxh, xh));
      v128.store(ptr(dg, c), f32x4.add(v128.load(ptr(dg, c)), f32x4.mul(dyv, xh)));
      v128.store(ptr(db, c), f32x4.add(v128.load(ptr(db, c)), dyv));
    }
    let s1 = vsum(a1);
    let s2 = vsum(a2);
    for (; c < C; c++) {
      const xh = (load<f32>(ptr(xr, c)) - mu) * rs;
      const dyv = load<f32>(ptr(dyr, c));
      const dxh = dyv * load<f32>(ptr(g, c));
      s1 += dxh;
      s2 += dxh * xh;
      store<f32>(ptr(dg, c), load<f32>(ptr(dg, c)) + dyv * xh);
      store<f32>(ptr(db, c), load<f32>(ptr(db, c)) + dyv);
    }
    const m1 = f32x4.splat(s1 * invC);
    const m2 = f32x4.splat(s2 * invC);
    c = 0;
    for (; c < C4; c += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(ptr(xr, c)), muv), rsv);
      const dxh = f32x4.mul(v128.load(ptr(dyr, c)), v128.load(ptr(g, c)));
      v128.store(ptr(dxr, c), f32x4.mul(rsv, f32x4.sub(f32x4.sub(dxh, m1), f32x4.mul(xh, m2))));
    }
    for (; c < C; c++) {
      const xh = (load<f32>(ptr(xr, c)) - mu) * rs;
      const dxh = load<f32>(ptr(dyr, c)) * load<f32>(ptr(g, c));
      store<f32>(ptr(dxr, c), rs * (dxh - s1 * invC - xh * s2 * invC));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GELU, tanh approximation (GPT-2's gelu_new): 0.5 x (1 + tanh(k (x + 0.044715 x^3)))
// = x * sigmoid(2k (x + 0.044715 x^3)),  k = sqrt(2/pi)

const GK: f32 = 0.7978845608028654;
const GA: f32 = 0.044715;

export function gelu_fwd(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  const k2 = f32x4.splat(-2.0 * GK);
  const a = f32x4.splat(GA);
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(ptr(x, i));
    const u = f32x4.mul(xv, f32x4.add(one, f32x4.mul(a, f32x4.mul(xv, xv))));
    const e = expv(f32x4.mul(k2, u));
    v128.store(ptr(y, i), f32x4.div(xv, f32x4.add(one, e)));
  }
  for (; i < n; i++) {
    const xv = load<f32>(ptr(x, i));
    const u = xv * (1.0 + GA * xv * xv);
    store<f32>(ptr(y, i), xv / (1.0 + exps(-2.0 * GK * u)));
  }
}

// dx = dy * (s + x s (1 - s) 2k (1 + 3a x^2)),  s = sigmoid(2k u)
export function gelu_bwd(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  const k2 = f32x4.splat(-2.0 * GK);
  const k2p = f32x4.splat(2.0 * GK);
  const a = f32x4.splat(GA);
  const a3 = f32x4.splat(3.0 * GA);
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(ptr(x, i));
    const x2 = f32x4.mul(xv, xv);
    const u = f32x4.mul(xv, f32x4.add(one, f32x4.mul(a, x2)));
    const s = f32x4.div(one, f32x4.add(one, expv(f32x4.mul(k2, u))));
    const du = f32x4.mul(k2p, f32x4.add(one, f32x4.mul(a3, x2)));
    const d = f32x4.add(s, f32x4.mul(f32x4.mul(xv, f32x4.mul(s, f32x4.sub(one, s))), du));
    v128.store(ptr(dx, i), f32x4.mul(v128.load(ptr(dy, i)), d));
  }
  for (; i < n; i++) {
    const xv = load<f32>(ptr(x, i));
    const x2 = xv * xv;
    const u = xv * (1.0 + GA * x2);
    const s: f32 = 1.0 / (1.0 + exps(-2.0 * GK * u));
    const d = s + xv * s * (1.0 - s) * 2.0 * GK * (1.0 + 3.0 * GA * x2);
    store<f32>(ptr(dx, i), load<f32>(ptr(dy, i)) * d);
  }
}

// ---------------------------------------------------------------------------------------------
// softmax cross-entropy: logits [N, V], labels int32 [N] (a label < 0 or >= V is ignored).
// Forward writes lse[N] (log-sum-exp per row) and returns the summed loss of the counted rows.

export function ce_fwd(logits: usize, labels: usize, lse: usize, N: i32, V: i32): f32 {
  const V4 = V & ~3;
  let total: f32 = 0;
  for (let r = 0; r < N; r++) {
    const lr = ptr(logits, r * V);
    let mv = f32x4.splat(-Infinity);
    let c = 0;
    for (; c < V4; c += 4) mv = f32x4.max(mv, v128.load(ptr(lr, c)));
    let m = vmax(mv);
    for (; c < V; c++) m = max(m, load<f32>(ptr(lr, c)));
    const msv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    c = 0;
    for (; c < V4; c += 4) acc = f32x4.add(acc, expv(f32x4.sub(v128.load(ptr(lr, c)), msv)));
    let s = vsum(acc);
    for (; c < V; c++) s += exps(load<f32>(ptr(lr, c)) - m);
    const l = m + <f32>logd(<f64>s);
    store<f32>(ptr(lse, r), l);
    const y = load<i32>(ptr(labels, r));
    if (y >= 0 && y < V) total += l - load<f32>(ptr(lr, y));
  }
  return total;
}

// dlogits = scale * (softmax(logits) - onehot(label)); rows with an ignored label get 0.
export function ce_bwd(logits: usize, labels: usize, lse: usize, dlogits: usize, N: i32, V: i32, scale: f32): void {
  const V4 = V & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < N; r++) {
    const lr = ptr(logits, r * V);
    const dr = ptr(dlogits, r * V);
    const y = load<i32>(ptr(labels, r));
    if (y < 0 || y >= V) { memory.fill(dr, 0, <usize>V << 2); continue; }
    const lv = f32x4.splat(load<f32>(ptr(lse, r)));
    let c = 0;
    for (; c < V4; c += 4) v128.store(ptr(dr, c), f32x4.mul(sv, expv(f32x4.sub(v128.load(ptr(lr, c)), lv))));
    const l = load<f32>(ptr(lse, r));
    for (; c < V; c++) store<f32>(ptr(dr, c), scale * exps(load<f32>(ptr(lr, c)) - l));
    store<f32>(ptr(dr, y), load<f32>(ptr(dr, y)) - scale);
  }
}

// ---------------------------------------------------------------------------------------------
// GELU, exact (erf) form (BERT's gelu): x * Phi(x),  Phi(x) = 0.5 (1 + erf(x / sqrt 2))
//
// With z = x / sqrt 2, a = |z|:
//   a < 1:   erf(z) = z + z Q(z^2)                        (Q: degree 6, fitted; relative error ~1e-9)
//   a >= 1:  erfc(a) = exp(-a^2) R(t), t = 1 / (1 + a/2)   (R: degree 8, fitted on [1, 10]; ~6e-9)
//            Phi = 1 - erfc(a)/2 for z > 0, erfc(a)/2 for z < 0 (no cancellation in the left tail)
// Evaluated in f32: erf within 1.3 ulp (8.8e-8 relative) of the exact value. exp(-z^2) is also
// the Gaussian density the backward needs: d/dx [x Phi(x)] = Phi(x) + x exp(-x^2/2) / sqrt(2 pi).

@inline function erfSmallPoly(u: v128): v128 {
  let p = f32x4.splat(7.845525396987796e-05);
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(-0.0008007533033378422));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(0.005188003648072481));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(-0.02685362473130226));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(0.11283580213785172));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(-0.3761262595653534));
  return f32x4.add(f32x4.mul(p, u), f32x4.splat(0.12837916612625122));
}

@inline function erfcScaledPoly(t: v128): v128 {
  let p = f32x4.splat(0.08038957417011261);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18342633545398712));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.02285013347864151));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.10702072083950043));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.15726995468139648));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.2531868815422058));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.280953049659729));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.28220298886299133));
  return f32x4.add(f32x4.mul(p, t), f32x4.splat(-4.246600383339683e-06));
}

// Phi(x) for z = x / sqrt 2, given z^2 and e = exp(-z^2)
@inline function phiv(z: v128, z2: v128, e: v128): v128 {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  const a = f32x4.abs(z);
  const phiS = f32x4.add(half, f32x4.mul(half, f32x4.add(z, f32x4.mul(z, erfSmallPoly(z2)))));
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(half, f32x4.min(a, f32x4.splat(10.0)))));
  const hq = f32x4.mul(f32x4.mul(half, e), erfcScaledPoly(t));
  const phiL = v128.bitselect(f32x4.sub(one, hq), hq, f32x4.gt(z, f32x4.splat(0)));
  return v128.bitselect(phiS, phiL, f32x4.lt(a, one));
}

const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

export function gelu_erf_fwd(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  const r2 = f32x4.splat(SQRT1_2);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(ptr(x, i));
    const z = f32x4.mul(xv, r2);
    const z2 = f32x4.mul(z, z);
    v128.store(ptr(y, i), f32x4.mul(xv, phiv(z, z2, expv(f32x4.neg(z2)))));
  }
  for (; i < n; i++) {
    const xv = f32x4.splat(load<f32>(ptr(x, i)));
    const z = f32x4.mul(xv, r2);
    const z2 = f32x4.mul(z, z);
    store<f32>(ptr(y, i), f32x4.extract_lane(f32x4.mul(xv, phiv(z, z2, expv(f32x4.neg(z2)))), 0));
  }
}

export function gelu_erf_bwd(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  const r2 = f32x4.splat(SQRT1_2);
  const c = f32x4.splat(INV_SQRT_2PI);
  let i = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(ptr(x, i));
    const z = f32x4.mul(xv, r2);
    const z2 = f32x4.mul(z, z);
    const e = expv(f32x4.neg(z2));
    const d = f32x4.add(phiv(z, z2, e), f32x4.mul(f32x4.mul(xv, e), c));
    v128.store(ptr(dx, i), f32x4.mul(v128.load(ptr(dy, i)), d));
  }
  for (; i < n; i++) {
    const xv = f32x4.splat(load<f32>(ptr(x, i)));
    const z = f32x4.mul(xv, r2);
    const z2 = f32x4.mul(z, z);
    const e = expv(f32x4.neg(z2));
    const d = f32x4.add(phiv(z, z2, e), f32x4.mul(f32x4.mul(xv, e), c));
    store<f32>(ptr(dx, i), load<f32>(ptr(dy, i)) * f32x4.extract_lane(d, 0));
  }
}

// ---------------------------------------------------------------------------------------------
// multi-head self-attention straight from the fused projection:
//   qkv [B, T, 3*H*D] (q | k | v, each head-major: h*D + d), out [B, T, H*D], P [B, H, T, T]
//   P[b,h,i,:] = softmax(scale * q_i . k_j  (j <= i when causal; -inf above)), out_i = sum_j P_ij v_j
// Any head size D (SIMD over 4 at a time, the rest scalar).
//
// keep (0 = none): f32 [B, T], 1.0 for a key that may be attended to, 0.0 for padding. Masked keys get
// probability 0 for every query: what adding -1e9 to their scores gives (exp underflows to 0). A query
// that sees no key at all (all of j < jn masked) gets, like the -1e9 composite (whose biased scores then
// tie), the uniform distribution over the keys that break the fewest constraints: the keys j < jn and,
// when causal, the unmasked keys after the query. It never divides by zero.

// a . b over D floats
@inline function dotD(a: usize, b: usize, D: i32): f32 {
  const D4 = D & ~3;
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d < D4; d += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(ptr(a, d)), v128.load(ptr(b, d))));
  let s = vsum(acc);
  for (; d < D; d++) s += load<f32>(ptr(a, d)) * load<f32>(ptr(b, d));
  return s;
}

// y += s x over D floats
@inline function axpyD(y: usize, s: f32, x: usize, D: i32): void {
  const D4 = D & ~3;
  const sv = f32x4.splat(s);
  let d = 0;
  for (; d < D4; d += 4) v128.store(ptr(y, d), f32x4.add(v128.load(ptr(y, d)), f32x4.mul(sv, v128.load(ptr(x, d)))));
  for (; d < D; d++) store<f32>(ptr(y, d), load<f32>(ptr(y, d)) + s * load<f32>(ptr(x, d)));
}

// the dot products of a with the 4 rows b, b + stride, b + 2 stride, b + 3 stride (bytes), as one vector
@inline function dot4(a: usize, b: usize, stride: usize, D: i32): v128 {
  const D4 = D & ~3;
  const b1 = b + stride, b2 = b + 2 * stride, b3 = b + 3 * stride;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let d = 0;
  for (; d < D4; d += 4) {
    const av = v128.load(ptr(a, d));
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(ptr(b, d))));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(ptr(b1, d))));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(ptr(b2, d))));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(ptr(b3, d))));
  }
  // transpose-add: lane r = horizontal sum of c_r
  const u01 = f32x4.add(v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v128.shuffle<f32>(c0, c1, 2, 6, 3, 7));
  const u23 = f32x4.add(v128.shuffle<f32>(c2, c3, 0, 4, 1, 5), v128.shuffle<f32>(c2, c3, 2, 6, 3, 7));
  let r = f32x4.add(v128.shuffle<f32>(u01, u23, 0, 1, 4, 5), v128.shuffle<f32>(u01, u23, 2, 3, 6, 7));
  if (d < D) {
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    for (; d < D; d++) {
      const av = load<f32>(ptr(a, d));
      t0 += av * load<f32>(ptr(b, d));
      t1 += av * load<f32>(ptr(b1, d));
      t2 += av * load<f32>(ptr(b2, d));
      t3 += av * load<f32>(ptr(b3, d));
    }
    r = f32x4.add(r, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(t0), 1, t1), 2, t2), 3, t3));
  }
  return r;
}

// y += w0 x0 + w1 x1 + w2 x2 + w3 x3 over D floats, w = the 4 lanes of wv, x_r = x + r stride (bytes)
@inline function axpy4(y: usize, wv: v128, x: usize, stride: usize, D: i32): void {
  const D4 = D & ~3;
  const w0 = v128.shuffle<f32>(wv, wv, 0, 0, 0, 0), w1 = v128.shuffle<f32>(wv, wv, 1, 1, 1, 1);
  const w2 = v128.shuffle<f32>(wv, wv, 2, 2, 2, 2), w3 = v128.shuffle<f32>(wv, wv, 3, 3, 3, 3);
  const x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride;
  let d = 0;
  for (; d < D4; d += 4) {
    const a = f32x4.add(f32x4.mul(w0, v128.load(ptr(x, d))), f32x4.mul(w1, v128.load(ptr(x1, d))));
    const b = f32x4.add(f32x4.mul(w2, v128.load(ptr(x2, d))), f32x4.mul(w3, v128.load(ptr(x3, d))));
    v128.store(ptr(y, d), f32x4.add(v128.load(ptr(y, d)), f32x4.add(a, b)));
  }
  if (d < D) {
    const s0 = f32x4.extract_lane(wv, 0), s1 = f32x4.extract_lane(wv, 1), s2 = f32x4.extract_lane(wv, 2), s3 = f32x4.extract_lane(wv, 3);
    for (; d < D; d++) {
      store<f32>(ptr(y, d), load<f32>(ptr(y, d)) + ((s0 * load<f32>(ptr(x, d)) + s1 * load<f32>(ptr(x1, d))) + (s2 * load<f32>(ptr(x2, d)) + s3 * load<f32>(ptr(x3, d)))));
    }
  }
}

// 1 + the index of the last unmasked key of a row of keep (0 when all are masked): keys from there on are padding
@inline function keyEnd(kb: usize, T: i32): i32 {
  let e = T;
  while (e > 0 && load<f32>(ptr(kb, e - 1)) == 0) e--;
  return e;
}

// the number of keys of a fully masked query's uniform distribution (see above)
@inline function fullyMaskedCount(kb: usize, T: i32, jn: i32): i32 {
  let cnt = jn;
  for (let j = jn; j < T; j++) if (load<f32>(ptr(kb, j)) != 0) cnt++;
  return cnt;
}

// Heads bh in [bh0, bh1) of the B*H (b-major) only, so that threads can split the work.
// Keys go 4 at a time (one query row against 4 key rows; one output update per 4 value rows).
export function attn_fwd(qkv: usize, out: usize, P: usize, keep: usize, B: i32, T: i32, H: i32, D: i32, scale: f32, causal: i32, bh0: i32, bh1: i32): void {
  const C = H * D;
  const C3 = 3 * C;
  const rs: usize = <usize>C3 << 2; // bytes from one token's row of qkv to the next
  const sv = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H;
    const h = bh % H;
    const kb = keep ? ptr(keep, b * T) : 0;
    const kend = kb ? keyEnd(kb, T) : T;
    const Pbh = ptr(P, (b * H + h) * T * T);
    const k0 = ptr(qkv, b * T * C3 + C + h * D); // key row 0 of this head
    const v0 = ptr(qkv, b * T * C3 + 2 * C + h * D);
    for (let i = 0; i < T; i++) {
      const qi = ptr(qkv, (b * T + i) * C3 + h * D);
      const Pi = ptr(Pbh, i * T);
      const oi = ptr(out, (b * T + i) * C + h * D);
      const jn = causal ? i + 1 : T;
      const je = min(jn, kend); // keys at je..jn-1 are padding
      const je4 = je & ~3;
      // scores (masked: -inf), and their maximum
      let mv = ninf;
      let j = 0;
      for (; j < je4; j += 4) {
        let sc = f32x4.mul(dot4(qi, k0 + <usize>j * rs, rs, D), sv);
        if (kb) sc = v128.bitselect(ninf, sc, f32x4.eq(v128.load(ptr(kb, j)), zero));
        v128.store(ptr(Pi, j), sc);
        mv = f32x4.max(mv, sc);
      }
      let m = vmax(mv);
      for (; j < je; j++) {
        let sc: f32 = -Infinity;
        if (!kb || load<f32>(ptr(kb, j)) != 0) sc = dotD(qi, k0 + <usize>j * rs, D) * scale;
        store<f32>(ptr(Pi, j), sc);
        m = max(m, sc);
      }
      memory.fill(oi, 0, <usize>D << 2);
      if (m == -Infinity) {
        // no visible key (padding only): uniform over the least-masked keys, as the composite's tie
        const cnt = fullyMaskedCount(kb, T, jn);
        const u: f32 = 1.0 / <f32>cnt;
        for (j = 0; j < T; j++) {
          const p: f32 = j < jn || load<f32>(ptr(kb, j)) != 0 ? u : 0;
          store<f32>(ptr(Pi, j), p);
          if (p != 0) axpyD(oi, p, v0 + <usize>j * rs, D);
        }
        continue;
      }
      // exp (masked keys: times 0) and normalise
      const mvv = f32x4.splat(m);
      let sacc = f32x4.splat(0);
      j = 0;
      if (kb) {
        for (; j < je4; j += 4) {
          const e = f32x4.mul(expv(f32x4.sub(v128.load(ptr(Pi, j)), mvv)), v128.load(ptr(kb, j)));
          v128.store(ptr(Pi, j), e);
          sacc = f32x4.add(sacc, e);
        }
      } else {
        for (; j < je4; j += 4) { const e = expv(f32x4.sub(v128.load(ptr(Pi, j)), mvv)); v128.store(ptr(Pi, j), e); sacc = f32x4.add(sacc, e); }
      }
      let sum = vsum(sacc);
      for (; j < je; j++) {
        const e: f32 = kb && load<f32>(ptr(kb, j)) == 0 ? 0 : exps(load<f32>(ptr(Pi, j)) - m);
        store<f32>(ptr(Pi, j), e);
        sum += e;
      }
      const inv: f32 = 1.0 / sum;
      const iv = f32x4.splat(inv);
      j = 0;
      for (; j < je4; j += 4) v128.store(ptr(Pi, j), f32x4.mul(v128.load(ptr(Pi, j)), iv));
      for (; j < je; j++) store<f32>(ptr(Pi, j), load<f32>(ptr(Pi, j)) * inv);
      if (je < T) memory.fill(ptr(Pi, je), 0, <usize>(T - je) << 2);
      // out_i = sum_j P_ij v_j
      for (j = 0; j < je4; j += 4) {
        const pv = v128.load(ptr(Pi, j));
        if (v128.any_true(pv)) axpy4(oi, pv, v0 + <usize>j * rs, rs, D);
      }
      for (; j < je; j++) {
        const p = load<f32>(ptr(Pi, j));
        if (p != 0) axpyD(oi, p, v0 + <usize>j * rs, D);
      }
    }
  }
}

// P[i..i+3][j] (rows of T floats) as one vector
@inline function column4(Pj: usize, T: i32): v128 {
  const st: usize = <usize>T << 2;
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(Pj)), 1, load<f32>(Pj + st)), 2, load<f32>(Pj + 2 * st)), 3, load<f32>(Pj + 3 * st));
}

// Backward of attn_fwd: dqkv [B, T, 3C] (written whole), from dout [B, T, C], P, qkv (and keep, as given
// to the forward). scratch: T*T floats (dS of one head).
// Heads bh in [bh0, bh1) only (their columns of dqkv are zeroed here; other heads' are not touched).
// Two passes per head: query-major for dP, dS = P (dP - rowdot) scale and dq_i = sum_j dS_ij k_j; then
// key-major for dv_j = sum_i P_ij do_i and dk_j = sum_i dS_ij q_i, so that every accumulator row takes 4
// rows per update. Keys with P_ij = 0 (masked) contribute nothing: blocks of 4 such are skipped.
export function attn_bwd(qkv: usize, P: usize, dout: usize, dqkv: usize, scratch: usize, keep: usize, B: i32, T: i32, H: i32, D: i32, scale: f32, causal: i32, bh0: i32, bh1: i32): void {
  const C = H * D;
  const C3 = 3 * C;
  const rs: usize = <usize>C3 << 2; // bytes between tokens' rows of qkv / dqkv
  const ds_: usize = <usize>C << 2; // ... of dout
  const sv = f32x4.splat(scale);
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H;
    const h = bh % H;
    const kb = keep ? ptr(keep, b * T) : 0;
    const kend = kb ? keyEnd(kb, T) : T;
    let first = 0; // causal: queries before the first unmasked key see none (their P reaches past them)
    if (kb) while (first < T && load<f32>(ptr(kb, first)) == 0) first++;
    const Pbh = ptr(P, (b * H + h) * T * T);
    const q0 = ptr(qkv, b * T * C3 + h * D);
    const k0 = ptr(qkv, b * T * C3 + C + h * D);
    const v0 = ptr(qkv, b * T * C3 + 2 * C + h * D);
    const do0 = ptr(dout, b * T * C + h * D);
    const dq0 = ptr(dqkv, b * T * C3 + h * D);
    const dk0 = ptr(dqkv, b * T * C3 + C + h * D);
    const dv0 = ptr(dqkv, b * T * C3 + 2 * C + h * D);
    for (let t = 0; t < T; t++) {
      memory.fill(dq0 + <usize>t * rs, 0, <usize>D << 2);
      memory.fill(dk0 + <usize>t * rs, 0, <usize>D << 2);
      memory.fill(dv0 + <usize>t * rs, 0, <usize>D << 2);
    }
    // pass 1, by query
    for (let i = 0; i < T; i++) {
      const Pi = ptr(Pbh, i * T);
      const Si = ptr(scratch, i * T);
      const doi = do0 + <usize>i * ds_;
      const dqi = dq0 + <usize>i * rs;
      let je = causal ? i + 1 : T;
      if (kb) je = (causal ? i < first : kend == 0) ? T : min(je, kend); // fully masked: P reaches everywhere
      const je4 = je & ~3;
      // dP_ij = do_i . v_j (into Si) ; rowdot = sum_j P_ij dP_ij
      let rv = f32x4.splat(0);
      let j = 0;
      for (; j < je4; j += 4) {
        const pv = v128.load(ptr(Pi, j));
        if (!v128.any_true(pv)) { v128.store(ptr(Si, j), f32x4.splat(0)); continue; }
        const dp = dot4(doi, v0 + <usize>j * rs, rs, D);
        v128.store(ptr(Si, j), dp);
        rv = f32x4.add(rv, f32x4.mul(pv, dp));
      }
      let rowdot = vsum(rv);
      for (; j < je; j++) {
        const p = load<f32>(ptr(Pi, j));
        const dp: f32 = p == 0 ? 0 : dotD(doi, v0 + <usize>j * rs, D);
        store<f32>(ptr(Si, j), dp);
        rowdot += p * dp;
      }
      if (je < T) memory.fill(ptr(Si, je), 0, <usize>(T - je) << 2);
      // dS_ij = P_ij (dP_ij - rowdot) scale (into Si) ; dq_i += dS_ij k_j
      const rdv = f32x4.splat(rowdot);
      for (j = 0; j < je4; j += 4) {
        const pv = v128.load(ptr(Pi, j));
        if (!v128.any_true(pv)) continue;
        const ds = f32x4.mul(f32x4.mul(pv, f32x4.sub(v128.load(ptr(Si, j)), rdv)), sv);
        v128.store(ptr(Si, j), ds);
        axpy4(dqi, ds, k0 + <usize>j * rs, rs, D);
      }
      for (; j < je; j++) {
        const p = load<f32>(ptr(Pi, j));
        const ds: f32 = p == 0 ? 0 : p * (load<f32>(ptr(Si, j)) - rowdot) * scale;
        store<f32>(ptr(Si, j), ds);
        if (ds != 0) axpyD(dqi, ds, k0 + <usize>j * rs, D);
      }
    }
    // pass 2, by key: dv_j = sum_i P_ij do_i ; dk_j = sum_i dS_ij q_i
    const jlim = kb && kend > 0 ? kend : T;
    for (let j = 0; j < jlim; j++) {
      // a padding key has P_ij = 0 for every query, unless some query sees no key at all
      if (kb && load<f32>(ptr(kb, j)) == 0 && kend > 0 && (!causal || first == 0)) continue;
      const dvj = dv0 + <usize>j * rs;
      const dkj = dk0 + <usize>j * rs;
      let i = causal && first == 0 ? j & ~3 : 0;
      const T4 = T & ~3;
      for (; i < T4; i += 4) {
        const pw = column4(ptr(Pbh, i * T + j), T);
        if (!v128.any_true(pw)) continue;
        axpy4(dvj, pw, do0 + <usize>i * ds_, ds_, D);
        axpy4(dkj, column4(ptr(scratch, i * T + j), T), q0 + <usize>i * rs, rs, D);
      }
      for (; i < T; i++) {
        const p = load<f32>(ptr(Pbh, i * T + j));
        if (p == 0) continue;
        axpyD(dvj, p, do0 + <usize>i * ds_, D);
        axpyD(dkj, load<f32>(ptr(scratch, i * T + j)), q0 + <usize>i * rs, D);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// attention of one query per head against cached keys and values (a decoding step)

// out [BH, D] = softmax(q_h · K_hᵀ · scale) V_h for q [BH, D], K and V [BH, n, D]. The softmax is computed
// online (a running maximum rescales the sums when it grows), so the scores need no scratch buffer.
export function attn_query(q: usize, k: usize, v: usize, out: usize, BH: i32, n: i32, D: i32, scale: f32): void {
  const d4 = D & ~3;
  for (let h = 0; h < BH; h++) {
    const qh = ptr(q, h * D), oh = ptr(out, h * D);
    memory.fill(oh, 0, <usize>D << 2);
    let m: f32 = -3.0e38;
    let l: f32 = 0;
    for (let j = 0; j < n; j++) {
      const kj = ptr(k, (h * n + j) * D), vj = ptr(v, (h * n + j) * D);
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c < d4; c += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(ptr(qh, c)), v128.load(ptr(kj, c))));
      let s = vsum(acc);
      for (; c < D; c++) s += load<f32>(ptr(qh, c)) * load<f32>(ptr(kj, c));
      s *= scale;
      if (s > m) {
        const f = exps(m - s);
        l *= f;
        const fv = f32x4.splat(f);
        c = 0;
        for (; c < d4; c += 4) v128.store(ptr(oh, c), f32x4.mul(v128.load(ptr(oh, c)), fv));
        for (; c < D; c++) store<f32>(ptr(oh, c), load<f32>(ptr(oh, c)) * f);
        m = s;
      }
      const p = exps(s - m);
      l += p;
      const pv = f32x4.splat(p);
      c = 0;
      for (; c < d4; c += 4) v128.store(ptr(oh, c), f32x4.add(v128.load(ptr(oh, c)), f32x4.mul(pv, v128.load(ptr(vj, c)))));
      for (; c < D; c++) store<f32>(ptr(oh, c), load<f32>(ptr(oh, c)) + p * load<f32>(ptr(vj, c)));
    }
    const inv = f32x4.splat(1.0 / l);
    let c = 0;
    for (; c < d4; c += 4) v128.store(ptr(oh, c), f32x4.mul(v128.load(ptr(oh, c)), inv));
    for (; c < D; c++) store<f32>(ptr(oh, c), load<f32>(ptr(oh, c)) / l);
  }
}

// ---------------------------------------------------------------------------------------------
// layout helpers for the patched wasm kernels

// out [cols, rows] = transpose of x [rows, cols], for `batch` matrices one after another.
// 4x4 register tiles; edges scalar.
export function transpose2d(x: usize, out: usize, batch: i32, rows: i32, cols: i32): void {
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  const mat = rows * cols;
  for (let bi = 0; bi < batch; bi++) {
    const xb = ptr(x, bi * mat);
    const ob = ptr(out, bi * mat);
    for (let r = 0; r < r4; r += 4) {
      for (let c = 0; c < c4; c += 4) {
        const a0 = v128.load(ptr(xb, r * cols + c));
        const a1 = v128.load(ptr(xb, (r + 1) * cols + c));
        const a2 = v128.load(ptr(xb, (r + 2) * cols + c));
        const a3 = v128.load(ptr(xb, (r + 3) * cols + c));
        const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
        v128.store(ptr(ob, c * rows + r), v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(ptr(ob, (c + 1) * rows + r), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
        v128.store(ptr(ob, (c + 2) * rows + r), v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
        v128.store(ptr(ob, (c + 3) * rows + r), v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
      }
      for (let c = c4; c < cols; c++) {
        for (let rr = r; rr < r + 4; rr++) store<f32>(ptr(ob, c * rows + rr), load<f32>(ptr(xb, rr * cols + c)));
      }
    }
    for (let r = r4; r < rows; r++) {
      for (let c = 0; c < cols; c++) store<f32>(ptr(ob, c * rows + r), load<f32>(ptr(xb, r * cols + c)));
    }
  }
}

// out [m, n] = a [m, k] @ b [k, n] for a few rows m (one decoding step's tokens): each row of b is read once
// per row of a and streamed into the output row, 4 columns at a time, on this thread alone. XNNPACK's
// product parallelises over a thread pool whose start-up costs more than such a product, and far more
// when the other core is busy.
export function matmul_rows(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32): void {
  const n4 = n & ~3;
  memory.fill(out, 0, <usize>(m * n) << 2);
  for (let i = 0; i < m; i++) {
    const orow = ptr(out, i * n);
    for (let j = 0; j < k; j++) {
      const s = load<f32>(ptr(a, i * k + j));
      const sv = f32x4.splat(s);
      const brow = ptr(b, j * n);
      let c = 0;
      for (; c < n4; c += 4) v128.store(ptr(orow, c), f32x4.add(v128.load(ptr(orow, c)), f32x4.mul(sv, v128.load(ptr(brow, c)))));
      for (; c < n; c++) store<f32>(ptr(orow, c), load<f32>(ptr(orow, c)) + s * load<f32>(ptr(brow, c)));
    }
  }
}

// out [cols] = sum over rows of x [rows, cols]
export function colsum(x: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  memory.fill(out, 0, <usize>cols << 2);
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * cols);
    let c = 0;
    for (; c < c4; c += 4) v128.store(ptr(out, c), f32x4.add(v128.load(ptr(out, c)), v128.load(ptr(xr, c))));
    for (; c < cols; c++) store<f32>(ptr(out, c), load<f32>(ptr(out, c)) + load<f32>(ptr(xr, c)));
  }
}

// out [rows] = sum over the last axis of x [rows, cols]
export function rowsum(x: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * cols);
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c < c4; c += 4) acc = f32x4.add(acc, v128.load(ptr(xr, c)));
    let s = vsum(acc);
    for (; c < cols; c++) s += load<f32>(ptr(xr, c));
    store<f32>(ptr(out, r), s);
  }
}

// ---------------------------------------------------------------------------------------------
// optimiser

// AdamW (decoupled weight decay), the arithmetic of engine/training/adamw.ts in its order:
//   g' = g * gradScale;  m' = b1 m + (1-b1) g';  v' = b2 v + (1-b2) g'^2
//   p' = p * decayFactor - stepSize * m' / (sqrt(v') / bc2Sqrt + eps)
export function adamw(p: usize, g: usize, m: usize, v: usize, po: usize, mo: usize, vo: usize, n: i32,
                      beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32, decayFactor: f32, gradScale: f32): void {
  const n4 = n & ~3;
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(1.0 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(1.0 - beta2);
  const ev = f32x4.splat(eps), ss = f32x4.splat(stepSize), bc = f32x4.splat(bc2Sqrt);
  const df = f32x4.splat(decayFactor), gs = f32x4.splat(gradScale);
  let i = 0;
  for (; i < n4; i += 4) {
    const gv = f32x4.mul(v128.load(ptr(g, i)), gs);
    const mv = f32x4.add(f32x4.mul(v128.load(ptr(m, i)), b1), f32x4.mul(gv, c1));
    const vv = f32x4.add(f32x4.mul(v128.load(ptr(v, i)), b2), f32x4.mul(f32x4.mul(gv, gv), c2));
    const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc), ev);
    v128.store(ptr(mo, i), mv);
    v128.store(ptr(vo, i), vv);
    v128.store(ptr(po, i), f32x4.sub(f32x4.mul(v128.load(ptr(p, i)), df), f32x4.mul(f32x4.div(mv, den), ss)));
  }
  for (; i < n; i++) {
    const gv = load<f32>(ptr(g, i)) * gradScale;
    const mv = load<f32>(ptr(m, i)) * beta1 + gv * (1.0 - beta1);
    const vv = load<f32>(ptr(v, i)) * beta2 + gv * gv * (1.0 - beta2);
    const den = Mathf.sqrt(vv) / bc2Sqrt + eps;
    store<f32>(ptr(mo, i), mv);
    store<f32>(ptr(vo, i), vv);
    store<f32>(ptr(po, i), load<f32>(ptr(p, i)) * decayFactor - (mv / den) * stepSize);
  }
}

// sum of squares of x [n], accumulated in f64 lanes pairwise
export function sumsq(x: usize, n: i32): f64 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let total: f64 = 0;
  let i = 0;
  let blk = 0;
  for (; i < n4; i += 4) {
    const xv = v128.load(ptr(x, i));
    acc = f32x4.add(acc, f32x4.mul(xv, xv));
    if (++blk == 1024) { total += <f64>vsum(acc); acc = f32x4.splat(0); blk = 0; }
  }
  total += <f64>vsum(acc);
  for (; i < n; i++) { const xv = load<f32>(ptr(x, i)); total += <f64>(xv * xv); }
  return total;
}

// ---------------------------------------------------------------------------------------------
// broadcasting binary ops, single-threaded SIMD (XNNPACK's broadcasting ops slow down ~10x when it
// has a thread pool: they dispatch to it per row)
//   op: 0 add, 1 sub (big - small), 2 rsub (small - big), 3 mul
//   col == 0: small [cols] broadcast along rows; col == 1: small [rows] broadcast along columns

@inline function binop(op: i32, x: v128, y: v128): v128 {
  if (op == 0) return f32x4.add(x, y);
  if (op == 1) return f32x4.sub(x, y);
  if (op == 2) return f32x4.sub(y, x);
  return f32x4.mul(x, y);
}

@inline function binops(op: i32, x: f32, y: f32): f32 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return y - x;
  return x * y;
}

export function bcast(op: i32, big: usize, small: usize, out: usize, rows: i32, cols: i32, col: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const br = ptr(big, r * cols);
    const orow = ptr(out, r * cols);
    if (col) {
      const s = load<f32>(ptr(small, r));
      const sv = f32x4.splat(s);
      let c = 0;
      for (; c < c4; c += 4) v128.store(ptr(orow, c), binop(op, v128.load(ptr(br, c)), sv));
      for (; c < cols; c++) store<f32>(ptr(orow, c), binops(op, load<f32>(ptr(br, c)), s));
    } else {
      let c = 0;
      for (; c < c4; c += 4) v128.store(ptr(orow, c), binop(op, v128.load(ptr(br, c)), v128.load(ptr(small, c))));
      for (; c < cols; c++) store<f32>(ptr(orow, c), binops(op, load<f32>(ptr(br, c)), load<f32>(ptr(small, c))));
    }
  }
}
