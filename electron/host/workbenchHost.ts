/**
 * The host: every WorkbenchApi method (common/workbenchApi.ts) implemented once, in plain Node, for both
 * transports — Electron's preload bridge and browser mode's WebSocket expose this one object.
 *
 * `call` validates the params with the method's schema, runs it, and validates the result before it
 * leaves; every failure is an EngineError (code + message + path) whose toJSON() is the SerializedError a
 * transport sends. `on` hands out WORKBENCH_EVENTS payloads, each checked against its schema.
 */
import { EngineError, toSerializedError } from '../../common/errors';
import {
  WORKBENCH_EVENTS, WORKBENCH_METHODS, parseParams,
  type PayloadOf, type ResultOfMethod, type WorkbenchEvent, type WorkbenchMethod,
} from '../../common/workbenchApi';
import { uploadDataFile } from './dataFiles';
import { EngineSupervisor, type EngineSupervisorOptions } from './engineSupervisor';
import { ExperimentFiles, type ExperimentFilesOptions } from './experimentFiles';
import { InspectService, inputOf } from './inspectService';
import { CompareService } from './compareService';
import { RunsService } from './runsService';
import { SampleService } from './sampleService';
import { ServeService } from './serveService';
import { formatIssues } from '../../common/zodIssues';

export interface WorkbenchHostOptions extends ExperimentFilesOptions {
  /** how the engine is started and supervised (fork function, entry, restart backoff) */
  engine?: EngineSupervisorOptions;
  /** start the engine now rather than on the first call that needs it; default true */
  startEngine?: boolean;
}

export interface WorkbenchHost {
  /** one WorkbenchApi call; rejects with an EngineError (`.toJSON()` is the wire's SerializedError) */
  call<M extends WorkbenchMethod>(method: M, params: unknown): Promise<ResultOfMethod<M>>;
  /** a method named at run time (a transport's raw request): unknown methods are refused the same way */
  callRaw(method: string, params: unknown): Promise<unknown>;
  on<E extends WorkbenchEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void;
  /** the shell's own events (onMenuCommand) go out through the same listeners */
  emit<E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>): void;
  readonly engine: EngineSupervisor;
  readonly files: ExperimentFiles;
  /** stops the engine and forgets every listener */
  dispose(): Promise<void>;
}

