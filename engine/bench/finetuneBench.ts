/**
 * `npm run bench:finetune`: full fine-tuning vs LoRA (ranks 4, 8, 16) vs the same classifier trained from
 * scratch, on the Brown genre task from one pretrained Brown checkpoint: test accuracy and macro-F1, trainable
 * parameters, training time, peak memory and the size of what each variant saves (the checkpoint's weights;
 * LoRA: its adapter file). One JSON line per variant, then a table and the verdicts of the claims
 * (LoRA's share < 5%, its accuracy within 3 points of full, both above scratch); exit 1 when one fails or a
 * variant fails.
 *
 * Without RUN_DIR the base is pretrained here first: --experiment (default
 * experiments/brown-gpt-mini.experiment.json) for --pretrain-steps (default its pretrain cell's). Each variant
 * runs in a child process of its own, so that its peak resident memory is its own; every variant has the same
 * data, split and loop, seeded by --seed.
 *
 *   npm run bench:finetune -- [RUN_DIR] [--experiment FILE] [--pretrain-steps N] [--steps N] [--lr LR] [--lora-lr LR]
 *                             [--lora-targets A,B] [--passage-tokens N] [--passages-per-doc N] [--seed N]
 *                             [--variants full,lora-r4,…] [--out DIR]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pretrainCellsOf } from '../../common/experiment';
import { readRunJson } from '../../common/node/runFiles';
import { modelOfRun, runConfigOf } from '../../common/runConfig';
import type { FinetuneConfigInput } from '../../common/finetuneConfig';
import { readClassificationReport } from '../../common/node/classificationReport';
import { readExperiment } from '../cli/main';
import { writeOpenedAdapter } from '../finetune/lora/openLoraRun';
import { ADAPTER_WEIGHTS } from '../finetune/lora/peftFiles';
import { plannedTrainable } from '../finetune/trainable';
import { loadRunModel } from '../runs/loadRunModel';
import { MODEL_FILE } from '../runs/checkpoint';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';

/** The base pretrained when no RUN_DIR is given: a word-piece GPT, since the Brown BERT at these sizes learns too little to help (README, Fine-tune). */
const BASE_EXPERIMENT = fileURLToPath(new URL('../../experiments/brown-gpt-mini.experiment.json', import.meta.url));

const VARIANTS = ['full', 'lora-r4', 'lora-r8', 'lora-r16', 'scratch'] as const;
type Variant = (typeof VARIANTS)[number];

interface VariantResult {
  variant: Variant;
  status: string;
  accuracy: number | null;
  macro_f1: number | null;
  trainable_params: number | null;
  total_params: number | null;
  trainable_share: number | null;
  train_seconds: number | null;
  peak_rss_mib: number | null;
  saved_bytes: number | null;
  saved_file: string | null;
  run_dir: string | null;
  error?: string;
}

/**
 * What every variant shares: the loop's length, the passages; the rate is per method (LoRA's adapters start at zero
 * and need a higher one); LoRA's target patterns (empty: BLOCK_PROJECTIONS of the base's architecture).
 */
interface Recipe { steps: number; lr: number; loraLr: number; passageTokens: number; passagesPerDocument: number; seed: number; loraTargets: string[] }

/** The same settings for every variant but what the variant is: the method, LoRA's rank, the init. */
function settingsOf(variant: Variant, o: Recipe): FinetuneConfigInput {
  const r = /^lora-r(\d+)$/.exec(variant);
  const loop = { steps: o.steps, batchSize: 16, evalInterval: o.steps, evalBatches: 4, checkpointInterval: o.steps, schedule: { warmupSteps: Math.min(30, o.steps) }, optimizer: { lr: r ? o.loraLr : o.lr }, seed: o.seed };
  const data = { kind: 'brown-genre' as const, passageTokens: o.passageTokens, passagesPerDocument: o.passagesPerDocument };
  return {
    data, loop, maxEvalExamples: 100_000,
    method: r ? 'lora' : 'full',
    ...(r ? { lora: { r: Number(r[1]), alpha: 2 * Number(r[1]), ...(o.loraTargets.length ? { targetModules: o.loraTargets } : {}) } } : {}),
    ...(variant === 'scratch' ? { init: 'scratch' as const } : {}),
  };
}

/**
 * The file a variant keeps: LoRA's adapter_model.safetensors as PEFT's layout holds it (adapters and the head it
 * trains whole), written beside the run the way an export writes it; otherwise the last checkpoint's weights.
 */
