/**
 * Pretraining, start to finish, for the engine process and the headless command line alike: prepare the
 * data and tokenizer, build the model, then loop — gradients (with accumulation), diagnostics, clipping,
 * AdamW on a warmup-then-decay schedule — logging every step to metrics.jsonl and TensorBoard, evaluating
 * every evalInterval steps, checkpointing every checkpointInterval steps plus best and last. A run can be
 * paused, resumed and stopped between steps, and resumed after a crash from its newest valid checkpoint:
 * parameters, AdamW state, data RNG and step are restored, so on the same backend the resumed run computes
 * exactly what the uninterrupted one would have.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { BackendInfo, BackendRequest } from '../../common/backends';
import { DatasetConfig } from '../../common/datasetConfig';
import { EngineError, type SerializedError } from '../../common/errors';
import { ModelConfig, formatConfigIssues, type ModelConfigInput } from '../../common/modelConfig';
import { ModelCellConfig } from '../../common/experiment';
import { PretrainConfig, defaultObjective, pretrainModelIssues, type Objective } from '../../common/pretrainConfig';
import type { RunJson, RunStatus } from '../../common/runFolder';
import type { RunEvent, RunSummary } from '../../common/runEvents';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import { selectBackend } from '../backends/select';
import * as fused from '../backends/fusedOps';
import { createModel, type AnyModel } from '../models/registry';
import { latestValidCheckpoint, restoreCheckpoint, saveCheckpoint, discardCheckpointsAfter, cleanCheckpointTemps } from '../runs/checkpoint';
import { RunLog } from '../runs/metricsLog';
import { RunFolder } from '../runs/runFolder';
import { Rng } from '../util/random';
import { AdamW } from './adamw';
import { Diagnostics } from './diagnostics';
import { evaluate, type EvalResult } from './evaluate';
import { groupParams } from './layerGroups';
import { checkMemory } from './memoryBudget';
import { prepareData, toBatch, type PreparedData } from './pretrainData';
import { learningRate, type LrSchedule } from './schedule';
import { applyUpdate, computeGradients } from './trainStep';

export const TOKENIZER_FILE = 'tokenizer.json';

/** What a run is started from: the experiment's dataset, model and pretrain cells. */
export interface RunSpec {
  name: string;
  dataset: DatasetConfig;
  tokenizer: TokenizerConfig;
  /** the model cell; vocabSize may be absent (it then comes from the tokenizer) */
  model: Omit<ModelConfigInput, 'vocabSize'> & { vocabSize?: number };
  pretrain: PretrainConfig;
}

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
  /** start only: the run folder's name (default: a fresh id) */
  runId?: string;
  signal?: AbortSignal;
}

/** The run's config snapshot in run.json, from which `resume` rebuilds the run. */
const Snapshot = z.object({
  spec: z.object({ name: z.string(), dataset: DatasetConfig, tokenizer: TokenizerConfig, model: ModelCellConfig, pretrain: PretrainConfig }),
  baseDir: z.string(),
});
type Snapshot = { spec: RunSpec; baseDir: string };

/** What a checkpoint's `rng` holds: the data sampler's state after its step. */
const SamplerState = z.object({ data: z.number().int() });

/**
 * The checks that need the model and the pretrain cell together (each alone is checked by its schema):
 * the objective fits the architecture, the sequences fit the context.
 */
function checkSpec(spec: RunSpec): { objective: Objective; seqLen: number } {
  const p = spec.pretrain;
  const issue = pretrainModelIssues(p, spec.model)[0];
  if (issue) throw new EngineError('INVALID_CONFIG', issue.full, ['pretrain', issue.field]);
  return { objective: p.objective ?? defaultObjective(spec.model.arch), seqLen: p.seqLen ?? spec.model.contextLength };
}

/** The vocabulary a tokenizer will have, before it is trained: its configured size (characters: a byte's worth). */
const vocabGuess = (t: TokenizerConfig): number => ('vocabSize' in t && typeof t.vocabSize === 'number' ? t.vocabSize : 256);

