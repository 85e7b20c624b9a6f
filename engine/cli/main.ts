/**
 * The headless command line: the same trainer the notebook drives, without the UI.
 *
 *   workbench train [EXPERIMENT_FILE] [--cell ID] [--data FILE] [--steps N] [--backend NAME] [--out DIR] [--json]
 *   workbench resume RUN_DIR [--backend NAME] [--json]
 *   workbench runs [EXPERIMENT_FILE | RUNS_DIR] [--json]
 *   workbench attention | sample | fill-mask RUN_DIR …   (look inside a trained model: ./attentionCommand.ts …)
 *   workbench export RUN_DIR --out DIR …                   (a bundle other tools load: ./exportCommand.ts)
 *   workbench export-torch EXPERIMENT --out DIR …          (a PyTorch project for a cluster: ./exportTorchCommand.ts)
 *   workbench serve RUN_DIR …   (a local inference server: ./serveCommand.ts)
 *   workbench compress RUN_DIR --method int8|qat|distill|prune …   (a compressed variant: ./compressCommand.ts)
 *   workbench finetune RUN_DIR --task … --method …   (a classifier fine-tuned from a run: ./finetuneCommand.ts)
 *
 * With no experiment file, `train` runs the built-in example: a small BERT pretrained with MLM + NSP on
 * the Brown corpus. Bad arguments print the usage and exit 2; a failed run exits 1; a run stopped by
 * Ctrl+C or SIGTERM exits 130 or 143 (see ./signals); never a stack trace. With --json, every run that was
 * asked for ends in a summary line, one that failed before its first step included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EngineError, toSerializedError } from '../../common/errors';
import { parseExperiment, pretrainCellsOf, runsDirOf, type Experiment } from '../../common/experiment';
import { listRuns } from '../../common/node/runFiles';
import { Trainer, type RunSummary, type TrainerEvent, type TrainerOptions } from '../training/trainer';
import { ATTENTION_USAGE, attentionCommand } from './attentionCommand';
import { FILL_MASK_USAGE, fillMaskCommand } from './fillMaskCommand';
import { IMPORT_USAGE, importCommand } from './importCommand';
import { EXPORT_USAGE, exportCommand } from './exportCommand';
import { EXPORT_TORCH_USAGE, exportTorchCommand } from './exportTorchCommand';
import { FINETUNE_USAGE, finetuneCommand } from './finetuneCommand';
import { SAMPLE_USAGE, sampleCommand } from './sampleCommand';
import { SERVE_USAGE, serveCommand } from './serveCommand';
import { ADAPTERS_USAGE, adaptersCommand } from './adaptersCommand';
import { COMPRESS_USAGE, compressCommand } from './compressCommand';
import { COMPARE_USAGE, compareCommand } from './compareCommand';
import { backendFlag, positiveInt, usage, UsageError } from './args';
import { describeDataSource, sourceForData } from './dataFlag';
import { ProgressView, type EarlySummary } from './progress';
import { StopOnSignals } from './signals';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_EXPERIMENT = path.join(repoRoot, 'experiments/brown-bert-mini.experiment.json');

const USAGE = `usage:
  workbench train [EXPERIMENT_FILE] [--cell ID] [--data FILE] [--steps N] [--backend auto|node-gpu|node|wasm|cpu] [--out DIR] [--json]
      pretrain the experiment's model (default: ${path.relative(process.cwd(), DEFAULT_EXPERIMENT) || DEFAULT_EXPERIMENT});
      --cell picks the pretrain cell (default: the first), which trains from the nearest dataset and model cells above it;
      --data reads the dataset from another file or folder (*.jsonl: JSON Lines), --out is where
      run folders go (default: NAME.runs/ beside the experiment), --json prints one JSON object per line
      Ctrl+C stops after the current step with a checkpoint (exit 130); a second Ctrl+C quits at once
  workbench resume RUN_DIR [--backend NAME] [--json]
      continue a stopped or crashed run from its newest valid checkpoint
  workbench runs [EXPERIMENT_FILE | RUNS_DIR] [--json]
      list the runs of an experiment
${ATTENTION_USAGE}
${SAMPLE_USAGE}
${FILL_MASK_USAGE}
${IMPORT_USAGE}
${EXPORT_USAGE}
${EXPORT_TORCH_USAGE}
${SERVE_USAGE}
${ADAPTERS_USAGE}
${COMPRESS_USAGE}
${COMPARE_USAGE}
${FINETUNE_USAGE}`;

export function readExperiment(file: string): Experiment {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError('INVALID_CONFIG', `${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EngineError('INVALID_CONFIG', `${file}: is not valid JSON (${(e as Error).message})`);
  }
  const r = parseExperiment(raw);
  if (!r.ok) throw new EngineError('INVALID_CONFIG', `${file}:\n${r.error}`);
  return r.value;
}

function printerFor(json: boolean) {
  if (json) {
    return {
      onEvent: (e: TrainerEvent) => { if (e.type !== 'progress') process.stdout.write(`${JSON.stringify(e)}\n`); },
      done: (summary: RunSummary | EarlySummary) => process.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`),
    };
  }
  const view = new ProgressView(process.stderr);
  return { onEvent: (e: TrainerEvent) => view.event(e), done: (summary: RunSummary | EarlySummary) => view.summary(summary) };
}

/**
 * Prepares a run with `open` (Trainer.start or resume) and trains it to the end, with Ctrl+C and SIGTERM
 * handled from the first moment. Exit code 1 when it failed; 128 + signal when a signal ended it.
 */
