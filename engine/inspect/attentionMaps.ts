/**
 * Attention maps of a trained model and the per-head statistics of common/attentionMaps.ts: an input
 * framed as the model was trained (BERT: [CLS] A [SEP] (B [SEP]) with token types; GPT: the bare tokens),
 * every layer's probabilities from the model's own forward pass (returnAttentions), and for causal models
 * the induction probe, random tokens repeated once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionFile, HeadStats } from '../../common/attentionMaps';
import { ATTENTION_FORMAT, ATTENTION_FORMAT_VERSION } from '../../common/attentionMaps';
import { EngineError } from '../../common/errors';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { AnyModel } from '../models/registry';
import type { RunModel } from '../runs/loadRunModel';
import type { Tokenizer } from '../tokenizers';
import { Rng } from '../util/random';
import { inductionScores, layerStats, type LayerStats, type ProbeLayout } from './headStats';

/** Token ids [B·T] with what the forward pass and the statistics need besides. */
export interface ProbeBatch extends ProbeLayout {
  ids: Int32Array;
  tokenTypeIds?: Int32Array;
}

/** The induction probe: random ordinary tokens x₀…x_{L−1} repeated once, L = half the context (at most 64). */
export interface InductionProbe extends ProbeBatch {
  period: number;
}

/** One input, tokenized and framed for the model. */
export interface EncodedInput {
  ids: number[];
  tokens: string[];
  tokenTypeIds?: number[];
}

const tooLong = (n: number, c: ResolvedModelConfig, what: string) => new EngineError('INVALID_CONFIG',
  `${what} is ${n} tokens, longer than the model's context of ${c.contextLength} tokens; shorten it to at most ${c.contextLength} tokens`, ['text']);

/** The ids of a special token the model's framing needs, or an error saying that this tokenizer lacks it. */
export function specialId(tokenizer: Tokenizer, name: 'cls' | 'sep' | 'mask'): number {
  const id = tokenizer.specialIds[name];
  if (id === undefined) throw new EngineError('INVALID_CONFIG', `this run's ${tokenizer.kind} tokenizer has no [${name.toUpperCase()}] token, which a BERT input needs; train the run with a wordpiece or bpe tokenizer with specials`, ['tokenizer']);
  return id;
}

/**
 * `text` (and for BERT an optional second segment `pair`) as the model sees it. Refused when longer than
 * the context, naming both lengths; a GPT takes no pair.
 */
export function encodeInput(tokenizer: Tokenizer, c: ResolvedModelConfig, text: string, pair?: string): EncodedInput {
  let ids: number[];
  let tokenTypeIds: number[] | undefined;
  if (c.arch === 'gpt') {
    if (pair !== undefined) throw new EngineError('INVALID_CONFIG', 'a sentence pair is a BERT input; a GPT reads one text: join them into --text', ['pair']);
    ids = tokenizer.encode(text);
  } else {
    const cls = specialId(tokenizer, 'cls');
    const sep = specialId(tokenizer, 'sep');
    const a = [cls, ...tokenizer.encode(text), sep];
    const b = pair === undefined ? [] : [...tokenizer.encode(pair), sep];
    ids = [...a, ...b];
    tokenTypeIds = [...a.map(() => 0), ...b.map(() => 1)];
    if (c.typeVocabSize < 2 && b.length) throw new EngineError('INVALID_CONFIG', `this model has ${c.typeVocabSize} token type; a sentence pair needs 2`, ['pair']);
  }
  if (ids.length === 0) throw new EngineError('INVALID_CONFIG', 'the text has no tokens; give a non-empty text', ['text']);
  if (ids.length > c.contextLength) throw tooLong(ids.length, c, 'the input');
  return { ids, tokens: ids.map((id) => tokenizer.idToToken(id) ?? `<${id}>`), ...(tokenTypeIds ? { tokenTypeIds } : {}) };
}

/** The probe batch of one encoded input, with its [CLS]/[SEP] positions marked. */
export function batchOf(input: EncodedInput, tokenizer: Tokenizer): ProbeBatch {
  const specials = new Set([tokenizer.specialIds.cls, tokenizer.specialIds.sep].filter((x): x is number => x !== undefined));
  return {
    B: 1, T: input.ids.length, ids: Int32Array.from(input.ids),
    special: Uint8Array.from(input.ids, (id) => (specials.has(id) ? 1 : 0)),
    ...(input.tokenTypeIds ? { tokenTypeIds: Int32Array.from(input.tokenTypeIds) } : {}),
  };
}

/** The induction probe of a model: `count` sequences from a generator of its own seed (never the data's). */
export function inductionProbe(c: ResolvedModelConfig, tokenizer: Tokenizer, seed: number, count = 4): InductionProbe {
  const period = Math.min(64, Math.floor(c.contextLength / 2));
  if (period < 2) throw new EngineError('INVALID_CONFIG', `the induction probe needs a context of at least 4 tokens; this model's is ${c.contextLength}`, ['contextLength']);
  const specials = new Set(Object.values(tokenizer.specialIds));
  const ordinary = Array.from({ length: c.vocabSize }, (_, i) => i).filter((i) => !specials.has(i) && tokenizer.idToToken(i) !== undefined);
  const rng = new Rng(seed ^ 0x1d0c7);
  const T = 2 * period;
  const ids = new Int32Array(count * T);
  for (let b = 0; b < count; b++) {
    for (let j = 0; j < period; j++) ids[b * T + j] = ids[b * T + period + j] = ordinary[rng.int(ordinary.length)];
  }
  return { B: count, T, ids, period };
}

