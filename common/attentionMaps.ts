import { z } from 'zod';

/**
 * What the workbench writes about attention: the per-head statistics (recorded at every evaluation of a
 * pretraining run, and with every map) and the attention-map file of `workbench attention`. Every grid
 * is [layer][head].
 */

/** A statistic per head: [layer][head]. */
export const HeadGrid = z.array(z.array(z.number()));
export type HeadGrid = z.infer<typeof HeadGrid>;

export const HeadStats = z.object({
  /** mean over queries of −Σ p·ln p, in nats: 0 = all on one key, ln(n) = spread evenly over n keys */
  entropy: HeadGrid,
  /** mean over queries of Σ p·|query − key|, in positions */
  meanDistance: HeadGrid,
  /** mean share of each query's attention on the first position */
  firstTokenShare: HeadGrid,
  /** mean share on [CLS] and [SEP] tokens; null when the inputs have none */
  specialShare: HeadGrid.nullable(),
  /** mean attention of each query (from the second on) to the position just before it */
  previousToken: HeadGrid,
  /**
   * causal models: on random tokens repeated once, the mean attention of each query in the repeat to the
   * position after the same token's first occurrence (prefix matching, the mark of an induction head);
   * null for bidirectional models
   */
  induction: HeadGrid.nullable(),
}).strict();
export type HeadStats = z.infer<typeof HeadStats>;

export const HEAD_STATISTICS = ['entropy', 'meanDistance', 'firstTokenShare', 'specialShare', 'previousToken', 'induction'] as const satisfies readonly (keyof HeadStats)[];

/** One line of a run's attention-stats.jsonl: the head statistics on the run's fixed probe set at an evaluation. */
export const AttentionStatsLine = z.object({
  step: z.number().int().min(0),
  wallTime: z.number(),
  /** how long measuring took, for the run log's statement of the cost */
  seconds: z.number().min(0),
  /** held-out sequences of the probe set, and their length */
  sequences: z.number().int().min(0),
  seqLen: z.number().int().min(1),
  stats: HeadStats,
}).strict();
export type AttentionStatsLine = z.infer<typeof AttentionStatsLine>;

export const ATTENTION_FORMAT = 'transformer-workbench.attention';
export const ATTENTION_FORMAT_VERSION = 1;

/** The file `workbench attention` writes: the maps of one input at one checkpoint, and their statistics. */
export const AttentionFile = z.object({
  format: z.literal(ATTENTION_FORMAT),
  version: z.literal(ATTENTION_FORMAT_VERSION),
  runDir: z.string(),
  checkpoint: z.string(),
  step: z.number().int().min(0),
  arch: z.enum(['gpt', 'bert']),
  /** the token strings of the vocabulary, one per position */
  tokens: z.array(z.string()),
  ids: z.array(z.number().int().min(0)),
  /** BERT: 0 for [CLS] A [SEP], 1 for B [SEP] */
  tokenTypeIds: z.array(z.number().int().min(0)).optional(),
  /** probabilities [layer][head][query][key]; for a causal model the keys after the query are 0 */
  attentions: z.array(z.array(z.array(z.array(z.number())))),
  /** the statistics of these maps; `induction` from a probe of repeated random tokens, not from this input */
  stats: HeadStats,
}).strict();
export type AttentionFile = z.infer<typeof AttentionFile>;

/** Longest text `workbench attention`, `sample` and `fill-mask` read, in bytes (its tokens must also fit the model's context). */
export const MAX_INPUT_TEXT_BYTES = 1 << 20;