export async function runToEnd(json: boolean, open: (opts: TrainerOptions) => Promise<Trainer>, summaryExtra?: (s: RunSummary) => Promise<Record<string, string | number | null>>): Promise<number> {
  const printer = printerFor(json);
  const stop = new StopOnSignals();
  let runId: string | null = null;
  const onEvent = (e: TrainerEvent) => {
    if (e.type === 'status' && e.status === 'preparing') { runId = e.runId; stop.runDir = e.runDir; }
    printer.onEvent(e);
  };
  const release = stop.install();
  try {
    let trainer: Trainer;
    try {
      trainer = await open({ onEvent, signal: stop.signal });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const error = toSerializedError(err);
      const cancelled = stop.received !== null && error.code === 'JOB_CANCELLED';
      printer.done({ status: cancelled ? 'cancelled' : 'failed', run_id: runId, run_dir: stop.runDir, error });
      if (json && !cancelled) process.stderr.write(`workbench: ${error.message}\n`);
      return cancelled ? stop.exitCode : 1;
    }
    stop.attach(trainer);
    const summary = await trainer.run();
    // a command's own figures (a fine-tune's accuracy) join the summary line: JSON fields, or one line on stdout
    const extra = summaryExtra ? await summaryExtra(summary) : {};
    printer.done({ ...summary, ...extra });
    if (!json && summaryExtra) process.stdout.write(`${Object.entries(extra).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    if (summary.status === 'failed') return 1;
    return summary.status === 'cancelled' && stop.received ? stop.exitCode : 0;
  } finally {
    release();
  }
}

/**
 * The folder run folders go in, made when missing. A file in its place, or a folder this user cannot
 * write, is refused here, naming --out when the path came from it, not as an errno from inside the trainer.
 */
function runsFolder(dir: string, outFlag: string | undefined): string {
  const what = outFlag !== undefined ? `--out ${outFlag}` : `${dir} (where this experiment's runs go)`;
  const fix = outFlag !== undefined ? 'give a folder you can write to (it is made if missing)' : 'pass --out DIR to put the runs in a folder you can write to';
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'EEXIST' || code === 'ENOTDIR' ? 'is a file (or lies inside one), not a folder'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'cannot be written by this user'
        : `cannot be made (${code ?? (e as Error).message})`;
    if (outFlag !== undefined) usage(`${what}: ${problem}; ${fix}`);
    throw new EngineError('INVALID_CONFIG', `${what}: ${problem}; ${fix}`);
  }
  return dir;
}

async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { cell: { type: 'string' }, data: { type: 'string' }, steps: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 1) usage(`train takes one experiment file, not ${positionals.length}`);
  const file = path.resolve(positionals[0] ?? DEFAULT_EXPERIMENT);
  const steps = positiveInt('--steps', values.steps);
  const backend = backendFlag(values.backend);
  const data = values.data === undefined ? undefined : path.resolve(values.data);
  if (data !== undefined && !fs.existsSync(data)) {
    // existsSync follows links: a link that loops or leads nowhere is there, and says so
    const link = fs.lstatSync(data, { throwIfNoEntry: false })?.isSymbolicLink();
    usage(`--data ${values.data}: ${link ? 'is a symbolic link that loops or leads nowhere; point --data at the file or folder itself' : 'no such file or folder'}`);
  }
  return runToEnd(values.json, async (opts) => {
    const experiment = readExperiment(file);
    const { dataset: datasetCell, model: modelCell, pretrain: pretrainCell } = pretrainCellsOf(experiment, values.cell, file);
    const runsDir = runsFolder(path.resolve(values.out ?? runsDirOf(file)), values.out);
    let dataset = datasetCell.dataset;
    if (data !== undefined) {
      dataset = { ...dataset, source: sourceForData(data, dataset.source) };
      opts.onEvent?.({ type: 'log', level: 'info', message: `--data: the dataset is read from ${describeDataSource(dataset.source)}` });
    }
    return Trainer.start(
      { name: experiment.name, dataset, tokenizer: datasetCell.tokenizer, model: modelCell.model, pretrain: pretrainCell.pretrain },
      runsDir,
      { ...opts, baseDir: path.dirname(file), ...(backend ? { backend } : {}), ...(steps ? { steps } : {}) },
    );
  });
}

async function resume(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { backend: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) usage('resume takes one run folder');
  const dir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(dir, 'run.json'))) usage(`${positionals[0]}: not a run folder (it has no run.json)`);
  const backend = backendFlag(values.backend);
  return runToEnd(values.json, (opts) => Trainer.resume(dir, { ...opts, ...(backend ? { backend } : {}) }));
}