/**
 * The spec with another step count. A warmup longer than the shortened run is cut to fit it (a quick
 * `--steps 20` of a recipe with a 100-step warmup), and the run says so.
 */
function withSteps(spec: RunSpec, steps: number, onEvent?: (e: TrainerEvent) => void): RunSpec {
  const s = spec.pretrain.schedule;
  const warmupSteps = Math.min(s.warmupSteps, steps);
  if (warmupSteps < s.warmupSteps) onEvent?.({ type: 'log', level: 'warning', message: `the warmup of ${s.warmupSteps} steps is cut to ${warmupSteps} to fit a run of ${steps} steps` });
  const decaySteps = s.decaySteps === undefined ? undefined : Math.max(s.decaySteps, warmupSteps);
  return { ...spec, pretrain: { ...spec.pretrain, steps, schedule: { ...s, warmupSteps, ...(decaySteps === undefined ? {} : { decaySteps }) } } };
}

function schedule(p: PretrainConfig): LrSchedule {
  const s = p.schedule;
  if (s.kind === 'constant') return { kind: 'constant', lr: p.optimizer.lr, warmupIters: s.warmupSteps };
  return { kind: s.kind, lr: p.optimizer.lr, minLr: s.minLr, warmupIters: s.warmupSteps, decayIters: s.decaySteps ?? p.steps };
}

