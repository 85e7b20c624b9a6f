/**
 * The one training loop every task runs in (./task.ts): per step, the task's gradients (with accumulation),
 * diagnostics, clipping, AdamW on the schedule; metrics.jsonl and TensorBoard every step; the task's
 * evaluation every evalInterval steps; a checkpoint every checkpointInterval steps, at a new best validation
 * loss, on pause and at the end; after each evaluation, the task's attention statistics (attention-stats.jsonl). Pause, resume and stop act between steps. Everything a step draws comes
 * from the data RNG and the step number, so a run resumed from a checkpoint computes, on the same backend,
 * exactly what the uninterrupted run would have.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../../common/backends';
import { toSerializedError, type SerializedError } from '../../common/errors';
import { ATTENTION_STATS_FILE } from '../../common/node/runFiles';
import type { RunEvent, RunSummary } from '../../common/runEvents';
import type { RunJson, RunStatus } from '../../common/runFolder';
import { saveCheckpoint } from '../runs/checkpoint';
import type { RunLog } from '../runs/metricsLog';
import type { RunFolder } from '../runs/runFolder';
import type { Rng } from '../util/random';
import { AdamW } from './adamw';
import { Diagnostics } from './diagnostics';
import type { EvalResult } from './evaluate';
import { groupParams } from './layerGroups';
import { learningRate } from './schedule';
import { evalScalars, headScalars, hostCopies, layerGradNorms, prefixed, snapshotGroups, updateRatios, weightCopies } from './stepStats';
import type { LoopSettings, TrainingTask } from './task';
import { applyUpdate } from './trainStep';

/** Where a run stands when the loop takes it over: step 0 for a new run, a checkpoint's position for a resumed one. */
export interface LoopPosition {
  step: number;
  tokensSeen: number;
  /** training time of earlier sessions, so that elapsed time continues */
  secondsBefore: number;
}

export interface TrainingLoopOptions {
  folder: RunFolder;
  log: RunLog;
  task: TrainingTask;
  optimizer: AdamW;
  settings: LoopSettings;
  backend: BackendInfo;
  /** the data sampler; its state is what a checkpoint records as the data position */
  rng: Rng;
  position: LoopPosition;
  onEvent?: (e: RunEvent) => void;
  /** aborting stops the run after the current step, as stop() does */
  signal?: AbortSignal;
}

/** The optimizer of a task: AdamW over its trainable parameters, decaying those its model marks for decay (no biases, no norms). */
export function createOptimizer(task: TrainingTask, settings: LoopSettings): AdamW {
  const decays = new Map(task.model.params.specs.map((s) => [s.name, s.decay]));
  const params = Object.fromEntries(task.trainable.map((name) => [name, task.model.params.get(name) as tf.Variable]));
  return new AdamW(params, { ...settings.optimizer, lr: settings.schedule.lr }, (name) => decays.get(name) ?? false);
}

/** What the last evaluation found, and at which step. */
interface Evaluated { step: number; train: EvalResult; val: EvalResult }

export class TrainingLoop {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  private step: number;
  private tokensSeen: number;
  private elapsedSeconds: number;
  private lastCheckpointStep = -1;
  private lastEval: Evaluated | null = null;
  /** this session's training time and steps (evaluation excluded), for tokens/s and the ETA */
  private sessionSeconds = 0;
  private sessionSteps = 0;
  private stepSecondsEma = 0;
  private probeCostStated = false;
  private readonly diagnostics = new Diagnostics();
  /** layer groups of the trainable parameters, for per-layer gradient norms and update ratios */
  private readonly groups: Map<string, string[]>;

  constructor(private readonly o: TrainingLoopOptions) {
    this.step = o.position.step;
    this.tokensSeen = o.position.tokensSeen;
    this.elapsedSeconds = o.position.secondsBefore;
    this.groups = groupParams([...o.task.trainable]);
  }

  get runDir(): string { return this.o.folder.dir; }
  get runId(): string { return this.o.folder.id; }

  /** Pauses after the current step (a checkpoint is written first, so a pause is safe to walk away from). */
  pause(): void { this.paused = true; }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  /** Stops after the current step, with a checkpoint; a later resume continues it. */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  private emit(e: RunEvent): void {
    this.o.onEvent?.(e);
  }

  private emitStatus(status: RunStatus | 'preparing', message?: string): void {
    this.emit({ type: 'status', status, runId: this.runId, runDir: this.runDir, ...(message ? { message } : {}) });
  }

