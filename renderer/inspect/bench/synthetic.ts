/**
 * Attention maps shaped like a trained model's, for the bench: per head a causal (or full) softmax of
 * random scores plus a pattern (previous token, first token, a fixed offset), seeded so runs compare.
 */
import type { HeadGrid } from '../../../common/attentionMaps';
import { THUMB_SIZE, type InspectOverview, downsampleMap, quantizeThumb, toBase64 } from '../../../common/inspect';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** One head's T×T map: row q a softmax over keys 0…q (causal) or all keys. */
export function syntheticHead(T: number, seed: number, causal = true): Float32Array {
  const r = rng(seed);
  const kind = seed % 4;
  const out = new Float32Array(T * T);
  for (let q = 0; q < T; q++) {
    const n = causal ? q + 1 : T;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const bonus = kind === 0 && k === q - 1 ? 4 : kind === 1 && k === 0 ? 3 : kind === 2 && k === Math.max(0, q - 3) ? 3 : 0;
      const v = Math.exp(2 * r() + bonus);
      out[q * T + k] = v;
      sum += v;
    }
    for (let k = 0; k < n; k++) out[q * T + k] /= sum;
  }
  return out;
}

const grid = (L: number, H: number, f: (l: number, h: number) => number): HeadGrid => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => f(l, h)));

/** The model view's payload for L×H heads at T tokens, built as the host builds it. */
export function syntheticOverview(L: number, H: number, T: number): InspectOverview {
  const S = Math.min(T, THUMB_SIZE);
  const thumbs = new Uint8Array(L * H * S * S);
  const thumbMax = grid(L, H, () => 0);
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) {
    const q = quantizeThumb(downsampleMap(syntheticHead(T, l * H + h), T, S));
    thumbs.set(q.bytes, (l * H + h) * S * S);
    thumbMax[l][h] = q.max;
  }
  const r = rng(99);
  const tokens = Array.from({ length: T }, (_, i) => ['the', 'king', 'of', 'Den', '##mark', 'is', 'dead', ',', 'long'][i % 9]);
  return {
    checkpoint: 'step-00001000', step: 1000, arch: 'gpt', text: tokens.join(' '), tokens, ids: tokens.map((_, i) => i),
    layers: L, heads: H, T, causal: true,
    stats: { entropy: grid(L, H, () => 3 * r()), meanDistance: grid(L, H, () => 20 * r()), firstTokenShare: grid(L, H, () => r()), specialShare: null, previousToken: grid(L, H, () => r()), induction: grid(L, H, () => r()) },
    thumbSize: S, thumbs: toBase64(thumbs), thumbMax,
  };
}
