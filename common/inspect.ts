import { z } from 'zod';
import { HEAD_STATISTICS, HeadStats } from './attentionMaps';
import { CheckpointName, RunId } from './runFolder';

/**
 * The notebook's inspect cell, end to end: what the engine's `inspect.attention` job computes (the maps of
 * one input at some checkpoints of a run, cached as files in the run folder, common/node/inspectCache.ts),
 * and what the host hands the renderer from those files — only what a view needs: per-head thumbnails for
 * the model view, one head's full map on demand. Maps travel as base64 of their bytes, so that one head at
 * 512 tokens (1 MiB of float32) stays far below the protocol's and the socket's message limits.
 */

/** Longest text (or pair) the inspect cell sends, in characters; its tokens must also fit the model's context. */
export const MAX_INSPECT_TEXT_CHARS = 20_000;
/** Most checkpoints one job computes (a replay over a run's kept checkpoints). */
export const MAX_INSPECT_CHECKPOINTS = 500;
/** Thumbnails of the model view are at most this many cells a side (block means of the full map). */
export const THUMB_SIZE = 32;

export const InspectText = z.string().min(1, 'the text is empty; type a sentence to inspect').max(MAX_INSPECT_TEXT_CHARS, `the text is longer than ${MAX_INSPECT_TEXT_CHARS} characters; shorten it`);

/** One input: a text, and for a BERT model an optional second segment. */
export const InspectInput = z.object({ text: InspectText, pair: InspectText.optional() }).strict();
export type InspectInput = z.infer<typeof InspectInput>;

/** A checkpoint by name, or the run's newest / best one. */
export const CheckpointRef = z.union([z.literal('last'), z.literal('best'), CheckpointName]);
export type CheckpointRef = z.infer<typeof CheckpointRef>;

/** The engine job: maps of `input` at each checkpoint, written to the run's inspect cache (skipped where cached). */
export const InspectAttentionJob = z.object({
  kind: z.literal('inspect.attention'),
  runDir: z.string().min(1).max(4096),
  checkpoints: z.array(CheckpointRef).min(1).max(MAX_INSPECT_CHECKPOINTS),
  text: InspectText,
  pair: InspectText.optional(),
}).strict();
export type InspectAttentionJob = z.infer<typeof InspectAttentionJob>;

/** One checkpoint's cache entry (the files NAME.runs/RUN/inspect/KEY.json and KEY.f32). */
export const InspectEntry = z.object({
  checkpoint: CheckpointName,
  step: z.number().int().min(0),
  key: z.string().regex(/^[0-9a-f]{8,64}$/),
  /** true when the entry was there already and nothing was computed */
  cached: z.boolean(),
}).strict();
export const InspectAttentionResult = z.object({ entries: z.array(InspectEntry).max(MAX_INSPECT_CHECKPOINTS) }).strict();
export type InspectAttentionResult = z.infer<typeof InspectAttentionResult>;

/** A cache entry's KEY.json: everything but the maps, which are KEY.f32, float32 little-endian [layer][head][query][key]. */
export const InspectMeta = z.object({
  format: z.literal('transformer-workbench.inspect'),
  version: z.literal(1),
  checkpoint: CheckpointName,
  step: z.number().int().min(0),
  arch: z.enum(['gpt', 'bert']),
  text: z.string(),
  pair: z.string().optional(),
  tokens: z.array(z.string()),
  ids: z.array(z.number().int().min(0)),
  tokenTypeIds: z.array(z.number().int().min(0)).optional(),
  layers: z.number().int().min(1),
  heads: z.number().int().min(1),
  /** tokens: every map is T×T */
  T: z.number().int().min(1),
  causal: z.boolean(),
  stats: HeadStats,
}).strict();
export type InspectMeta = z.infer<typeof InspectMeta>;

/** A run's checkpoint as the inspect cell lists it. */
export const CheckpointInfo = z.object({ name: CheckpointName, step: z.number().int().min(0), valLoss: z.number().nullable() }).strict();
export type CheckpointInfo = z.infer<typeof CheckpointInfo>;
export const InspectCheckpoints = z.object({
  /** oldest first */
  checkpoints: z.array(CheckpointInfo),
  last: CheckpointName.nullable(),
  best: CheckpointName.nullable(),
}).strict();
export type InspectCheckpoints = z.infer<typeof InspectCheckpoints>;

