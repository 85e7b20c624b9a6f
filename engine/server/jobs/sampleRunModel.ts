/** How the inspect jobs (sample, fill-mask) open a run's model: through loadRunModel, its memory check on the job's backend. */
import { EngineError } from '../../../common/errors';
import type { BERT } from '../../models/bert/model';
import type { GPT } from '../../models/gpt/model';
import { loadRunModel, type RunModel } from '../../runs/loadRunModel';
import type { JobContext } from '../job';

/** By the architecture a job needs: what the other kind of model lacks, and the job to use on it instead. */
const NEEDS = {
  gpt: { job: 'sampling', lacks: 'does not generate text', other: 'fill-mask' },
  bert: { job: 'fill-mask', lacks: 'has no masked-LM head', other: 'sample' },
} as const;

export type RunModelOf<A extends 'gpt' | 'bert'> = RunModel & { model: A extends 'gpt' ? GPT : BERT };

/** The run's model at `checkpoint`, or a refusal naming the job to use when it is not an `arch` model. The caller disposes it. */
export async function openRunModelFor<A extends 'gpt' | 'bert'>(arch: A, spec: { runDir: string; checkpoint: string }, ctx: JobContext): Promise<RunModelOf<A>> {
  const rm = await loadRunModel(spec.runDir, spec.checkpoint as Parameters<typeof loadRunModel>[1], ctx.backend ? { backend: ctx.backend.name } : {});
  for (const note of rm.notes) ctx.log('warn', note);
  if (rm.model.config.arch !== arch) {
    rm.model.dispose();
    const held = rm.model.config.arch;
    const { job, lacks, other } = NEEDS[arch];
    throw new EngineError('INVALID_CONFIG',
      `${rm.runDir} holds a ${held.toUpperCase()} model, which ${lacks}; ${job} needs a ${arch.toUpperCase()} run — for this run use ${other}`,
      ['runDir']);
  }
  return rm as RunModelOf<A>;
}
