/**
 * Per-head statistics of attention probabilities (definitions in common/attentionMaps.ts), computed on the
 * host from one layer's maps [B, H, T, T]: padding queries and keys do not count, and every statistic is
 * a mean over the real queries of all sequences.
 */

/** The sequences the maps belong to. */
export interface ProbeLayout {
  B: number;
  T: number;
  /** 1 = token, 0 = padding, [B·T]; default all tokens */
  mask?: ArrayLike<number>;
  /** 1 where the token is [CLS] or [SEP], [B·T]; none: the share on them is not measured */
  special?: ArrayLike<number> | null;
}

export interface LayerStats {
  entropy: number[];
  meanDistance: number[];
  firstTokenShare: number[];
  specialShare: number[] | null;
  previousToken: number[];
}

/** Statistics of one layer's maps `probs` [B, H, T, T] (row-major), one value per head. */
export function layerStats(probs: ArrayLike<number>, H: number, layout: ProbeLayout): LayerStats {
  const { B, T, mask } = layout;
  const special = layout.special && Array.prototype.some.call(layout.special, (s: number) => s === 1) ? layout.special : null;
  if (probs.length !== B * H * T * T) throw new Error(`layerStats: ${probs.length} probabilities, not B·H·T·T = ${B}·${H}·${T}·${T}`);
  const real = (b: number, t: number) => !mask || mask[b * T + t] === 1;
  const out: LayerStats = { entropy: [], meanDistance: [], firstTokenShare: [], specialShare: special ? [] : null, previousToken: [] };
  for (let h = 0; h < H; h++) {
    let entropy = 0, distance = 0, first = 0, onSpecial = 0, previous = 0, queries = 0, withPrevious = 0;
    for (let b = 0; b < B; b++) {
      for (let q = 0; q < T; q++) {
        if (!real(b, q)) continue;
        const row = ((b * H + h) * T + q) * T;
        queries++;
        for (let k = 0; k < T; k++) {
          const p = probs[row + k];
          if (p <= 0 || !real(b, k)) continue;
          entropy -= p * Math.log(p);
          distance += p * Math.abs(q - k);
          if (special && special[b * T + k] === 1) onSpecial += p;
        }
        first += probs[row];
        if (q > 0 && real(b, q - 1)) { previous += probs[row + q - 1]; withPrevious++; }
      }
    }
    const n = Math.max(1, queries);
    out.entropy.push(entropy / n);
    out.meanDistance.push(distance / n);
    out.firstTokenShare.push(first / n);
    out.specialShare?.push(onSpecial / n);
    out.previousToken.push(previous / Math.max(1, withPrevious));
  }
  return out;
}

/**
 * Induction (prefix-matching) score per head of one layer's maps [B, H, T, T] on sequences whose tokens
 * from position `start` repeat with period `period` (x₀…x_{L−1} x₀…x_{L−1}): the mean attention of each
 * query in the repeat, at start + period + j, to start + j + 1 — the position after the same token's
 * first occurrence.
 */
export function inductionScores(probs: ArrayLike<number>, B: number, H: number, T: number, period: number, start = 0): number[] {
  if (probs.length !== B * H * T * T) throw new Error(`inductionScores: ${probs.length} probabilities, not B·H·T·T = ${B}·${H}·${T}·${T}`);
  if (period < 1 || start + 2 * period > T) throw new Error(`inductionScores: two periods of ${period} from position ${start} do not fit ${T} positions`);
  const scores: number[] = [];
  for (let h = 0; h < H; h++) {
    let sum = 0, n = 0;
    for (let b = 0; b < B; b++) {
      for (let q = start + period; q < start + 2 * period; q++) {
        sum += probs[((b * H + h) * T + q) * T + (q - period + 1)];
        n++;
      }
    }
    scores.push(sum / n);
  }
  return scores;
}
