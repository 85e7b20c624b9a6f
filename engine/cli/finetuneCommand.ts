/**
 * `workbench finetune RUN_DIR --task brown-genre|FILE.jsonl --method full|lora [--steps N] [--checkpoint …]
 * [--config JSON] [--out DIR] [--json]`: a sequence classifier fine-tuned from a run's checkpoint
 * (engine/finetune/classificationKind.ts), trained in the same loop as `workbench train` — the same progress
 * view, Ctrl+C and exit codes. Its summary adds the test figures and the trainable share.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readClassificationReport } from '../../common/node/classificationReport';
import type { FinetuneConfigInput } from '../../common/finetuneConfig';
import { RUN_JSON } from '../../common/node/runFiles';
import type { CheckpointChoice } from '../runs/loadRunModel';
import { plannedTrainable, type TrainableCount } from '../finetune/trainable';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';
import { backendFlag, positiveInt, usage } from './args';

export const FINETUNE_USAGE = `  workbench finetune RUN_DIR --task brown-genre|FILE.jsonl [--method full|lora] [--steps N] [--checkpoint last|best|step-N]
                     [--init pretrained|scratch] [--config JSON] [--out DIR] [--name NAME] [--backend NAME] [--json]
      fine-tune the run's model into a sequence classifier: brown-genre (the Brown corpus's 15 genres, passages split by
      document) or a JSON Lines file of {"text", "label"} / {"text", "text_pair", "label"}; method full trains every weight,
      lora adapters and the head; --init scratch trains the same architecture from random weights (the baseline);
      --config gives the rest of the fine-tune settings as JSON (common/finetuneConfig.ts: loop, lora, data options);
      runs go beside the base run (or --out); the summary names accuracy, macro_f1, trainable_params, total_params, run_dir`;

/** The settings the flags say, over --config's. */
export function finetuneSettings(flags: { task?: string; method?: string; steps?: string; init?: string; config?: string }): FinetuneConfigInput {
  let given: Record<string, unknown> = {};
  if (flags.config !== undefined) {
    try {
      given = JSON.parse(flags.config) as Record<string, unknown>;
    } catch (err) {
      usage(`--config: is not JSON (${(err as Error).message}); give an object such as '{"loop": {"batchSize": 8}}'`);
    }
    if (typeof given !== 'object' || given === null || Array.isArray(given)) usage('--config: give a JSON object such as \'{"loop": {"batchSize": 8}}\'');
  }
  const data = (given.data ?? {}) as Record<string, unknown>;
  if (flags.task === undefined && given.data === undefined) usage('finetune needs --task brown-genre or --task FILE.jsonl');
  // --config's data options (passageTokens, testShare) stay when --task names the same kind, or --config names none
  const keep = (kind: string) => (data.kind === undefined || data.kind === kind ? data : {});
  const task = flags.task === undefined ? data
    : flags.task === 'brown-genre' ? { ...keep('brown-genre'), kind: 'brown-genre' }
      : flags.task.endsWith('.jsonl') ? { ...keep('jsonl'), kind: 'jsonl', file: path.resolve(flags.task) }
        : usage(`--task ${flags.task}: give brown-genre or a JSON Lines file (FILE.jsonl)`);
  if (flags.method !== undefined && flags.method !== 'full' && flags.method !== 'lora') usage(`--method ${flags.method}: give full or lora`);
  if (flags.init !== undefined && flags.init !== 'pretrained' && flags.init !== 'scratch') usage(`--init ${flags.init}: give pretrained or scratch`);
  const loop = { ...(given.loop as Record<string, unknown> | undefined) };
  const steps = positiveInt('--steps', flags.steps);
  if (steps !== undefined) {
    loop.steps = steps;
    // a quick --steps 20 of a recipe with a longer warmup cuts the warmup to fit
    const schedule = { ...(loop.schedule as Record<string, unknown> | undefined) };
    const warmup = typeof schedule.warmupSteps === 'number' ? schedule.warmupSteps : 30;
    if (warmup > steps) loop.schedule = { ...schedule, warmupSteps: steps };
  }
  return {
    ...given, data: task as FinetuneConfigInput['data'], loop,
    ...(flags.method !== undefined ? { method: flags.method as 'full' | 'lora' } : {}),
    ...(flags.init !== undefined ? { init: flags.init as 'pretrained' | 'scratch' } : {}),
  } as FinetuneConfigInput;
}

/** The test figures of a finished run (its last evaluation's report), null where it has none. */
async function testFigures(runDir: string): Promise<{ accuracy: number | null; macro_f1: number | null }> {
  const r = await readClassificationReport(runDir);
  return { accuracy: r?.accuracy ?? null, macro_f1: r?.macroF1 ?? null };
}

export async function finetuneCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      task: { type: 'string' }, method: { type: 'string' }, steps: { type: 'string' }, checkpoint: { type: 'string' }, init: { type: 'string' },
      config: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) usage(`finetune takes one base run folder, not ${positionals.length}`);
  const baseRunDir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(baseRunDir, RUN_JSON))) usage(`${positionals[0]}: not a run folder (it has no ${RUN_JSON})`);
  const settings = finetuneSettings(values);
  const backend = backendFlag(values.backend);
  let count: TrainableCount | null = null;
  // main.ts lists this command, so its runner is imported when the command runs, not when either module loads
  const { runToEnd } = await import('./main');
  return runToEnd(values.json, async (opts) => {
    const config = await resolveDerivedRun({ task: 'finetune', baseRunDir, baseCheckpoint: (values.checkpoint ?? 'last') as CheckpointChoice, settings });
    if (config.task !== 'finetune') throw new Error('unreachable: a finetune request resolved to another task');
    count = await plannedTrainable(config.model, config.finetune);
    const runsDir = path.resolve(values.out ?? path.dirname(baseRunDir));
    const what = config.finetune.data.kind === 'jsonl' ? path.basename(config.finetune.data.file) : config.finetune.data.kind;
    return Trainer.startDerived(config, runsDir, values.name ?? `finetune ${what} (${config.finetune.method}${config.finetune.init === 'scratch' ? ', scratch' : ''}) of ${config.base.runId}`, { ...opts, ...(backend ? { backend } : {}) });
  }, async (summary) => ({
    ...(await testFigures(summary.run_dir)),
    trainable_params: count?.trainable ?? null,
    total_params: count?.total ?? null,
    trainable_share: count ? Number(count.share.toFixed(6)) : null,
    run_dir: summary.run_dir,
  }));
}