/** Every layer's attention probabilities [B, H, T, T] of `batch`, from the model's forward pass, on the host. */
export function attentionProbs(model: AnyModel, batch: ProbeBatch): Float32Array[] {
  return tf.tidy(() => {
    const m = (a: ArrayLike<number>) => tf.tensor2d(Array.from(a), [batch.B, batch.T], 'int32');
    const { attentions } = model.forward({
      inputIds: m(batch.ids),
      ...(batch.tokenTypeIds ? { tokenTypeIds: m(batch.tokenTypeIds) } : {}),
      ...(batch.mask ? { attentionMask: m(batch.mask) } : {}),
    }, { returnAttentions: true });
    return attentions!.map((a) => a.dataSync() as Float32Array);
  });
}

/** Head statistics of `batch` (per layer), and the induction scores of `probe` for causal models. */
export function measureHeads(model: AnyModel, batch: ProbeBatch, probe: InductionProbe | null, maps = attentionProbs(model, batch)): HeadStats {
  const H = model.config.nHeads;
  const layers: LayerStats[] = maps.map((p) => layerStats(p, H, batch));
  const induction = probe && model.config.causal
    ? attentionProbs(model, probe).map((p) => inductionScores(p, probe.B, H, probe.T, probe.period))
    : null;
  const grid = (k: 'entropy' | 'meanDistance' | 'firstTokenShare' | 'previousToken') => layers.map((l) => l[k]);
  return {
    entropy: grid('entropy'), meanDistance: grid('meanDistance'), firstTokenShare: grid('firstTokenShare'),
    specialShare: layers.every((l) => l.specialShare) ? layers.map((l) => l.specialShare!) : null,
    previousToken: grid('previousToken'), induction,
  };
}

/** [B, H, T, T] flat → [head][query][key] of sequence 0. */
function nested(p: Float32Array, H: number, T: number): number[][][] {
  return Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, q) => Array.from(p.subarray((h * T + q) * T, (h * T + q + 1) * T))));
}

/** The attention file of one input at the run model's checkpoint. */
export function attentionFile(rm: RunModel, input: EncodedInput): AttentionFile {
  const batch = batchOf(input, rm.tokenizer);
  const maps = attentionProbs(rm.model, batch);
  const c = rm.model.config;
  const probe = c.causal ? inductionProbe(c, rm.tokenizer, rm.run.seed) : null;
  return {
    format: ATTENTION_FORMAT, version: ATTENTION_FORMAT_VERSION, runDir: rm.runDir, checkpoint: rm.checkpoint.name, step: rm.checkpoint.step,
    arch: c.arch, tokens: input.tokens, ids: input.ids, ...(input.tokenTypeIds ? { tokenTypeIds: input.tokenTypeIds } : {}),
    attentions: maps.map((p) => nested(p, c.nHeads, batch.T)),
    stats: measureHeads(rm.model, batch, probe, maps),
  };
}

/**
 * The file's JSON, built head by head: the maps of a large model at a long context (12 × 12 heads at 512
 * tokens: 38 M numbers) exceed the longest string V8 makes, so they never go through one JSON.stringify.
 */
export function attentionFileBytes(file: AttentionFile): Buffer {
  const marker = '"__attentions__"';
  const [head, tail] = JSON.stringify({ ...file, attentions: '__attentions__' }).split(marker);
  const parts: Buffer[] = [Buffer.from(`${head}[`)];
  file.attentions.forEach((layer, l) => {
    parts.push(Buffer.from(l ? ',[' : '['));
    layer.forEach((h, i) => parts.push(Buffer.from((i ? ',' : '') + JSON.stringify(h))));
    parts.push(Buffer.from(']'));
  });
  parts.push(Buffer.from(`]${tail}\n`));
  return Buffer.concat(parts);
}

/** The fixed probe set of a training run. */
export interface AttentionProbeSet {
  sequences: ProbeBatch;
  induction: InductionProbe | null;
}

/** Held-out sequences probed at every evaluation: this many of the first validation batch. */
export const PROBE_SEQUENCES = 4;

/** A run's probe set: the first PROBE_SEQUENCES rows of a validation batch (padding and [CLS]/[SEP] marked) and, for causal models, the induction probe. */
export function attentionProbeSet(c: ResolvedModelConfig, tokenizer: Tokenizer, validation: { B: number; T: number; inputIds: Int32Array; tokenTypeIds?: Int32Array; attentionMask?: Int32Array }, seed: number): AttentionProbeSet {
  const B = Math.min(PROBE_SEQUENCES, validation.B);
  const n = B * validation.T;
  const ids = validation.inputIds.slice(0, n);
  const specials = new Set([tokenizer.specialIds.cls, tokenizer.specialIds.sep].filter((x): x is number => x !== undefined));
  return {
    sequences: {
      B, T: validation.T, ids, special: Uint8Array.from(ids, (id) => (specials.has(id) ? 1 : 0)),
      ...(validation.tokenTypeIds ? { tokenTypeIds: validation.tokenTypeIds.slice(0, n) } : {}),
      ...(validation.attentionMask ? { mask: validation.attentionMask.slice(0, n) } : {}),
    },
    induction: c.causal && c.contextLength >= 4 ? inductionProbe(c, tokenizer, seed) : null,
  };
}