  /** Trains to the last step (or until stopped or failed), then checkpoints, closes the run and returns its summary. */
  async run(): Promise<RunSummary> {
    const { settings, folder } = this.o;
    let status: RunStatus = 'running';
    let error: SerializedError | undefined;
    let consistent = true; // false when an exception may have left a step half applied
    this.emitStatus('running');
    this.o.signal?.addEventListener('abort', () => this.stop(), { once: true });
    try {
      try {
        while (this.step < settings.steps) {
          if (this.stopRequested || !(await this.waitWhilePaused())) { status = 'cancelled'; break; }
          const failed = await this.trainOneStep();
          if (failed) { status = 'failed'; error = failed; break; }
        }
        if (status === 'running') status = 'completed';
      } catch (err) {
        status = 'failed';
        error = toSerializedError(err);
        consistent = false;
      }
      // The last state, as a checkpoint to resume or export from. A non-finite loss stops before the update,
      // so the weights are still the last good ones; after an exception they may not be, and earlier checkpoints stand.
      if (consistent) {
        try {
          await this.checkpoint(this.valLossNow());
        } catch (err) {
          this.emit({ type: 'log', level: 'warning', message: `the final checkpoint could not be written (${(err as Error).message}); earlier ones stand` });
        }
      }
      await this.o.log.close();
      await folder.update({ status, step: this.step, tokensSeen: this.tokensSeen, ...(error ? { error } : {}) });
      this.emitStatus(status, error?.message);
      return this.summary(status, error);
    } finally {
      this.o.optimizer.dispose();
      this.o.task.dispose();
      await folder.close().catch(() => undefined); // the next writer (a resume) may take the run
    }
  }

  /** While paused: checkpoint, say so, and wait. False when a stop came meanwhile. */
  private async waitWhilePaused(): Promise<boolean> {
    if (!this.paused) return true;
    await this.checkpoint(this.valLossNow());
    await this.o.folder.setStatus('paused');
    this.emitStatus('paused');
    await new Promise<void>((resolve) => { this.wake = resolve; if (!this.paused || this.stopRequested) resolve(); });
    this.wake = null;
    if (this.stopRequested) return false;
    await this.o.folder.setStatus('running');
    this.emitStatus('running');
    return true;
  }

  /** One optimizer step and everything logged after it; the error that stops the run (a non-finite loss), or null. */
  private async trainOneStep(): Promise<SerializedError | null> {
    const { task, settings, optimizer } = this.o;
    const t0 = performance.now();
    const lr = learningRate(settings.schedule, this.step);
    // dropout masks seeded by run seed and step: a resumed run draws the ones the uninterrupted run would
    const dropoutSeed = ((settings.seed * 1_000_003) ^ (this.step * settings.gradAccumSteps)) >>> 0;
    const { loss, grads } = task.gradients(this.o.rng, settings.gradAccumSteps, dropoutSeed);
    const layerNorms = layerGradNorms(this.groups, grads);
    const globalNorm = Math.sqrt(Object.values(layerNorms).reduce((s, n) => s + n * n, 0));
    const found = this.diagnostics.step(this.step + 1, loss, globalNorm, layerNorms);
    found.forEach((d) => this.emit({ type: 'diagnostic', diagnostic: d }));
    const fatal = found.find((d) => d.severity === 'error');
    if (fatal) {
      tf.dispose(Object.values(grads));
      return { code: 'INTERNAL', message: `${fatal.message} ${fatal.advice}` };
    }
    const evalDue = (this.step + 1) % settings.evalInterval === 0 || this.step + 1 === settings.steps;
    const before = snapshotGroups(task.model, this.groups);
    const gradHistograms = evalDue ? hostCopies(grads) : null;
    applyUpdate(optimizer, grads, lr, settings.clipNorm);
    const ratios = updateRatios(task.model, this.groups, before);
    this.step += 1;
    this.tokensSeen += task.tokensPerStep;
    const taskScalars = task.afterStep?.(this.step);
    const seconds = (performance.now() - t0) / 1000;
    this.sessionSeconds += seconds;
    this.sessionSteps += 1;
    this.elapsedSeconds += seconds;
    this.stepSecondsEma = this.sessionSteps === 1 ? seconds : 0.9 * this.stepSecondsEma + 0.1 * seconds;

    const scalars: Record<string, number> = {
      'train/loss': loss,
      'train/lr': lr,
      'grad/global_norm': globalNorm,
      'perf/tokens_per_s': task.tokensPerStep / seconds,
      'progress/elapsed_s': this.elapsedSeconds,
    };
    if (taskScalars) Object.assign(scalars, taskScalars);
    for (const [g, n] of Object.entries(layerNorms)) scalars[`grad_norm/${g}`] = n;
    for (const [g, r] of Object.entries(ratios)) scalars[`update_ratio/${g}`] = r;
    if (evalDue) Object.assign(scalars, await this.evaluateNow());

    await this.o.log.log({ step: this.step, tokens: this.tokensSeen, scalars });
    this.emit({ type: 'step', step: this.step, totalSteps: settings.steps, tokens: this.tokensSeen, scalars, etaSeconds: (settings.steps - this.step) * this.stepSecondsEma });
    if (evalDue) await this.o.log.histograms(this.step, { ...weightCopies(task.model), ...prefixed('grads/', gradHistograms ?? {}) });
    const valLoss = this.valLossNow();
    if (this.step % settings.checkpointInterval === 0 || (valLoss !== null && this.isBest(valLoss))) await this.checkpoint(valLoss);
    await this.o.folder.update({ step: this.step, tokensSeen: this.tokensSeen });
    return null;
  }

