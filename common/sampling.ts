import { z } from 'zod';
import { CheckpointName } from './runFolder';

/**
 * Text from a trained model, as the engine's inspect jobs and WorkbenchApi's inspect methods carry it:
 * sampling from a GPT run (streamed) and fill-mask on a BERT run. The bounds are stated here, once, so
 * that the engine, the host and the panels refuse the same inputs with the same figures.
 */

export const SAMPLE_LIMITS = {
  /** new tokens of one sample; the model's context is a second bound, checked when the model is open */
  maxNewTokens: 2048,
  /** samples of one request */
  numSamples: 8,
  /** characters of a prompt or a fill-mask text (its tokens must also fit the context) */
  textChars: 20_000,
  /** candidates listed per [MASK] */
  fillMaskTopK: 50,
  /**
   * a streamed piece holds at most this many tokens or milliseconds of them: the stream stays smooth
   * and no event grows with the length of a sample
   */
  streamTokens: 32,
  streamMs: 100,
} as const;

/** The panels' starting values, the command line's too (engine/cli/sampleCommand.ts). */
export const SAMPLE_DEFAULTS = { maxNewTokens: 200, temperature: 0.8, topK: 0, topP: 1, seed: 1337, numSamples: 1 } as const;

/** 'last' (newest that loads), 'best' (best validation loss) or a checkpoint folder name, step-<N>. */
export const CheckpointChoice = z.union([z.enum(['last', 'best']), CheckpointName]);

export const SamplingParams = z.object({
  prompt: z.string().min(1, 'the prompt is empty; give the text the sample continues').max(SAMPLE_LIMITS.textChars),
  maxNewTokens: z.number().int().min(1).max(SAMPLE_LIMITS.maxNewTokens),
  /** 0: always the most likely token */
  temperature: z.number().min(0).max(100),
  /** 0: all tokens */
  topK: z.number().int().min(0).max(1_000_000),
  /** 1: all tokens */
  topP: z.number().gt(0).max(1),
  /** sample i uses seed + i: the same seed, the same texts */
  seed: z.number().int().min(0).max(0xffffffff - SAMPLE_LIMITS.numSamples),
  numSamples: z.number().int().min(1).max(SAMPLE_LIMITS.numSamples),
}).strict();
export type SamplingParams = z.infer<typeof SamplingParams>;

export const CheckpointInfo = z.object({ name: z.string(), step: z.number().int().min(0) }).strict();

export const SampleText = z.object({
  seed: z.number().int(),
  /** the new text, without the prompt */
  text: z.string(),
  newTokens: z.number().int().min(0),
  tokensPerSecond: z.number().min(0),
}).strict();

export const SampleResult = z.object({
  checkpoint: CheckpointInfo,
  contextLength: z.number().int().min(1),
  promptTokens: z.number().int().min(1),
  /** the length used for every sample */
  maxNewTokens: z.number().int().min(1),
  samples: z.array(SampleText).max(SAMPLE_LIMITS.numSamples),
}).strict();
export type SampleResult = z.infer<typeof SampleResult>;

/** A piece of a sample as it streams: the engine's onJobProgress `metrics` carry these numbers, its `message` the text. */
export const SampleProgressMetrics = z.object({ sample: z.number().int().min(0), tokensPerSecond: z.number().min(0) });

export const FillMaskParams = z.object({
  text: z.string().min(1, 'the text is empty; write a sentence with [MASK] where a word should be predicted').max(SAMPLE_LIMITS.textChars),
  /** a second sentence (token type 1), for models trained with sentence pairs */
  pair: z.string().min(1).max(SAMPLE_LIMITS.textChars).optional(),
  topK: z.number().int().min(1).max(SAMPLE_LIMITS.fillMaskTopK),
}).strict();
export type FillMaskParams = z.infer<typeof FillMaskParams>;

export const MaskCandidate = z.object({ token: z.string(), id: z.number().int().min(0), probability: z.number().min(0).max(1) }).strict();
export const FillMaskResult = z.object({
  checkpoint: CheckpointInfo,
  /** the framed input as the model read it ([CLS] … [SEP]) */
  tokens: z.array(z.string()),
  masks: z.array(z.object({
    /** the [MASK]'s index in `tokens` */
    position: z.number().int().min(0),
    candidates: z.array(MaskCandidate).max(SAMPLE_LIMITS.fillMaskTopK),
  }).strict()),
}).strict();
export type FillMaskResult = z.infer<typeof FillMaskResult>;