async function savedFile(runDir: string, lora: boolean): Promise<string> {
  if (lora) {
    const rm = await loadRunModel(runDir, 'last');
    try {
      const written = await writeOpenedAdapter(rm.model, runDir);
      if (!written) throw new Error(`${runDir}: opened without its adapter`);
      return path.join(written.dir, ADAPTER_WEIGHTS);
    } finally {
      rm.model.dispose();
    }
  }
  const last = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'last.json'), 'utf8')) as { checkpoint: string };
  return path.join(runDir, 'checkpoints', last.checkpoint, MODEL_FILE);
}

/**
 * LoRA's targets when none are given: every projection of the blocks (attention and MLP), still a few percent of
 * the model; on the Brown GPT the attention projections alone (PEFT's default) fell 4 points short of full
 * fine-tuning where these came within 3 (README, Fine-tune).
 */
const BLOCK_PROJECTIONS = { gpt: ['c_attn', 'c_proj', 'c_fc'], bert: ['query', 'key', 'value', 'output.dense', 'intermediate.dense'] } as const;

/** One variant, in this (child) process: its result line on stdout. */
async function worker(variant: Variant, baseRunDir: string, given: Recipe, outDir: string): Promise<void> {
  const arch = modelOfRun(runConfigOf(await readRunJson(baseRunDir)))?.arch ?? 'bert';
  const recipe = given.loraTargets.length ? given : { ...given, loraTargets: [...BLOCK_PROJECTIONS[arch]] };
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir, baseCheckpoint: 'last', settings: settingsOf(variant, recipe) });
  if (config.task !== 'finetune') throw new Error('unreachable');
  const count = await plannedTrainable(config.model, config.finetune);
  const trainer = await Trainer.startDerived(config, outDir, `bench ${variant}`, {});
  const t0 = performance.now();
  const summary = await trainer.run();
  const seconds = (performance.now() - t0) / 1000;
  const report = await readClassificationReport(summary.run_dir);
  if (!report) throw new Error(`${summary.run_dir}: ended ${summary.status} without an evaluation`);
  const file = await savedFile(summary.run_dir, config.finetune.method === 'lora');
  const result: VariantResult = {
    variant, status: summary.status, accuracy: report.accuracy, macro_f1: report.macroF1,
    trainable_params: count.trainable, total_params: count.total, trainable_share: count.share, train_seconds: seconds,
    peak_rss_mib: process.resourceUsage().maxRSS / 1024, saved_bytes: fs.statSync(file).size, saved_file: file, run_dir: summary.run_dir,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function pretrainBase(experimentFile: string, steps: number | undefined, outDir: string): Promise<string> {
  const e = readExperiment(experimentFile);
  const { dataset, model, pretrain } = pretrainCellsOf(e, undefined, experimentFile);
  process.stderr.write(`pretraining the base: ${path.basename(experimentFile)} for ${steps ?? pretrain.pretrain.steps} steps into ${outDir}…\n`);
  const trainer = await Trainer.start({ name: `${e.name} (bench:finetune base)`, dataset: dataset.dataset, tokenizer: dataset.tokenizer, model: model.model, pretrain: pretrain.pretrain }, outDir, {
    baseDir: path.dirname(experimentFile), steps,
    onEvent: (ev) => {
      if (ev.type !== 'eval') return;
      const mlm = ev.val.mlmAccuracy === undefined ? '' : `, mlm acc ${(ev.val.mlmAccuracy * 100).toFixed(1)}%`;
      process.stderr.write(`  base step ${ev.step}: val loss ${ev.val.loss.toFixed(3)}${mlm}\n`);
    },
  });
  const s = await trainer.run();
  if (s.status !== 'completed') throw new Error(`the base's pretraining ended ${s.status}: ${s.error?.message ?? ''}`);
  return s.run_dir;
}

function table(rows: VariantResult[]): string {
  const pct = (x: number | null, d = 1) => (x === null ? '-' : (100 * x).toFixed(d));
  const head = ['variant', 'accuracy %', 'macro-F1 %', 'trainable', 'share %', 'time s', 'peak RSS MiB', 'saved MiB'];
  const body = rows.map((r) => [r.variant, pct(r.accuracy), pct(r.macro_f1), r.trainable_params?.toLocaleString('en') ?? '-', pct(r.trainable_share, 2),
    r.train_seconds?.toFixed(0) ?? '-', r.peak_rss_mib?.toFixed(0) ?? '-', r.saved_bytes === null ? '-' : (r.saved_bytes / 2 ** 20).toFixed(2)]);
  return [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The claims over what ran: [claim, holds]. */
function verdicts(rows: VariantResult[]): [string, boolean][] {
  const ok = rows.filter((r) => r.status === 'completed' && r.accuracy !== null);
  const get = (v: string) => ok.find((r) => r.variant === v);
  const full = get('full'), scratch = get('scratch');
  const out: [string, boolean][] = [];
  if (full && scratch) out.push([`full fine-tuning beats scratch (${pct(full.accuracy)} vs ${pct(scratch.accuracy)})`, full.accuracy! > scratch.accuracy!]);
  for (const l of ok.filter((r) => r.variant.startsWith('lora'))) {
    out.push([`${l.variant} trains < 5% of the model (${pct(l.trainable_share)}%)`, l.trainable_share! < 0.05]);
    if (full) out.push([`${l.variant} within 3 points of full (${pct(l.accuracy)} vs ${pct(full.accuracy)})`, Math.abs(l.accuracy! - full.accuracy!) <= 0.03]);
    if (scratch) out.push([`${l.variant} beats scratch (${pct(l.accuracy)} vs ${pct(scratch.accuracy)})`, l.accuracy! > scratch.accuracy!]);
  }
  return out;
}
const pct = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(1));

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true, strict: true,
    options: {
      experiment: { type: 'string', default: BASE_EXPERIMENT }, 'pretrain-steps': { type: 'string' }, steps: { type: 'string', default: '300' }, lr: { type: 'string', default: '0.0005' }, 'lora-lr': { type: 'string', default: '0.002' }, 'lora-targets': { type: 'string', default: '' },
      'passage-tokens': { type: 'string', default: '64' }, 'passages-per-doc': { type: 'string', default: '12' }, seed: { type: 'string', default: '1' },
      variants: { type: 'string', default: VARIANTS.join(',') }, out: { type: 'string' }, worker: { type: 'string' },
    },
  });
  const numbers = { steps: Number(values.steps), lr: Number(values.lr), loraLr: Number(values['lora-lr']), passageTokens: Number(values['passage-tokens']), passagesPerDocument: Number(values['passages-per-doc']), seed: Number(values.seed) };
  const bad = Object.entries(numbers).find(([, v]) => !(v > 0));
  if (bad) throw new Error(`--${bad[0]}: give a positive number`);
  const recipe: Recipe = { ...numbers, loraTargets: values['lora-targets'].split(',').map((t) => t.trim()).filter(Boolean) };
  const recipeArgs = ['--steps', values.steps, '--lr', values.lr, '--lora-lr', values['lora-lr'], '--lora-targets', values['lora-targets'], '--passage-tokens', values['passage-tokens'], '--passages-per-doc', values['passages-per-doc'], '--seed', values.seed];
  if (values.worker) {
    await worker(values.worker as Variant, positionals[0], recipe, values.out!);
    return 0;
  }
  const variants = values.variants.split(',') as Variant[];
  const unknown = variants.filter((v) => !VARIANTS.includes(v));
  if (unknown.length) throw new Error(`--variants: ${unknown.join(', ')} unknown; choose among ${VARIANTS.join(', ')}`);
  const outDir = path.resolve(values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-bench-')));
  const pretrainSteps = values['pretrain-steps'] === undefined ? undefined : Number(values['pretrain-steps']);
  if (pretrainSteps !== undefined && !(pretrainSteps > 0)) throw new Error('--pretrain-steps: give a positive number');
  const base = positionals[0] ? path.resolve(positionals[0]) : await pretrainBase(path.resolve(values.experiment), pretrainSteps, outDir);
  process.stderr.write(`base ${base}; ${variants.length} variants, each ${JSON.stringify(recipe)}; runs in ${outDir}\n`);
  const rows: VariantResult[] = [];
  for (const v of variants) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), base, '--worker', v, ...recipeArgs, '--out', outDir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
    const row: VariantResult = line && r.status === 0 ? JSON.parse(line) as VariantResult : {
      variant: v, status: 'failed', accuracy: null, macro_f1: null, trainable_params: null, total_params: null, trainable_share: null,
      train_seconds: (performance.now() - t0) / 1000, peak_rss_mib: null, saved_bytes: null, saved_file: null, run_dir: null,
      error: (r.stderr.trim().split('\n').filter((l) => l.startsWith('workbench') || /Error/.test(l)).at(-1) ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`),
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  process.stdout.write(`\n${table(rows)}\n\n`);
  const v = verdicts(rows);
  for (const [claim, holds] of v) process.stdout.write(`${holds ? 'PASS' : 'FAIL'} ${claim}\n`);
  return rows.some((r) => r.status !== 'completed') || v.some(([, holds]) => !holds) ? 1 : 0;
}

process.exitCode = await main();
