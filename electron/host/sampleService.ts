/**
 * Text from a trained model, as the host serves it: inspect.sample starts the engine's sampling job and
 * hands its streamed pieces on as onSampleText events, then one onSampleEnded; inspect.stopSample stops it;
 * inspect.fillMask waits for its answer. A request is named by the run's handle (experiment file + run id)
 * and a request id the caller picks, so that the page listens before the first piece arrives; the engine's
 * job is named after that id. An engine that dies ends every request of ours as failed, saying so.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { toEngineError } from '../../common/engineClient';
import { EngineError } from '../../common/errors';
import { runDirOf } from '../../common/experiment';
import { RUN_JSON } from '../../common/node/runFiles';
import type { EngineEvent } from '../../common/protocol';
import { SampleProgressMetrics, type FillMaskParams, type FillMaskResult, type SampleResult, type SamplingParams } from '../../common/sampling';
import type { PayloadOf, WorkbenchEvent } from '../../common/workbenchApi';
import type { EngineSupervisor, SupervisorListener } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';
import { startTrackedJob } from './trackedJob';

type Emit = <E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>) => void;

export interface InspectTarget { experimentPath: string; runId: string; checkpoint: string }
export type SampleParams = InspectTarget & SamplingParams & { requestId: string };

interface TrackedSample {
  kind: 'sample';
  handle: { experimentPath: string; runId: string; requestId: string };
  maxNewTokens: number;
}
interface TrackedFill {
  kind: 'fillMask';
  settle: (outcome: { ok: true; result: FillMaskResult } | { ok: false; error: EngineError }) => void;
}

const sampleJobId = (requestId: string) => `sample-${requestId}`;

export class SampleService {
  /** by engine job id */
  private readonly jobs = new Map<string, TrackedSample | TrackedFill>();
  private readonly unsubscribe: () => void;

  constructor(private readonly engine: EngineSupervisor, private readonly files: ExperimentFiles, private readonly emit: Emit) {
    this.unsubscribe = engine.on((e) => this.onSupervisor(e));
  }

  dispose(): void {
    this.unsubscribe();
    this.endAll('the host is shutting down');
  }

  /** inspect.sample: resolves once the engine has accepted the job; the text follows as events. */
  async sample(p: SampleParams): Promise<Record<string, never>> {
    const jobId = sampleJobId(p.requestId);
    if (this.jobs.has(jobId)) throw new EngineError('BAD_MESSAGE', `request '${p.requestId}' is sampling now; give each request its own id`, ['requestId']);
    const { experimentPath, runId, checkpoint, requestId, ...sampling } = p;
    const runDir = await this.runDir(experimentPath, runId);
    const tracked: TrackedSample = { kind: 'sample', handle: { experimentPath, runId, requestId }, maxNewTokens: p.maxNewTokens };
    await startTrackedJob(this.engine, this.jobs, jobId, { kind: 'inspect.sample', runDir, checkpoint, ...sampling }, tracked);
    return {};
  }

  /** inspect.stopSample: the sample stops after its current token and ends cancelled. */
  async cancel(requestId: string): Promise<Record<string, never>> {
    const jobId = sampleJobId(requestId);
    if (!this.jobs.has(jobId)) throw new EngineError('JOB_NOT_FOUND', `request '${requestId}' is not sampling (it may have ended already)`, ['requestId']);
    await this.engine.request((c) => c.cancelJob(jobId));
    return {};
  }

  /** inspect.fillMask: the candidates at each [MASK], once the engine has them. */
  async fillMask(p: InspectTarget & FillMaskParams): Promise<FillMaskResult> {
    const { experimentPath, runId, checkpoint, ...fill } = p;
    const runDir = await this.runDir(experimentPath, runId);
    const jobId = `fillmask-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let settle!: TrackedFill['settle'];
    const done = new Promise<FillMaskResult>((resolve, reject) => {
      settle = (o) => (o.ok ? resolve(o.result) : reject(o.error));
    });
    done.catch(() => undefined);
    await startTrackedJob(this.engine, this.jobs, jobId, { kind: 'inspect.fillMask', runDir, checkpoint, ...fill }, { kind: 'fillMask', settle });
    return done;
  }

  /** The run's folder beside the experiment; in browser mode it must stay inside the workspace, links followed. */
  private async runDir(experimentPath: string, runId: string): Promise<string> {
    const file = await this.files.resolvePath(experimentPath, ['experimentPath']);
    const dir = runDirOf(file, runId);
    await this.files.resolvePath(path.join(dir, RUN_JSON), ['runId']);
    return dir;
  }

  private onSupervisor(e: SupervisorListener): void {
    if (e.type === 'event') this.onEngineEvent(e.event);
    else if (e.type === 'exited') this.endAll(`${e.reason}; the request ended with it`);
  }

  private onEngineEvent(event: EngineEvent): void {
    if (!('jobId' in event) || event.jobId === undefined) return;
    const job = this.jobs.get(event.jobId);
    if (!job) return;
    if (event.type === 'onJobProgress') {
      const m = SampleProgressMetrics.safeParse(event.metrics);
      if (job.kind !== 'sample' || !m.success || !event.message) return;
      this.emit('onSampleText', { ...job.handle, sample: m.data.sample, text: event.message, newTokens: event.step, maxNewTokens: job.maxNewTokens, tokensPerSecond: m.data.tokensPerSecond });
      return;
    }
    if (event.type !== 'onJobDone' && event.type !== 'onJobFailed' && event.type !== 'onJobCancelled') return;
    this.jobs.delete(event.jobId);
    if (job.kind === 'fillMask') {
      if (event.type === 'onJobDone') job.settle({ ok: true, result: event.result as FillMaskResult });
      else job.settle({ ok: false, error: event.type === 'onJobFailed' ? toEngineError(event.error) : new EngineError('JOB_CANCELLED', 'the fill-mask request was cancelled') });
      return;
    }
    if (event.type === 'onJobDone') this.emit('onSampleEnded', { ...job.handle, outcome: 'done', result: event.result as SampleResult });
    else if (event.type === 'onJobFailed') this.emit('onSampleEnded', { ...job.handle, outcome: 'failed', error: event.error });
    else this.emit('onSampleEnded', { ...job.handle, outcome: 'cancelled' });
  }

  private endAll(reason: string): void {
    const lost = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of lost) {
      if (job.kind === 'fillMask') job.settle({ ok: false, error: new EngineError('INTERNAL', reason) });
      else this.emit('onSampleEnded', { ...job.handle, outcome: 'failed', error: { code: 'INTERNAL', message: reason } });
    }
  }
}