export function createWorkbenchHost(opts: WorkbenchHostOptions = {}): WorkbenchHost {
  const files = new ExperimentFiles(opts);
  const engine = new EngineSupervisor(opts.engine);
  const listeners = new Map<WorkbenchEvent, Set<(payload: unknown) => void>>();

  function emit<E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>): void {
    const checked = WORKBENCH_EVENTS[event].safeParse(payload);
    if (!checked.success) {
      // a host bug: say so loudly, but do not take the host down over one event
      console.error(`workbench host: refused to emit a malformed ${event}: ${formatIssues(checked.error)}`);
      return;
    }
    for (const l of listeners.get(event) ?? []) {
      try {
        l(checked.data);
      } catch (err) {
        console.error(`workbench host: a listener of ${event} threw: ${(err as Error).message}`);
      }
    }
  }

  const runs = new RunsService(engine, files, emit);
  const samples = new SampleService(engine, files, emit);
  const serve = new ServeService(files);
  const inspect = new InspectService(engine, files, emit);
  const compare = new CompareService(engine, files, emit);
  engine.on((e) => { if (e.type === 'status') emit('onEngineStatus', e.status); });

  type Handlers = { [M in WorkbenchMethod]: (params: ReturnType<typeof parseParams<M>> extends infer R ? R extends { ok: true; params: infer P } ? P : never : never) => Promise<unknown> };
  const handlers: Handlers = {
    'experiments.templates': async () => (await files.templates()).map(({ id, name, description }) => ({ id, name, description })),
    'experiments.create': (p) => files.create(p.template),
    'experiments.open': (p) => files.open(p.path),
    'experiments.save': (p) => files.save(p.path, p.doc, p.expectedMtimeMs),
    'experiments.saveState': (p) => files.saveState(p.path, p.state),
    'experiments.recent': () => files.recent(),
    'experiments.list': () => files.list(),
    'dataset.preview': (p) => runs.preview({ dataset: p.dataset as unknown as Record<string, unknown>, tokenizer: p.tokenizer as unknown as Record<string, unknown>, experimentPath: p.experimentPath, samples: p.samples }),
    'dataset.upload': (p) => uploadDataFile(files, p),
    'runs.start': (p) => runs.start(p),
    'runs.derive': (p) => runs.derive(p),
    'finetune.loraTargets': (p) => runs.loraTargets(p, p.patterns),
    'runs.classificationReport': (p) => runs.classificationReport(p),
    'runs.resume': (p) => runs.resume(p),
    'runs.control': (p) => runs.control(p, p.action),
    'runs.list': (p) => runs.list(p.experimentPath),
    'runs.metrics': (p) => runs.metrics(p, p.sinceStep),
    'runs.import': (p) => runs.importCheckpoint(p),
    'runs.export': (p) => runs.exportRun(p),
    'runs.exportTorch': (p) => runs.exportTorch(p),
    'inspect.sample': (p) => samples.sample(p),
    'inspect.stopSample': (p) => samples.cancel(p.requestId),
    'inspect.fillMask': (p) => samples.fillMask(p),
    'serve.start': (p) => serve.start(p, p.checkpoint),
    'serve.stop': (p) => serve.stop(p),
    'inspect.checkpoints': (p) => inspect.checkpoints(p),
    'inspect.open': (p) => inspect.open(p, p.checkpoint, inputOf(p)),
    'inspect.head': (p) => inspect.head(p, p.checkpoint, inputOf(p), p.layer, p.head),
    'inspect.replay': (p) => inspect.replay(p, inputOf(p)),
    'inspect.cancelReplay': (p) => inspect.cancel(p.jobId),
    'inspect.headHistory': (p) => inspect.headHistory(p, p.layer, p.head),
    'compare.start': (p) => compare.start(p),
    'compare.cancel': (p) => compare.cancel(p.jobId),
    'compare.read': (p) => compare.read(p),
    'compare.export': (p) => compare.export(p),
    'engine.status': async () => engine.getStatus(),
    'engine.restart': () => engine.restart(),
  };

  async function callRaw(method: string, params: unknown): Promise<unknown> {
    const parsed = parseParams(method, params);
    if (!parsed.ok) throw new EngineError(parsed.error.code, parsed.error.message, parsed.error.path);
    const m = parsed.method as WorkbenchMethod;
    let result: unknown;
    try {
      result = await (handlers[m] as (p: unknown) => Promise<unknown>)(parsed.params);
    } catch (err) {
      if (err instanceof EngineError) throw err;
      const e = toSerializedError(err);
      throw new EngineError(e.code, `${method}: ${e.message}`, e.path);
    }
    const checked = WORKBENCH_METHODS[m].result.safeParse(result);
    if (!checked.success) {
      throw new EngineError('INTERNAL', `${method} produced a result that breaks its schema (a host bug): ${formatIssues(checked.error)}`);
    }
    return checked.data;
  }

  if (opts.startEngine !== false) engine.start().catch(() => undefined);

  return {
    engine,
    files,
    call: <M extends WorkbenchMethod>(method: M, params: unknown) => callRaw(method, params) as Promise<ResultOfMethod<M>>,
    callRaw,
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: unknown) => void);
      return () => { set.delete(listener as (payload: unknown) => void); };
    },
    emit,
    async dispose() {
      runs.dispose();
      samples.dispose();
      await serve.dispose();
      inspect.dispose();
      compare.dispose();
      await engine.dispose();
      listeners.clear();
    },
  };
}