/**
 * The runs folder `workbench runs` lists. An experiment that has no runs yet has no runs folder, and
 * that is fine; a path that is neither an experiment nor a runs folder is a typo, and an error.
 */
function runsTarget(given: string | undefined): string {
  const target = path.resolve(given ?? DEFAULT_EXPERIMENT);
  const shown = given ?? target;
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new EngineError('INVALID_CONFIG', `${shown}: cannot be read (${(e as NodeJS.ErrnoException).code}); check the path`);
  }
  if (stat?.isDirectory()) return target;
  if (stat && target.endsWith('.json')) return runsDirOf(target);
  if (stat) throw new EngineError('INVALID_CONFIG', `${shown}: is neither an experiment (NAME.experiment.json) nor a runs folder; give one of those`);
  if (target.endsWith('.json')) throw new EngineError('INVALID_CONFIG', `${shown}: no such experiment file; check the path`);
  const name = path.basename(target).replace(/\.runs$/, '');
  const experiments = [`${name}.experiment.json`, `${name}.json`].map((f) => path.join(path.dirname(target), f));
  if (target.endsWith('.runs') && experiments.some((f) => fs.existsSync(f))) return target; // no run yet
  throw new EngineError('INVALID_CONFIG', `${shown}: no such runs folder; give an experiment file or the runs folder beside it (NAME.runs)`);
}

async function runs(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 1) usage('runs takes one experiment file or runs folder');
  const dir = runsTarget(positionals[0]);
  const list = await listRuns(dir);
  if (values.json) {
    for (const r of list) process.stdout.write(`${JSON.stringify(r.ok ? { id: r.id, dir: r.dir, status: r.run.status, step: r.run.step, bestValLoss: r.run.bestValLoss, backend: r.run.backend.name, created: r.run.created } : { id: r.id, dir: r.dir, problem: r.problem })}\n`);
    return 0;
  }
  if (!list.length) {
    process.stdout.write(`no runs in ${dir}\n`);
    return 0;
  }
  process.stdout.write(`${'run'.padEnd(22)} ${'status'.padEnd(11)} ${'step'.padStart(7)} ${'best val'.padStart(9)}  backend  created\n`);
  for (const r of list) {
    if (!r.ok) { process.stdout.write(`${r.id.padEnd(22)} unreadable: ${r.problem}\n`); continue; }
    const best = r.run.bestValLoss === null ? '-' : r.run.bestValLoss.toFixed(4);
    process.stdout.write(`${r.id.padEnd(22)} ${r.run.status.padEnd(11)} ${String(r.run.step).padStart(7)} ${best.padStart(9)}  ${r.run.backend.name.padEnd(7)}  ${r.run.created}\n`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined: return await train([]);
      case 'train': return await train(rest);
      case 'resume': return await resume(rest);
      case 'runs': return await runs(rest);
      case 'attention': return await attentionCommand(rest);
      case 'sample': return await sampleCommand(rest);
      case 'fill-mask': return await fillMaskCommand(rest);
      case 'import': return await importCommand(rest);
      case 'export': return await exportCommand(rest);
      case 'export-torch': return await exportTorchCommand(rest);
      case 'serve': return await serveCommand(rest);
      case 'adapters': return await adaptersCommand(rest);
      case 'compress': return await compressCommand(rest);
      case 'compare': return await compareCommand(rest);
      case 'finetune': return await finetuneCommand(rest);
      case 'help': case '--help': case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default: usage(`unknown command '${command}'`);
    }
  } catch (err) {
    // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION for bad flags
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`workbench: ${(err as Error).message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`workbench: ${(err as Error).message}\n`);
    return 1;
  }
}