/** What the model view draws: the input's tokens, the statistics, and every head as a small thumbnail. */
export const InspectOverview = InspectMeta.omit({ format: true, version: true }).extend({
  /** thumbnails are S×S (S = min(T, THUMB_SIZE)) */
  thumbSize: z.number().int().min(1).max(THUMB_SIZE),
  /** base64 of uint8 [layer][head][S][S], each thumbnail scaled so that its largest cell is 255 */
  thumbs: z.string(),
  /** the largest block mean of each thumbnail, [layer][head], to read a cell back as a probability */
  thumbMax: z.array(z.array(z.number())),
}).strict();
export type InspectOverview = z.infer<typeof InspectOverview>;

/** One head's full map at one checkpoint. */
export const InspectHead = z.object({
  checkpoint: CheckpointName,
  step: z.number().int().min(0),
  layer: z.number().int().min(0),
  head: z.number().int().min(0),
  T: z.number().int().min(1),
  /** base64 of float32 little-endian [query][key] */
  data: z.string(),
}).strict();
export type InspectHead = z.infer<typeof InspectHead>;

/** A head's statistics over training, from the run's attention-stats.jsonl: one value per evaluation, null where absent. */
export const HeadHistory = z.object({
  steps: z.array(z.number().int().min(0)),
  series: z.record(z.string(), z.array(z.number().nullable())),
  /** the run's validation loss at the same evaluations (null where none was logged) */
  valLoss: z.array(z.number().nullable()).optional(),
}).strict();
export type HeadHistory = z.infer<typeof HeadHistory>;

/** Most evaluations a head history carries; longer runs are thinned evenly (first and last kept). */
export const MAX_HISTORY_POINTS = 2000;

// ---------------------------------------------------------------------------------------------------
// pure helpers, used by the host (building) and the renderer (reading)

/** Block means of a T×T map on an S×S grid (S ≤ T); block edges at ⌊i·T/S⌋ so every position counts once. */
export function downsampleMap(map: ArrayLike<number>, T: number, S: number): Float32Array {
  const out = new Float32Array(S * S);
  const edge = (i: number) => Math.floor((i * T) / S);
  for (let by = 0; by < S; by++) {
    const y0 = edge(by), y1 = edge(by + 1);
    for (let bx = 0; bx < S; bx++) {
      const x0 = edge(bx), x1 = edge(bx + 1);
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += map[y * T + x];
      out[by * S + bx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** A thumbnail as bytes scaled to its own maximum (an all-zero map stays zero), and that maximum. */
export function quantizeThumb(thumb: Float32Array): { bytes: Uint8Array; max: number } {
  let max = 0;
  for (const v of thumb) if (v > max) max = v;
  const bytes = new Uint8Array(thumb.length);
  if (max > 0) for (let i = 0; i < thumb.length; i++) bytes[i] = Math.round((255 * thumb[i]) / max);
  return { bytes, max };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Standard base64 of bytes (common/ has neither Buffer nor btoa in all its runtimes). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const left = bytes.length - i;
    parts.push(B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (left > 1 ? B64[(n >> 6) & 63] : '=') + (left > 2 ? B64[n & 63] : '='));
  }
  return parts.join('');
}

/** The bytes of a standard base64 string; a character outside the alphabet is an error naming its place. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64_INDEX.get(clean[i]);
    if (v === undefined) throw new Error(`base64: character ${JSON.stringify(clean[i])} at ${i} is not base64`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 255; }
  }
  return out;
}

/** float32 little-endian bytes as a Float32Array (copied: base64 bytes need not be 4-aligned). */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4) throw new Error(`a float32 map is a multiple of 4 bytes, not ${bytes.length}`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** What the inspect cell keeps in the experiment file: the run and checkpoint it is bound to, the input, and how it is shown. */
export const InspectCellFields = z.object({
  /** a run of this experiment (NAME.runs/RUN_ID) */
  runId: RunId.optional(),
  checkpoint: CheckpointRef.default('last'),
  text: z.string().max(MAX_INSPECT_TEXT_CHARS).default(''),
  /** BERT: the second segment of a sentence pair */
  pair: z.string().max(MAX_INSPECT_TEXT_CHARS).optional(),
  view: z.enum(['model', 'head', 'lines']).default('model'),
  /** the statistic that colours (or sorts) the model view */
  statistic: z.enum(HEAD_STATISTICS).default('entropy'),
  /** model view: heads sorted by the statistic, rather than in layer × head order */
  sorted: z.boolean().default(false),
  layer: z.number().int().min(0).max(1023).default(0),
  head: z.number().int().min(0).max(1023).default(0),
  /** query positions whose attention is summed in the head and lines views; none: every row */
  queries: z.array(z.number().int().min(0)).max(4096).default([]),
});
