import { z } from 'zod';

/**
 * The LoRA target picker's question and answer: which modules of a run's model the name patterns select
 * (engine/finetune/lora/targets.ts, PEFT's matching), with the count each matches and what is wrong with any
 * that cannot be used. It reads the run's config alone, never its weights.
 */

/** bounds: a pattern list is typed by hand; a model of a few hundred layers has a few thousand modules */
export const MAX_TARGET_PATTERNS = 64;
export const MAX_LISTED_MODULES = 4096;

export const TargetPatterns = z.array(z.string().min(1).max(200)).max(MAX_TARGET_PATTERNS);

export const LoraTargetsJob = z.object({
  kind: z.literal('finetune.loraTargets'),
  runDir: z.string().min(1).max(4096),
  /** default: the architecture's (PEFT's) */
  patterns: TargetPatterns.optional(),
}).strict();
export type LoraTargetsJob = z.infer<typeof LoraTargetsJob>;

export const AdaptableModuleInfo = z.object({
  name: z.string(),
  inFeatures: z.number().int(),
  outFeatures: z.number().int(),
  /** in_out: GPT-2 Conv1D (PEFT's fan_in_fan_out), handled without the user's doing anything */
  layout: z.enum(['in_out', 'out_in']),
}).strict();
export type AdaptableModuleInfo = z.infer<typeof AdaptableModuleInfo>;

export const LoraTargetsResult = z.object({
  arch: z.enum(['gpt', 'bert']),
  /** the patterns asked about (or the defaults) */
  patterns: TargetPatterns,
  defaults: TargetPatterns,
  /** every module an adapter can go on, in the model's order */
  adaptable: z.array(AdaptableModuleInfo).max(MAX_LISTED_MODULES),
  /** the ones the patterns select */
  selected: z.array(z.string()).max(MAX_LISTED_MODULES),
  counts: z.record(z.string(), z.number().int().min(0)),
  /** one sentence per unusable pattern, with the names it could mean */
  problems: z.array(z.string()).max(MAX_TARGET_PATTERNS),
  /** for a pattern that matches nothing, the module names it could mean (a typo's fix) */
  suggestions: z.record(z.string(), z.array(z.string()).max(8)),
  /** every parameter of the model, for the trainable share: an adapter of rank r adds r·(in + out) per module */
  totalParams: z.number().int().min(0),
}).strict();
export type LoraTargetsResult = z.infer<typeof LoraTargetsResult>;

/** Trainable parameters of adapters of rank r on `modules` (A [r, in] and B [out, r] each). */
export function adapterParams(modules: readonly AdaptableModuleInfo[], r: number): number {
  return modules.reduce((s, m) => s + r * (m.inFeatures + m.outFeatures), 0);
}
