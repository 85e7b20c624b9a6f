/**
 * The sample and fill-mask panels' forms: what the user typed (as text, so a wrong entry stays on screen
 * beside its message) read into the API's params, or a message per field naming what is wrong and the
 * range that is right. The bounds are common/sampling.ts's, and the model's context where it is known.
 */
import { SAMPLE_DEFAULTS, SAMPLE_LIMITS, type FillMaskParams, type SamplingParams } from '../../common/sampling';

export interface SampleForm {
  prompt: string;
  maxNewTokens: string;
  temperature: string;
  topK: string;
  topP: string;
  seed: string;
  numSamples: string;
}
export type FormErrors<F> = Partial<Record<keyof F, string>>;
export type FormRead<F, P> = { ok: true; params: P } | { ok: false; errors: FormErrors<F> };

/** The most new tokens a sample may ask for: the stated cap, and the model's context when it is smaller. */
export function maxNewTokensLimit(contextLength: number | null): number {
  return Math.min(SAMPLE_LIMITS.maxNewTokens, contextLength ?? SAMPLE_LIMITS.maxNewTokens);
}

/** The starting form: the command line's defaults, the length lowered to the context where that is shorter (and shown so). */
export function defaultSampleForm(contextLength: number | null, prompt = ''): SampleForm {
  const d = SAMPLE_DEFAULTS;
  return {
    prompt, maxNewTokens: String(Math.min(d.maxNewTokens, maxNewTokensLimit(contextLength))), temperature: String(d.temperature),
    topK: String(d.topK), topP: String(d.topP), seed: String(d.seed), numSamples: String(d.numSamples),
  };
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** `text` as a number within [min, max] (whole when `whole`), or undefined. */
function numberIn(text: string, min: number, max: number, whole: boolean): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max && (!whole || Number.isInteger(n)) ? n : undefined;
}

export function readSampleForm(f: SampleForm, contextLength: number | null): FormRead<SampleForm, SamplingParams> {
  const errors: FormErrors<SampleForm> = {};
  const limit = maxNewTokensLimit(contextLength);
  const why = contextLength !== null && contextLength <= SAMPLE_LIMITS.maxNewTokens ? `the model's context is ${contextLength} tokens` : `the workbench's cap is ${SAMPLE_LIMITS.maxNewTokens}`;
  const seedMax = 0xffffffff - SAMPLE_LIMITS.numSamples;
  if (!f.prompt.length) errors.prompt = 'Write a prompt: the text the samples continue.';
  else if (f.prompt.length > SAMPLE_LIMITS.textChars) errors.prompt = `The prompt is ${f.prompt.length.toLocaleString('en-US')} characters; at most ${SAMPLE_LIMITS.textChars.toLocaleString('en-US')} are sent.`;
  const maxNewTokens = numberIn(f.maxNewTokens, 1, limit, true);
  if (maxNewTokens === undefined) errors.maxNewTokens = `A whole number from 1 to ${limit} (${why}).`;
  const temperature = numberIn(f.temperature, 0, 100, false);
  if (temperature === undefined) errors.temperature = 'A number from 0 (always the most likely token) to 100.';
  const topK = numberIn(f.topK, 0, 1_000_000, true);
  if (topK === undefined) errors.topK = 'A whole number ≥ 0 (0 keeps every token).';
  const topP = numberIn(f.topP, Number.MIN_VALUE, 1, false);
  if (topP === undefined) errors.topP = 'A number above 0 and at most 1 (1 keeps every token).';
  const seed = numberIn(f.seed, 0, seedMax, true);
  if (seed === undefined) errors.seed = `A whole number from 0 to ${seedMax}.`;
  const numSamples = numberIn(f.numSamples, 1, SAMPLE_LIMITS.numSamples, true);
  if (numSamples === undefined) errors.numSamples = `A whole number from 1 to ${SAMPLE_LIMITS.numSamples}.`;
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, params: { prompt: f.prompt, maxNewTokens: maxNewTokens!, temperature: temperature!, topK: topK!, topP: topP!, seed: seed!, numSamples: numSamples! } };
}

export interface FillMaskForm { text: string; topK: string }

export function readFillMaskForm(f: FillMaskForm): FormRead<FillMaskForm, FillMaskParams> {
  const errors: FormErrors<FillMaskForm> = {};
  if (!f.text.trim()) errors.text = 'Write a sentence with [MASK] where a word should be predicted, e.g. "the [MASK] sat on the mat".';
  else if (!f.text.includes('[MASK]')) errors.text = 'The text has no [MASK]: write [MASK] (in capitals, with the brackets) where a word should be predicted.';
  else if (f.text.length > SAMPLE_LIMITS.textChars) errors.text = `The text is ${f.text.length.toLocaleString('en-US')} characters; at most ${SAMPLE_LIMITS.textChars.toLocaleString('en-US')} are sent.`;
  const topK = numberIn(f.topK, 1, SAMPLE_LIMITS.fillMaskTopK, true);
  if (topK === undefined) errors.topK = `A whole number from 1 to ${SAMPLE_LIMITS.fillMaskTopK}.`;
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, params: { text: f.text, topK: topK! } };
}
