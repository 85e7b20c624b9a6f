import { z } from 'zod';
import { BackendRequest } from './backends';

/**
 * How a model is pretrained: objective, optimizer, schedule, batch shape, evaluation and checkpoints.
 * Defaults are nanoGPT's shakespeare_char CPU recipe (the PyTorch baseline of ../shared/reference).
 */
export const Objective = z.enum(['causal-lm', 'mlm', 'mlm-nsp'])
  .describe('causal-lm: next token (gpt). mlm: masked tokens (bert). mlm-nsp: masked tokens + next-sentence prediction (bert).');
export type Objective = z.infer<typeof Objective>;

export const OptimizerConfig = z.object({
  lr: z.number().positive().default(1e-3).describe('peak learning rate'),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.99),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0.1).describe('decoupled weight decay on matrices (not on biases and norms)'),
}).strict();

export const ScheduleConfig = z.object({
  kind: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
  warmupSteps: z.number().int().min(0).default(100).describe('linear warmup steps'),
  minLr: z.number().min(0).default(1e-4).describe('learning rate at the end of the decay'),
  decaySteps: z.number().int().positive().optional().describe('step at which the decay ends; default: steps'),
}).strict();

const PretrainFields = {
  steps: z.number().int().min(1).default(2000).describe('optimizer steps'),
};

/**
 * The schedule's checks against the run it schedules (each field alone passes its own schema): the decay goes
 * down, the warmup fits in the run, the decay does not end inside the warmup. Every training config
 * (pretraining, fine-tuning, compression) refines itself with it.
 */
export function scheduleFitsRun(c: { steps: number; optimizer: { lr: number }; schedule: z.output<typeof ScheduleConfig> }, ctx: z.RefinementCtx): void {
  const s = c.schedule;
  // zod runs this even when a field failed its own check: compare only fields that passed, so that
  // `lr: -0.001` or `steps: 0` is reported once, as itself, not again as a clash with another field
  const ok = (schema: z.ZodType, v: unknown) => schema.safeParse(v).success;
  const lrOk = ok(OptimizerConfig.shape.lr, c.optimizer.lr) && ok(ScheduleConfig.shape.minLr, s.minLr);
  const stepsOk = ok(PretrainFields.steps, c.steps) && ok(ScheduleConfig.shape.warmupSteps, s.warmupSteps);
  if (lrOk && s.minLr > c.optimizer.lr) {
    ctx.addIssue({ code: 'custom', path: ['schedule', 'minLr'], message: `schedule.minLr ${s.minLr} is above optimizer.lr ${c.optimizer.lr}; the decay must go down: lower minLr` });
  }
  // a warmup that outlasts the run (or the decay) never reaches the peak learning rate: a slip, not a plan
  if (!stepsOk) return;
  if (s.warmupSteps > c.steps) {
    ctx.addIssue({ code: 'custom', path: ['schedule', 'warmupSteps'], message: `schedule.warmupSteps ${s.warmupSteps} is longer than the run's ${c.steps} steps, so the learning rate never reaches its peak; lower warmupSteps or raise steps` });
  } else if (s.kind !== 'constant' && s.decaySteps !== undefined && s.decaySteps < s.warmupSteps) {
    ctx.addIssue({ code: 'custom', path: ['schedule', 'decaySteps'], message: `schedule.decaySteps ${s.decaySteps} ends the decay before the warmup of ${s.warmupSteps} steps is over; raise decaySteps or lower warmupSteps` });
  }
}

export const PretrainConfig = z.object({
  objective: Objective.optional().describe('default: causal-lm for gpt, mlm-nsp for bert'),
  steps: PretrainFields.steps,
  batchSize: z.number().int().min(1).default(12).describe('sequences per micro-batch'),
  gradAccumSteps: z.number().int().min(1).default(1).describe('micro-batches summed into one optimizer step'),
  seqLen: z.number().int().min(2).optional().describe('tokens per sequence; default: the model\'s contextLength'),
  optimizer: OptimizerConfig.default(OptimizerConfig.parse({})),
  schedule: ScheduleConfig.default(ScheduleConfig.parse({})),
  clipNorm: z.number().min(0).default(1).describe('clip the global gradient norm to this; 0 turns clipping off'),
  maskProbability: z.number().gt(0).lt(1).default(0.15).describe('masked LM: fraction of tokens chosen for prediction'),
  evalInterval: z.number().int().min(1).default(250).describe('evaluate every this many steps (and at the end)'),
  evalBatches: z.number().int().min(1).default(20).describe('validation batches per evaluation'),
  checkpointInterval: z.number().int().min(1).default(500).describe('checkpoint every this many steps (plus best and last)'),
  keepCheckpoints: z.number().int().min(1).default(3).describe('periodic checkpoints kept on disk (best and last are always kept)'),
  seed: z.number().int().min(0).default(1337),
  backend: BackendRequest.default('auto'),
  mixedPrecision: z.boolean().default(false).describe('float16 compute where the backend supports it'),
}).strict().superRefine(scheduleFitsRun);

export type PretrainConfigInput = z.input<typeof PretrainConfig>;
export type PretrainConfig = z.output<typeof PretrainConfig>;

/** The objective a model of `arch` pretrains with when its pretrain cell names none. */
export const defaultObjective = (arch: 'gpt' | 'bert'): Objective => (arch === 'gpt' ? 'causal-lm' : 'mlm-nsp');

/** A problem of a pretrain config with the model it trains: `message` for its field, `full` naming the field. */
export interface PretrainModelIssue { field: 'objective' | 'seqLen'; message: string; full: string }

/**
 * What a pretrain config cannot do with a given model (each alone passes its own schema): an objective
 * the architecture has no head for, and sequences longer than the model's context. The trainer refuses
 * these, and the notebook's run guard stops them first, in the same words.
 */
export function pretrainModelIssues(p: { objective?: Objective; seqLen?: number }, m: { arch: 'gpt' | 'bert'; contextLength: number }): PretrainModelIssue[] {
  const issues: PretrainModelIssue[] = [];
  const objective = p.objective ?? defaultObjective(m.arch);
  if ((objective === 'causal-lm') !== (m.arch === 'gpt')) {
    const message = `a ${m.arch} model does not train with ${objective}; use ${defaultObjective(m.arch)}${m.arch === 'bert' ? " or 'mlm'" : ''}`;
    issues.push({ field: 'objective', message, full: `pretrain.objective: ${message}` });
  }
  const seqLen = p.seqLen ?? m.contextLength;
  if (seqLen > m.contextLength) {
    const message = `${seqLen} exceeds the model's contextLength ${m.contextLength}; lower seqLen or raise contextLength`;
    issues.push({ field: 'seqLen', message, full: `pretrain.seqLen ${message}` });
  }
  return issues;
}
