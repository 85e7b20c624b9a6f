/**
 * Colours of the inspect views: attention as a white → blue ramp (BertViz's reading: darker is more),
 * masked positions as a flat grey that no weight takes, statistics on a diverging ramp. The ramp is a
 * 256-entry table so drawing a 512×512 map is one lookup per cell.
 */

/** RGB of masked positions (a causal model's future): outside the ramp, which never turns grey. */
export const MASKED_RGB: readonly [number, number, number] = [214, 214, 214];

const STOPS: [number, [number, number, number]][] = [
  [0, [247, 251, 255]], [0.25, [198, 219, 239]], [0.5, [107, 174, 214]], [0.75, [33, 113, 181]], [1, [8, 48, 107]],
];

function ramp(stops: [number, [number, number, number]][], t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 1;
  while (i < stops.length - 1 && stops[i][0] < x) i++;
  const [t0, a] = stops[i - 1], [t1, b] = stops[i];
  const f = (x - t0) / (t1 - t0);
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/** 256 RGB triples, index = round(255·t). */
export const HEAT_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) t.set(ramp(STOPS, i / 255), i * 3);
  return t;
})();

/** The attention colour of `t` in [0, 1]. */
export function heatRgb(t: number): [number, number, number] {
  const i = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0))) * 3;
  return [HEAT_TABLE[i], HEAT_TABLE[i + 1], HEAT_TABLE[i + 2]];
}

const STAT_STOPS: [number, [number, number, number]][] = [[0, [69, 117, 180]], [0.5, [255, 255, 191]], [1, [215, 48, 39]]];

/** A statistic's colour: low blue, middle pale yellow, high red, over [lo, hi]. */
export function statRgb(v: number, lo: number, hi: number): [number, number, number] {
  return ramp(STAT_STOPS, hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

export const css = ([r, g, b]: readonly number[]): string => `rgb(${r},${g},${b})`;
