import { z } from 'zod';

/**
 * A classifier's evaluation on its test split, as a fine-tuning run writes it (eval/classification.json in
 * the run folder, rewritten at every evaluation, so after the run it holds the last step's): the figures
 * the dashboard charts (accuracy, macro-F1) and those it tabulates at the end (per-class precision and
 * recall, the confusion matrix). Bulky for a message, so it travels as a file.
 */
export const CLASSIFICATION_REPORT_FILE = 'eval/classification.json';

export const ClassStats = z.object({
  label: z.string(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  /** test examples whose true class this is */
  support: z.number().int().min(0),
}).strict();
export type ClassStats = z.infer<typeof ClassStats>;

/** Examples of each label on each side of the split: how balanced the task is. */
export const ClassBalance = z.object({
  labels: z.array(z.string()),
  train: z.array(z.number().int().min(0)),
  test: z.array(z.number().int().min(0)),
  /** documents (brown-genre) or lines (jsonl) on each side */
  trainUnits: z.number().int().min(0),
  testUnits: z.number().int().min(0),
  unit: z.enum(['document', 'line']),
}).strict();
export type ClassBalance = z.infer<typeof ClassBalance>;

export const ClassificationReport = z.object({
  step: z.number().int().min(0),
  labels: z.array(z.string()),
  accuracy: z.number(),
  macroF1: z.number(),
  perClass: z.array(ClassStats),
  /** confusion[true][predicted]: counts */
  confusion: z.array(z.array(z.number().int().min(0))),
  /** test examples classified, and how many the test split has (an evaluation may take an evenly spaced subset) */
  examples: z.number().int().min(0),
  testExamples: z.number().int().min(0),
  balance: ClassBalance,
  /** the parameters the run trains (LoRA: its adapters and the head) and the model's; absent in reports written before they were recorded */
  trainableParams: z.number().int().min(0).optional(),
  totalParams: z.number().int().min(0).optional(),
}).strict();
export type ClassificationReport = z.infer<typeof ClassificationReport>;
