/**
 * Training runs, start to finish, for the engine process and the headless command line alike: `start`
 * makes a run folder for an experiment's cells and prepares the pretraining task (./pretrainTask.ts);
 * `startDerived` makes one for a run that starts from another run's checkpoint (fine-tuning, QAT,
 * distillation, pruning: ./derivedTasks.ts); `resume` reopens either and continues from its newest valid checkpoint — parameters, AdamW state,
 * data RNG and step restored, so on the same backend the resumed run computes exactly what the
 * uninterrupted one would have. Either way `run()` trains in the training loop (./trainingLoop.ts), which
 * logs, evaluates, checkpoints and can be paused, resumed and stopped between steps.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo, BackendRequest } from '../../common/backends';
import { EngineError, toSerializedError } from '../../common/errors';
import { RUN_JSON, TOKENIZER_FILE } from '../../common/node/runFiles';
import { PretrainRunSpec, parseRunConfig, type DerivedRunConfig, type PretrainRunSpecInput, type RunConfig } from '../../common/runConfig';
import type { RunEvent, RunSummary } from '../../common/runEvents';
import { invalidConfig } from '../../common/zodIssues';
import { selectBackend } from '../backends/select';
import { cleanCheckpointTemps, latestValidCheckpoint, restoreCheckpoint, setAsideCheckpointsAfter } from '../runs/checkpoint';
import { RunLog } from '../runs/metricsLog';
import { RunFolder } from '../runs/runFolder';
import { Rng } from '../util/random';
import type { AdamW } from './adamw';
import { derivedTaskOf, type DerivedTaskKind } from './derivedTasks';
import { planPretrain, preparePretrain } from './pretrainTask';
import { loopSettings, type LoopSettings, type TrainingTask } from './task';
import { TrainingLoop, createOptimizer, type LoopPosition } from './trainingLoop';

/** What a run is started from: the experiment's dataset, model and pretrain cells (parsed once, at start). */
export type RunSpec = PretrainRunSpecInput;
export type TrainerEvent = RunEvent;
export type { RunSummary };

export interface TrainerOptions {
  onEvent?: (e: TrainerEvent) => void;
  /** relative dataset paths resolve against this (the experiment file's folder) */
  baseDir?: string;
  /** the tokenized-dataset cache; null: none; default the user cache */
  cacheDir?: string | null;
  /** forces a backend, over the pretrain cell's */
  backend?: BackendRequest;
  /**
   * start only: the run's step count, over the pretrain cell's. It becomes the run's own (its schedule
   * decays over it, run.json records it, and resume trains to it).
   */
  steps?: number;
  /** start only: the new run's id (default: a fresh time-ordered one) */
  runId?: string;
  signal?: AbortSignal;
}

/** What a checkpoint's `rng` holds: the data sampler's state after its step. */
function samplerState(rng: unknown): number | null {
  const data = (rng as { data?: unknown } | null)?.data;
  return typeof data === 'number' && Number.isInteger(data) ? data : null;
}

/**
 * The spec with another step count. A warmup longer than the shortened run is cut to fit it (a quick
 * `--steps 20` of a recipe with a 100-step warmup), and the run says so.
 */
function withSteps(spec: PretrainRunSpec, steps: number, onEvent?: (e: TrainerEvent) => void): PretrainRunSpec {
  const s = spec.pretrain.schedule;
  const warmupSteps = Math.min(s.warmupSteps, steps);
  if (warmupSteps < s.warmupSteps) onEvent?.({ type: 'log', level: 'warning', message: `the warmup of ${s.warmupSteps} steps is cut to ${warmupSteps} to fit a run of ${steps} steps` });
  const decaySteps = s.decaySteps === undefined ? undefined : Math.max(s.decaySteps, warmupSteps);
  return { ...spec, pretrain: { ...spec.pretrain, steps, schedule: { ...s, warmupSteps, ...(decaySteps === undefined ? {} : { decaySteps }) } } };
}

/**
 * Restores the newest checkpoint that loads and whose data position this trainer can read — weights, AdamW
 * state, data RNG — or, when none can, starts again from step 0. Either way every checkpoint after the
 * point it continues from is one it passed over: they go to checkpoints/damaged/, kept, and the run says so.
 */