export class Trainer {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly folder: RunFolder,
    private readonly log: RunLog,
    private readonly spec: RunSpec,
    private readonly model: AnyModel,
    private readonly optimizer: AdamW,
    private readonly data: PreparedData,
    private readonly rng: Rng,
    private readonly backend: BackendInfo,
    private readonly objective: Objective,
    private readonly totalSteps: number,
    private step: number,
    private tokensSeen: number,
    /** training time before this session (a resumed run's), so that elapsed time continues */
    private readonly secondsBefore: number,
    private readonly opts: TrainerOptions,
  ) {}

  /** training time so far, all sessions; this session's part is counted in run() */
  private elapsedSeconds = 0;

  get runDir(): string { return this.folder.dir; }
  get runId(): string { return this.folder.id; }

  /** Creates a run folder under `runsDir` and prepares everything; `run()` then trains. */
  static async start(spec: RunSpec, runsDir: string, opts: TrainerOptions = {}): Promise<Trainer> {
    if (opts.steps !== undefined) spec = withSteps(spec, opts.steps, opts.onEvent);
    const p = spec.pretrain;
    const backend = await selectBackend(opts.backend ?? p.backend);
    // what can be refused from the configs alone is refused before a run folder is made for it
    checkSpec(spec);
    const guess = ModelConfig.safeParse({ ...spec.model, vocabSize: spec.model.vocabSize ?? vocabGuess(spec.tokenizer) });
    if (guess.success) checkMemory(guess.data, p.batchSize, p.seqLen ?? spec.model.contextLength, backend.name);
    const snapshot: Snapshot = { spec, baseDir: path.resolve(opts.baseDir ?? '.') };
    const run = await RunFolder.create(runsDir, { name: spec.name, config: snapshot as unknown as Record<string, unknown>, backend, seed: p.seed, id: opts.runId });
    opts.onEvent?.({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
    try {
      return await Trainer.build(run, spec, backend, { ...opts, baseDir: snapshot.baseDir }, false);
    } catch (err) {
      // cancelled while preparing is not a failure of the run
      const cancelled = err instanceof EngineError && err.code === 'JOB_CANCELLED';
      await run.setStatus(cancelled ? 'cancelled' : 'failed', cancelled ? undefined : toSerialized(err));
      await run.close();
      throw err;
    }
  }

  /** Reopens a run folder and continues from its newest valid checkpoint (or from the start when it has none). */
  static async resume(runDir: string, opts: TrainerOptions = {}): Promise<Trainer> {
    const run = await RunFolder.open(runDir);
    try {
      const json = run.json;
      if (json.status === 'completed') throw new EngineError('INVALID_CONFIG', `${runDir}: this run completed all its steps; start a new run to train further`);
      // run.json is a file on disk like any other: what it says is checked with the schemas a start uses
      const parsed = Snapshot.safeParse(json.config);
      if (!parsed.success) {
        throw new EngineError('INVALID_CONFIG', `${path.join(runDir, 'run.json')}: its config is not a run this trainer can continue: ${formatConfigIssues(parsed.error, ['config'])}; fix the field, or start a new run`);
      }
      const snapshot = parsed.data;
      checkSpec(snapshot.spec);
      const backend = await selectBackend(opts.backend ?? json.backend.name);
      if (backend.name !== json.backend.name) {
        opts.onEvent?.({ type: 'log', level: 'warning', message: `resuming on ${backend.name}, not ${json.backend.name} as before: the curve continues, but not bit for bit` });
      }
      opts.onEvent?.({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
      return await Trainer.build(run, snapshot.spec, backend, { ...opts, baseDir: opts.baseDir ?? snapshot.baseDir }, true);
    } catch (err) {
      await run.close();
      throw err;
    }
  }

  private static async build(run: RunFolder, spec: RunSpec, backend: BackendInfo, opts: TrainerOptions, resuming: boolean): Promise<Trainer> {
    const p = spec.pretrain;
    const emit = opts.onEvent ?? (() => {});
    const { objective, seqLen } = checkSpec(spec);
    if (p.mixedPrecision) {
      emit({ type: 'log', level: 'warning', message: `mixed precision was asked for, but TensorFlow.js has no float16 training kernels on ${backend.name}; this run trains in float32` });
    }
    const tokenizerFile = path.join(run.dir, TOKENIZER_FILE);
    const data = await prepareData(spec.dataset, spec.tokenizer, {
      objective, batchSize: p.batchSize, seqLen, maskProbability: p.maskProbability, evalBatches: p.evalBatches, seed: p.seed,
      baseDir: opts.baseDir, cacheDir: opts.cacheDir, tokenizerFile, reuseTokenizer: resuming && fs.existsSync(tokenizerFile),
      onProgress: (pr) => emit({ type: 'progress', ...pr }), onWarning: (message) => emit({ type: 'log', level: 'warning', message }), signal: opts.signal,
    });
    const modelConfig = { ...spec.model, vocabSize: spec.model.vocabSize ?? data.tokenizer.vocabSize };
    if (modelConfig.vocabSize < data.tokenizer.vocabSize) {
      throw new EngineError('INVALID_CONFIG', `model.vocabSize ${modelConfig.vocabSize} is smaller than the tokenizer's vocabulary of ${data.tokenizer.vocabSize}; remove vocabSize from the model cell to take the tokenizer's`, ['model', 'vocabSize']);
    }
    const parsed = ModelConfig.safeParse(modelConfig);
    if (!parsed.success) throw new EngineError('INVALID_CONFIG', formatConfigIssues(parsed.error, ['model']));
    checkMemory(parsed.data, p.batchSize, seqLen, backend.name);
    const model = createModel(parsed.data, p.seed);
    const optimizer = new AdamW(Object.fromEntries(model.variables), {
      lr: p.optimizer.lr, beta1: p.optimizer.beta1, beta2: p.optimizer.beta2, eps: p.optimizer.eps, weightDecay: p.optimizer.weightDecay,
    }, (name) => model.params.specs.find((s) => s.name === name)?.decay ?? false);
    const rng = new Rng((p.seed + 1) >>> 0);
    let step = 0;
    let tokensSeen = 0;
    let secondsBefore = 0;
    if (resuming) {
      await cleanCheckpointTemps(run.dir);
      const ck = await latestValidCheckpoint(run.dir, {
        onSkip: (name, problem) => emit({ type: 'log', level: 'warning', message: `checkpoint ${name} skipped: ${problem}` }),
        accept: (c) => (SamplerState.safeParse(c.manifest.rng).success ? null : 'its rng is not the state of this trainer\'s data sampler ({ "data": an integer })'),
      });
      if (ck) {
        restoreCheckpoint(ck, model.params, optimizer);
        step = ck.manifest.step;
        tokensSeen = ck.manifest.tokensSeen;
        secondsBefore = typeof ck.manifest.extra.elapsedSeconds === 'number' ? ck.manifest.extra.elapsedSeconds : 0;
        rng.state = SamplerState.parse(ck.manifest.rng).data;
        await discardCheckpointsAfter(run.dir, step);
        emit({ type: 'log', level: 'info', message: `resumed from checkpoint ${ck.name} at step ${step}` });
      } else {
        emit({ type: 'log', level: 'warning', message: 'no valid checkpoint: the run starts again from step 0' });
      }
    }
    const log = await RunLog.open(run.dir, resuming ? { resumeStep: step } : {});
    await run.update({ status: 'running', step, tokensSeen, backend });
    return new Trainer(run, log, spec, model, optimizer, data, rng, backend, objective, p.steps, step, tokensSeen, secondsBefore, opts);
  }

  /** Pauses after the current step (a checkpoint is written first, so a pause is safe to walk away from). */
  pause(): void { this.paused = true; }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  /** Stops after the current step, with a checkpoint; `workbench resume` continues it later. */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  private emit(e: TrainerEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Trains to the last step (or until stopped / failed) and returns the summary. */
  async run(): Promise<RunSummary> {
    try {
      return await this.trainToEnd();
    } finally {
      await this.folder.close().catch(() => undefined); // the next writer (a resume) may take the run
    }
  }

  private async trainToEnd(): Promise<RunSummary> {
    const p = this.spec.pretrain;
    const lrs = schedule(p);
    const diagnostics = new Diagnostics();
    const groups = groupParams(this.model.params.names);
    const tokensPerStep = p.batchSize * this.data.validation[0].T * p.gradAccumSteps;
    let lastTrain: EvalResult | null = null;
    let lastVal: EvalResult | null = null;
    let lastEvalStep = -1;
    /** the validation loss of this step, when it was evaluated: it decides whether a checkpoint is the best */
    const valLossNow = () => (lastEvalStep === this.step ? lastVal!.loss : null);
    let trainSeconds = 0;
    this.elapsedSeconds = this.secondsBefore;
    let trainedSteps = 0;
    let stepSecondsEma = 0;
    let status: RunStatus = 'running';
    let error: SerializedError | undefined;
    let consistent = true; // false when an exception may have left a step half applied
    this.emit({ type: 'status', status: 'running', runId: this.runId, runDir: this.runDir });
    this.opts.signal?.addEventListener('abort', () => this.stop(), { once: true });

    try {
      while (this.step < this.totalSteps) {
        if (this.stopRequested) { status = 'cancelled'; break; }
        if (this.paused) {
          await this.checkpoint(valLossNow());
          await this.folder.setStatus('paused');
          this.emit({ type: 'status', status: 'paused', runId: this.runId, runDir: this.runDir });
          await new Promise<void>((resolve) => { this.wake = resolve; if (!this.paused || this.stopRequested) resolve(); });
          this.wake = null;
          if (this.stopRequested) { status = 'cancelled'; break; }
          await this.folder.setStatus('running');
          this.emit({ type: 'status', status: 'running', runId: this.runId, runDir: this.runDir });
        }

        const t0 = performance.now();
        const lr = learningRate(lrs, this.step);
        const batches = Array.from({ length: p.gradAccumSteps }, () => toBatch(this.data.trainBatch(this.rng)));
        // dropout masks seeded by run seed and step: a resumed run draws the ones the uninterrupted run would
        const { loss, grads } = computeGradients(this.model, batches, this.objective, ((p.seed * 1_000_003) ^ (this.step * p.gradAccumSteps)) >>> 0);
        batches.forEach((b) => tf.dispose(Object.values(b)));
        const layerNorms = layerGradNorms(groups, grads);
        const globalNorm = Math.sqrt(Object.values(layerNorms).reduce((s, n) => s + n * n, 0));
        const found = diagnostics.step(this.step + 1, loss, globalNorm, layerNorms);
        found.forEach((d) => this.emit({ type: 'diagnostic', diagnostic: d }));
        const fatal = found.find((d) => d.severity === 'error');
        if (fatal) {
          tf.dispose(Object.values(grads));
          status = 'failed';
          error = { code: 'INTERNAL', message: `${fatal.message} ${fatal.advice}` };
          break;
        }
        const before = snapshotGroups(this.model, groups);
        const gradHist = (this.step + 1) % p.evalInterval === 0 || this.step + 1 === this.totalSteps ? hostCopies(grads) : null;
        applyUpdate(this.optimizer, grads, lr, p.clipNorm || undefined);
        const ratios = updateRatios(this.model, groups, before);
        this.step += 1;
        this.tokensSeen += tokensPerStep;
        const seconds = (performance.now() - t0) / 1000;
        trainSeconds += seconds;
        this.elapsedSeconds = this.secondsBefore + trainSeconds;
        trainedSteps += 1;
        stepSecondsEma = trainedSteps === 1 ? seconds : 0.9 * stepSecondsEma + 0.1 * seconds;

        const scalars: Record<string, number> = {
          'train/loss': loss,
          'train/lr': lr,
          'grad/global_norm': globalNorm,
          'perf/tokens_per_s': tokensPerStep / seconds,
          'progress/elapsed_s': this.elapsedSeconds,
        };
        for (const [g, n] of Object.entries(layerNorms)) scalars[`grad_norm/${g}`] = n;
        for (const [g, r] of Object.entries(ratios)) scalars[`update_ratio/${g}`] = r;

        const evalNow = this.step % p.evalInterval === 0 || this.step === this.totalSteps;
        if (evalNow) {
          lastTrain = evaluate(this.model, this.data.trainSample, this.objective);
          lastVal = evaluate(this.model, this.data.validation, this.objective);
          lastEvalStep = this.step;
          Object.assign(scalars, evalScalars('train', lastTrain), evalScalars('val', lastVal));
          this.emit({ type: 'eval', step: this.step, train: lastTrain, val: lastVal });
          diagnostics.evaluation(this.step, lastTrain.loss, lastVal.loss).forEach((d) => this.emit({ type: 'diagnostic', diagnostic: d }));
        }
        const etaSeconds = (this.totalSteps - this.step) * stepSecondsEma;
        await this.log.log({ step: this.step, tokens: this.tokensSeen, scalars });
        this.emit({ type: 'step', step: this.step, totalSteps: this.totalSteps, tokens: this.tokensSeen, scalars, etaSeconds });
        if (evalNow) {
          await this.log.histograms(this.step, { ...weightCopies(this.model), ...prefixed('grads/', gradHist ?? {}) });
        }
        const valLoss = valLossNow();
        if (this.step % p.checkpointInterval === 0 || (valLoss !== null && this.isBest(valLoss))) await this.checkpoint(valLoss);
        await this.folder.update({ step: this.step, tokensSeen: this.tokensSeen });
      }
      if (status === 'running') status = 'completed';
    } catch (err) {
      status = 'failed';
      error = toSerialized(err);
      consistent = false;
    }

    // The last state, as a checkpoint to resume or export from. A non-finite loss stops before the update,
    // so the weights are still the last good ones; after an exception they may not be, and earlier checkpoints stand.
    if (consistent) {
      try {
        await this.checkpoint(valLossNow());
      } catch (err) {
        this.emit({ type: 'log', level: 'warning', message: `the final checkpoint could not be written (${(err as Error).message}); earlier ones stand` });
      }
    }
    await this.log.close();
    await this.folder.update({ status, step: this.step, tokensSeen: this.tokensSeen, ...(error ? { error } : {}) });
    this.emit({ type: 'status', status, runId: this.runId, runDir: this.runDir, ...(error ? { message: error.message } : {}) });
    const summary: RunSummary = {
      run_id: this.runId,
      run_dir: this.runDir,
      status,
      steps: this.step,
      final_train_loss: lastTrain?.loss ?? null,
      final_val_loss: lastVal?.loss ?? null,
      best_val_loss: this.folder.json.bestValLoss,
      tokens_per_s: trainSeconds > 0 ? (trainedSteps * tokensPerStep) / trainSeconds : null,
      tokens_seen: this.tokensSeen,
      backend: this.backend,
      precision: 'float32',
      ...(lastVal?.mlmAccuracy !== undefined ? { mlm_accuracy: lastVal.mlmAccuracy } : {}),
      ...(lastVal?.nspAccuracy !== undefined ? { nsp_accuracy: lastVal.nspAccuracy } : {}),
      ...(error ? { error } : {}),
    };
    this.dispose();
    return summary;
  }

  private isBest(valLoss: number): boolean {
    const best = this.folder.json.bestValLoss;
    return best === null || valLoss < best;
  }

  private lastCheckpointStep = -1;

  /** A checkpoint of this step (once per step), with the data RNG as its position; best when valLoss beats the best so far. */
  private async checkpoint(valLoss: number | null): Promise<void> {
    if (this.lastCheckpointStep === this.step) return;
    await this.log.sync(); // the curves on disk reach at least the checkpoint's step
    const saved = await saveCheckpoint(this.folder.dir, {
      step: this.step, tokensSeen: this.tokensSeen, params: this.model.params, optimizer: this.optimizer,
      rng: { data: this.rng.state }, dataPosition: { step: this.step }, valLoss, extra: { elapsedSeconds: this.elapsedSeconds },
    }, { keepLast: this.spec.pretrain.keepCheckpoints });
    this.lastCheckpointStep = this.step;
    const patch: Partial<RunJson> = { lastCheckpoint: saved.name as RunJson['lastCheckpoint'] };
    if (saved.isBest && valLoss !== null) patch.bestValLoss = valLoss;
    await this.folder.update(patch);
    this.emit({ type: 'checkpoint', step: this.step, name: saved.name, best: saved.isBest });
  }

  private dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

function toSerialized(err: unknown): SerializedError {
  if (err instanceof EngineError) return err.toJSON();
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** √Σg² per layer group, over the parameters that have a gradient; a group with none is left out. */
function layerGradNorms(groups: Map<string, string[]>, grads: Record<string, tf.Tensor>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [g, names] of groups) {
    const present = names.filter((n) => n in grads);
    if (!present.length) continue;
    const s = fused.sumOfSquares(present.map((n) => grads[n]));
    out[g] = Math.sqrt(s.dataSync()[0]);
    s.dispose();
  }
  return out;
}

function snapshotGroups(model: AnyModel, groups: Map<string, string[]>): Map<string, tf.Tensor[]> {
  return new Map([...groups].map(([g, names]) => [g, names.map((n) => tf.clone(model.params.get(n)))]));
}

/** ‖θ_after − θ_before‖ / ‖θ_before‖ per layer: how far one step moved it, relative to its size (~1e-3 is healthy). */
function updateRatios(model: AnyModel, groups: Map<string, string[]>, before: Map<string, tf.Tensor[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [g, names] of groups) {
    const old = before.get(g)!;
    const [delta, base] = tf.tidy(() => {
      const d = fused.sumOfSquares(names.map((n, i) => tf.sub(model.params.get(n), old[i])));
      const b = fused.sumOfSquares(old);
      return [d.dataSync()[0], b.dataSync()[0]];
    });
    out[g] = base > 0 ? Math.sqrt(delta / base) : 0;
    tf.dispose(old);
  }
  return out;
}

function hostCopies(grads: Record<string, tf.Tensor>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, g.dataSync() as Float32Array]));
}

function weightCopies(model: AnyModel): Record<string, Float32Array> {
  return Object.fromEntries(model.params.names.map((n) => [`weights/${n}`, model.params.get(n).dataSync() as Float32Array]));
}

function prefixed<T>(prefix: string, o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v]));
}

/** val/loss, val/perplexity, …; the training estimate is train/eval_loss, apart from the per-step train/loss. */
function evalScalars(split: 'train' | 'val', r: EvalResult): Record<string, number> {
  const s: Record<string, number> = { [split === 'val' ? 'val/loss' : 'train/eval_loss']: r.loss, [`${split}/perplexity`]: r.perplexity };
  if (r.mlmAccuracy !== undefined) s[`${split}/mlm_accuracy`] = r.mlmAccuracy;
  if (r.nspAccuracy !== undefined) s[`${split}/nsp_accuracy`] = r.nspAccuracy;
  return s;
}
