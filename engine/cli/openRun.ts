/** How the inspecting commands (attention, sample, fill-mask) open the model of a run: through loadRunModel, on the chosen backend. */
import fs from 'node:fs';
import path from 'node:path';
import { RUN_JSON } from '../../common/node/runFiles';
import { selectBackend } from '../backends/select';
import { loadRunModel, type CheckpointChoice, type RunModel } from '../runs/loadRunModel';
import { backendFlag, usage } from './args';

/** The flags every inspecting command takes besides its own. */
export const RUN_MODEL_FLAGS = { checkpoint: { type: 'string' }, backend: { type: 'string' } } as const;

export async function openRunModel(command: string, positionals: string[], flags: { checkpoint?: string; backend?: string }): Promise<RunModel> {
  if (positionals.length !== 1) usage(`${command} takes one run folder, not ${positionals.length}`);
  const dir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(dir, RUN_JSON))) usage(`${positionals[0]}: not a run folder (it has no ${RUN_JSON})`);
  await selectBackend(backendFlag(flags.backend) ?? 'auto');
  const rm = await loadRunModel(dir, (flags.checkpoint ?? 'last') as CheckpointChoice);
  for (const note of rm.notes) process.stderr.write(`workbench: ${note}\n`);
  return rm;
}
