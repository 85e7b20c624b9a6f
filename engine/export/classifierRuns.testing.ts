/** Fine-tuned classifier runs over tiny bases (engine/inspect/tinyRuns.testing.ts), for the bundle tests of classifiers. */
import fs from 'node:fs';
import path from 'node:path';
import type { FinetuneConfigInput } from '../../common/finetuneConfig';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';

/** A JSON Lines task a tiny model learns in a few steps (which of two words a line repeats), written into `dir`; its path. */
export function twoWordTask(dir: string): string {
  const lines = Array.from({ length: 48 }, (_, i) => JSON.stringify(i % 2 ? { text: 'the king the king the king', label: 'king' } : { text: 'my love my love my love', label: 'love' }));
  const file = path.join(dir, 'task.jsonl');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Fine-tunes `baseRun` on the JSON Lines `task` for `steps` steps (evaluating at the end), full or LoRA; the run folder. */
export async function classifierRun(baseRun: string, task: string, outDir: string, method: 'full' | 'lora', steps = 4): Promise<string> {
  const settings: FinetuneConfigInput = {
    data: { kind: 'jsonl', file: task }, method, ...(method === 'lora' ? { lora: { r: 4, alpha: 8, dropout: 0 } } : {}),
    loop: { steps, batchSize: 8, evalInterval: steps, evalBatches: 1, schedule: { warmupSteps: 1 }, optimizer: { lr: 2e-2 } },
  };
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: baseRun, baseCheckpoint: 'last', settings });
  const summary = await (await Trainer.startDerived(config, outDir, `ft-${method}`, { cacheDir: null })).run();
  if (summary.status !== 'completed') throw new Error(`the ${method} fine-tuning run did not complete: ${JSON.stringify(summary.error)}`);
  return summary.run_dir;
}
