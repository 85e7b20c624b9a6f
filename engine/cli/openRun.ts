/** How the inspecting commands (attention, sample, fill-mask) open the model of a run: through loadRunModel, on the chosen backend. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../common/backends';
import { RUN_JSON } from '../../common/node/runFiles';
import { importHfCheckpoint } from '../import/hfCheckpoint';
import { selectBackend } from '../backends/select';
import { loadRunModel, type CheckpointChoice, type RunModel } from '../runs/loadRunModel';
import { backendFlag, usage } from './args';

/** The flags every inspecting command takes besides its own. */
export const RUN_MODEL_FLAGS = { checkpoint: { type: 'string' }, backend: { type: 'string' } } as const;

export async function openRunModel(command: string, positionals: string[], flags: { checkpoint?: string; backend?: string }): Promise<RunModel> {
  if (positionals.length !== 1) usage(`${command} takes one run folder or bundle, not ${positionals.length}`);
  const dir = path.resolve(positionals[0]);
  const isBundle = !fs.existsSync(path.join(dir, RUN_JSON)) && fs.existsSync(path.join(dir, 'config.json'));
  if (!isBundle && !fs.existsSync(path.join(dir, RUN_JSON))) usage(`${positionals[0]}: neither a run folder (it has no ${RUN_JSON}) nor a Hugging Face bundle (no config.json)`);
  const backend = await selectBackend(backendFlag(flags.backend) ?? 'auto');
  if (isBundle) {
    if (flags.checkpoint !== undefined) usage(`--checkpoint: a bundle holds one set of weights; leave --checkpoint out`);
    return openBundle(dir, backend);
  }
  const rm = await loadRunModel(dir, (flags.checkpoint ?? 'last') as CheckpointChoice);
  for (const note of rm.notes) process.stderr.write(`workbench: ${note}\n`);
  return rm;
}

/**
 * A Hugging Face folder (an exported bundle, or a checkpoint from elsewhere) opened as `workbench import`
 * would bring it in: into a temporary run folder, through the one door, which is removed once the model is
 * in memory. To keep it as a run, use `workbench import`.
 */
async function openBundle(dir: string, backend: BackendInfo): Promise<RunModel> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'workbench-bundle-'));
  try {
    const { runDir } = await importHfCheckpoint(dir, path.join(tmp, 'run'), { backend });
    const rm = await loadRunModel(runDir, 'last');
    for (const note of rm.notes) process.stderr.write(`workbench: ${note}\n`);
    return { ...rm, runDir: dir };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