  /** The task's evaluation at this step, reported and diagnosed, then its attention probe; their scalars for metrics.jsonl. */
  private async evaluateNow(): Promise<Record<string, number>> {
    const t0 = performance.now();
    const { train, val } = await this.o.task.evaluate(this.step);
    this.lastEval = { step: this.step, train, val };
    this.emit({ type: 'eval', step: this.step, train, val });
    this.diagnostics.evaluation(this.step, train.loss, val.loss).forEach((d) => this.emit({ type: 'diagnostic', diagnostic: d }));
    return { ...evalScalars('train', train), ...evalScalars('val', val), ...(await this.probeAttention((performance.now() - t0) / 1000)) };
  }

  /**
   * The task's head statistics on its probe set, to attention-stats.jsonl; the first time in a session the
   * run log states their cost beside the evaluation's. Their scalars for metrics.jsonl and TensorBoard.
   */
  private async probeAttention(evalSeconds: number): Promise<Record<string, number>> {
    if (!this.o.task.probeAttention) return {};
    const t0 = performance.now();
    const { stats, sequences, seqLen } = this.o.task.probeAttention();
    const seconds = (performance.now() - t0) / 1000;
    await this.o.log.attentionStats({ step: this.step, wallTime: Date.now() / 1000, seconds, sequences, seqLen, stats });
    if (!this.probeCostStated) {
      this.probeCostStated = true;
      this.emit({ type: 'log', level: 'info', message: `attention statistics on the probe set (${sequences} held-out sequences of ${seqLen} tokens${stats.induction ? ' and the induction probe' : ''}) take ${(seconds * 1000).toFixed(0)} ms per evaluation, beside ${(evalSeconds * 1000).toFixed(0)} ms for the evaluation itself; they go to ${ATTENTION_STATS_FILE}` });
    }
    return headScalars(stats);
  }

  /** The validation loss of this step, when it was evaluated: it decides whether a checkpoint is the best. */
  private valLossNow(): number | null {
    return this.lastEval?.step === this.step ? this.lastEval.val.loss : null;
  }

  private isBest(valLoss: number): boolean {
    const best = this.o.folder.json.bestValLoss;
    return best === null || valLoss < best;
  }

  /** A checkpoint of this step (once per step), with the data RNG as its position; best when valLoss beats the best so far. */
  private async checkpoint(valLoss: number | null): Promise<void> {
    if (this.lastCheckpointStep === this.step) return;
    const { folder, task, optimizer, rng, settings } = this.o;
    await this.o.log.sync(); // the curves on disk reach at least the checkpoint's step
    const saved = await saveCheckpoint(folder.dir, {
      step: this.step, tokensSeen: this.tokensSeen, params: task.model.params, optimizer,
      rng: { data: rng.state }, dataPosition: { step: this.step }, valLoss, extra: { elapsedSeconds: this.elapsedSeconds },
    }, { keepLast: settings.keepCheckpoints });
    this.lastCheckpointStep = this.step;
    const patch: Partial<RunJson> = { lastCheckpoint: saved.name as RunJson['lastCheckpoint'] };
    if (saved.isBest && valLoss !== null) patch.bestValLoss = valLoss;
    await folder.update(patch);
    this.emit({ type: 'checkpoint', step: this.step, name: saved.name, best: saved.isBest });
  }

  private summary(status: RunStatus, error?: SerializedError): RunSummary {
    const val = this.lastEval?.val;
    return {
      run_id: this.runId,
      run_dir: this.runDir,
      status,
      steps: this.step,
      final_train_loss: this.lastEval?.train.loss ?? null,
      final_val_loss: val?.loss ?? null,
      best_val_loss: this.o.folder.json.bestValLoss,
      tokens_per_s: this.sessionSeconds > 0 ? (this.sessionSteps * this.o.task.tokensPerStep) / this.sessionSeconds : null,
      tokens_seen: this.tokensSeen,
      backend: this.o.backend,
      precision: 'float32',
      ...(val?.mlmAccuracy !== undefined ? { mlm_accuracy: val.mlmAccuracy } : {}),
      ...(val?.nspAccuracy !== undefined ? { nsp_accuracy: val.nspAccuracy } : {}),
      ...(error ? { error } : {}),
    };
  }
}