async function restoreLatest(runDir: string, task: TrainingTask, optimizer: AdamW, rng: Rng, emit: (e: TrainerEvent) => void): Promise<LoopPosition> {
  await cleanCheckpointTemps(runDir);
  const ck = await latestValidCheckpoint(runDir, {
    onSkip: (name, problem) => emit({ type: 'log', level: 'warning', message: `checkpoint ${name} skipped: ${problem}` }),
    accept: (c) => (samplerState(c.manifest.rng) === null ? 'its rng is not the state of this trainer\'s data sampler ({ "data": an integer })' : null),
  });
  let position: LoopPosition = { step: 0, tokensSeen: 0, secondsBefore: 0 };
  if (ck) {
    restoreCheckpoint(ck, task.model.params, optimizer);
    rng.state = samplerState(ck.manifest.rng)!;
    const elapsed = ck.manifest.extra.elapsedSeconds;
    position = { step: ck.manifest.step, tokensSeen: ck.manifest.tokensSeen, secondsBefore: typeof elapsed === 'number' ? elapsed : 0 };
  }
  for (const { name, to } of await setAsideCheckpointsAfter(runDir, position.step)) {
    emit({ type: 'log', level: 'warning', message: `checkpoint ${name} was not usable and is set aside in ${to}; its files are kept` });
  }
  if (ck) emit({ type: 'log', level: 'info', message: `resumed from checkpoint ${ck.name} at step ${position.step}` });
  else emit({ type: 'log', level: 'warning', message: 'no valid checkpoint: the run starts again from step 0' });
  return position;
}

/** A pretraining run, prepared: `run()` trains it; pause, resume and stop steer it between steps. */
export class Trainer {
  private constructor(private readonly loop: TrainingLoop) {}

  get runDir(): string { return this.loop.runDir; }
  get runId(): string { return this.loop.runId; }

  /** Creates a run folder under `runsDir` and prepares everything; `run()` then trains. */
  static async start(input: RunSpec, runsDir: string, opts: TrainerOptions = {}): Promise<Trainer> {
    const parsed = PretrainRunSpec.safeParse(input);
    if (!parsed.success) throw invalidConfig(parsed.error);
    const spec = opts.steps === undefined ? parsed.data : withSteps(parsed.data, opts.steps, opts.onEvent);
    const backend = await selectBackend(opts.backend ?? spec.pretrain.backend);
    // what can be refused from the configs alone is refused before a run folder is made for it
    const plan = planPretrain(spec, backend.name);
    const config: RunConfig = { task: 'pretrain', spec, baseDir: path.resolve(opts.baseDir ?? '.') };
    const run = await RunFolder.create(runsDir, { name: spec.name, config, backend, seed: spec.pretrain.seed, ...(opts.runId ? { id: opts.runId } : {}) });
    return Trainer.prepareNew(run, () => preparePretrain(plan, prepareOptions(run, backend, { ...opts, baseDir: config.baseDir }, false)), loopSettings(spec.pretrain), backend, opts);
  }

