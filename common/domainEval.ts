import { z } from 'zod';

/**
 * A domain-adaptation run's perplexities (engine/finetune/domainTask.ts), in its run folder: on the new
 * text's held-out side (in-domain) and on the base's own held-out data (out-of-domain), before the first step
 * and at the latest evaluation. For a masked LM the perplexity is exp of the masked-token loss.
 */
export const DOMAIN_EVAL_FILE = 'domain_eval.json';

const Figure = z.object({ loss: z.number(), perplexity: z.number(), sequences: z.number().int() }).strict();
const Measured = z.object({ inDomain: Figure, outOfDomain: Figure.nullable(), at: z.string() }).strict();

export const DomainEval = z.object({
  objective: z.enum(['causal-lm', 'mlm', 'mlm-nsp', 'classification']),
  /** absent only when the file was lost before a resume: the base is not measured again then */
  before: Measured.optional(),
  after: Measured.optional(),
}).strict();
export type DomainEval = z.output<typeof DomainEval>;