  /** Reopens a run folder and continues from its newest valid checkpoint (or from the start when it has none). */
  static async resume(runDir: string, opts: TrainerOptions = {}): Promise<Trainer> {
    const run = await RunFolder.open(runDir);
    let task: TrainingTask | undefined;
    try {
      const json = run.json;
      if (json.status === 'completed') throw new EngineError('INVALID_CONFIG', `${runDir}: this run completed all its steps; start a new run to train further`);
      // run.json is a file on disk like any other: what it says is checked with the schemas a start uses
      const config = parseRunConfig(json.config, path.join(runDir, RUN_JSON));
      if (config.task === 'import') throw new EngineError('INVALID_CONFIG', `${runDir}: this is a model imported from ${config.source.dir}, with no pretraining to resume; fine-tune it, or start a pretraining run`);
      const backend = await selectBackend(opts.backend ?? json.backend.name);
      if (backend.name !== json.backend.name) {
        opts.onEvent?.({ type: 'log', level: 'warning', message: `resuming on ${backend.name}, not ${json.backend.name} as before: the curve continues, but not bit for bit` });
      }
      if (config.task !== 'pretrain') {
        const kind = trainingKindOf(config, runDir);
        opts.onEvent?.({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
        task = await kind.prepare(config, { run, backend: backend.name, resuming: true, cacheDir: opts.cacheDir, onEvent: opts.onEvent, signal: opts.signal });
        return await Trainer.open(run, task, loopSettings(kind.loop(config)), backend, opts, true);
      }
      const plan = planPretrain(config.spec, backend.name);
      opts.onEvent?.({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
      const tokenizerFile = path.join(run.dir, TOKENIZER_FILE);
      task = await preparePretrain(plan, prepareOptions(run, backend, { ...opts, baseDir: opts.baseDir ?? config.baseDir }, fs.existsSync(tokenizerFile)));
      return await Trainer.open(run, task, loopSettings(config.spec.pretrain), backend, opts, true);
    } catch (err) {
      task?.dispose();
      // a killed run stays resumable: its run.json said 'running' for a process that is gone
      if (run.json.status === 'running') await run.setStatus('interrupted').catch(() => undefined);
      await run.close();
      throw err;
    }
  }

  /**
   * Creates a run folder under `runsDir` for a run that starts from another run's checkpoint (`config.base`),
   * with the base's tokenizer copied in, and prepares its task; `run()` then trains. `opts.steps` does not
   * apply: the config's loop says how long it trains.
   */
  static async startDerived(config: DerivedRunConfig, runsDir: string, name: string, opts: TrainerOptions = {}): Promise<Trainer> {
    const kind = trainingKindOf(config, config.base.runDir);
    const loop = kind.loop(config);
    const backend = await selectBackend(opts.backend ?? 'auto');
    const run = await RunFolder.create(runsDir, { name, config, backend, seed: loop.seed, ...(opts.runId ? { id: opts.runId } : {}) });
    return Trainer.prepareNew(run, async () => {
      await copyBaseTokenizer(config, run.dir);
      return kind.prepare(config, { run, backend: backend.name, resuming: false, cacheDir: opts.cacheDir, onEvent: opts.onEvent, signal: opts.signal });
    }, loopSettings(loop), backend, opts);
  }

  /**
   * Prepares the task of a run folder just created and opens its loop from step 0. A run whose preparation
   * fails ends 'failed' with the error (cancelled while preparing: 'cancelled', which is no failure of the run).
   */
  private static async prepareNew(run: RunFolder, prepare: () => Promise<TrainingTask>, settings: LoopSettings, backend: BackendInfo, opts: TrainerOptions): Promise<Trainer> {
    opts.onEvent?.({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
    let task: TrainingTask | undefined;
    try {
      task = await prepare();
      return await Trainer.open(run, task, settings, backend, opts, false);
    } catch (err) {
      task?.dispose();
      const cancelled = err instanceof EngineError && err.code === 'JOB_CANCELLED';
      await run.setStatus(cancelled ? 'cancelled' : 'failed', cancelled ? undefined : toSerializedError(err));
      await run.close();
      throw err;
    }
  }

  /** The loop over a prepared task, from step 0 or, resuming, from the run's latest valid checkpoint. */
  private static async open(run: RunFolder, task: TrainingTask, settings: LoopSettings, backend: BackendInfo, opts: TrainerOptions, resuming: boolean): Promise<Trainer> {
    const optimizer = createOptimizer(task, settings);
    const rng = new Rng((settings.seed + 1) >>> 0);
    const emit = opts.onEvent ?? (() => {});
    try {
      const position = resuming ? await restoreLatest(run.dir, task, optimizer, rng, emit) : { step: 0, tokensSeen: 0, secondsBefore: 0 };
      const log = await RunLog.open(run.dir, resuming ? { resumeStep: position.step } : {});
      await run.update({ status: 'running', step: position.step, tokensSeen: position.tokensSeen, backend });
      return new Trainer(new TrainingLoop({ folder: run, log, task, optimizer, settings, backend, rng, position, onEvent: opts.onEvent, signal: opts.signal }));
    } catch (err) {
      optimizer.dispose();
      throw err;
    }
  }

  /** Pauses after the current step (a checkpoint is written first, so a pause is safe to walk away from). */
  pause(): void { this.loop.pause(); }

  resume(): void { this.loop.resume(); }

  /** Stops after the current step, with a checkpoint; `workbench resume` continues it later. */
  stop(): void { this.loop.stop(); }

  /** Trains to the last step (or until stopped / failed) and returns the summary. */
  run(): Promise<RunSummary> {
    return this.loop.run();
  }
}

/** The kind that trains a derived run, or INVALID_CONFIG when its method trains nothing (int8 is written in one pass). */
function trainingKindOf(config: DerivedRunConfig, runDir: string): DerivedTaskKind {
  const kind = derivedTaskOf(config);
  const what = config.task === 'compress' ? `compress --method ${config.compress.method}` : `finetune (${config.finetune.method})`;
  if (!kind) throw new EngineError('INVALID_CONFIG', `${runDir}: a ${what} run has no training loop in this Transformer Workbench; start it again with \`workbench ${config.task}\``);
  return kind;
}

/** A derived run reads text as its base did: the base's tokenizer.json, copied so the run opens without its base. */
export async function copyBaseTokenizer(config: DerivedRunConfig, runDir: string): Promise<void> {
  const from = path.join(config.base.runDir, TOKENIZER_FILE);
  try {
    await fs.promises.copyFile(from, path.join(runDir, TOKENIZER_FILE));
  } catch (err) {
    throw new EngineError('INVALID_CONFIG', `${from}: the base run's tokenizer cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); start from a run that has one`, ['base', 'runDir']);
  }
}

function prepareOptions(run: RunFolder, backend: BackendInfo, opts: TrainerOptions, reuseTokenizer: boolean) {
  return {
    backend: backend.name, tokenizerFile: path.join(run.dir, TOKENIZER_FILE), reuseTokenizer,
    baseDir: opts.baseDir, cacheDir: opts.cacheDir, onEvent: opts.onEvent, signal: opts.signal,
  };
}
