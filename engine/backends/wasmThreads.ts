/**
 * Multithreaded XNNPACK for the wasm backend under Node.
 *
 * tfjs-backend-wasm 4.22 hard-codes `WASM_HAS_MULTITHREAD_SUPPORT` to false under Node (tfjs issue
 * 3830). Three things stand between its threaded-SIMD binary and Node's worker_threads, and this
 * module bridges each, for the duration of the backend's initialisation only:
 *
 * 1. The emscripten glue spawns each pthread as `new Worker(locateFile('...worker.js'))`, and tfjs's
 *    locateFile answers with `URL.createObjectURL(blob)` — a `blob:` URL that Node's Worker cannot
 *    open. We answer that one call (the only Blob of type application/javascript it makes) with
 *    the path of a small CommonJS worker shim written to the temp folder.
 * 2. The worker then receives the main script as a Blob and would `importScripts` it, which the
 *    Node half of the emscripten worker cannot do with a blob. The shim instead `require`s the
 *    same emscripten glue that the package ships in wasm-out/ (the bundle's copy is built from it).
 * 3. backend.cc caps the thread pool at `os.cpus().length / 2` (it assumes hyper-threading), so on a
 *    2-core machine it always made one thread. During initialisation `os.cpus()` reports at least
 *    2 × the requested threads.
 *
 * Everything is checked before it is used (SharedArrayBuffer, wasm threads, the glue file, a worker
 * that loads it); when any check fails the backend stays single-threaded and the reason is returned.
 * emscripten pre-spawns 8 workers (PTHREAD_POOL_SIZE), so at most 8 threads can be asked for.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import workerThreads, { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

/** emscripten's PTHREAD_POOL_SIZE in tfjs-backend-wasm 4.22 */
export const MAX_WASM_THREADS = 8;

export interface WasmThreadsPlan {
  /** threads asked of XNNPACK (1 = the single-threaded SIMD binary) */
  threads: number;
  /** why the threaded binary is not used, when it is not */
  reason?: string;
  /** undoes the temporary patches; call once the backend is ready (or failed) */
  restore(): void;
}

/** The wasm program of wasm-feature-detect's `threads` test (shared memory + atomics). */
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5,
  4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
]);

function gluePaths(): { glue: string; worker: string } {
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  return { glue, worker: glue.replace(/\.js$/, '.worker.js') };
}

function shimSource(glue: string, workerContents: string): string {
  // The worker contents are the emscripten worker of the package, unchanged except that literal
  // newlines inside its string literals are escaped again (tfjs does the same before making its blob).
  return `"use strict";
// Written by engine/backends/wasmThreads.ts: the pthread worker of tfjs-backend-wasm's threaded
// SIMD build, made loadable by Node's worker_threads.
var __tfjsGlue = ${JSON.stringify(glue)};
var __wt = require("worker_threads");
if (__wt.workerData && __wt.workerData.tfjsWasmThreadsProbe) {
  var __f = require(__tfjsGlue);
  __wt.parentPort.postMessage(typeof __f === "function" ? "ok" : "glue is not a factory");
} else {
${workerContents.replace(/\n/g, '\\n')}
  // The main script arrives as a Blob, which Node cannot import synchronously: load the same glue
  // from the package instead.
  globalThis.importScripts = function () { globalThis.WasmBackendModuleThreadedSimd = require(__tfjsGlue); };
  URL.createObjectURL = function () { return "tfjs-backend-wasm-main-script"; };
  URL.revokeObjectURL = function () {};
}
`;
}

let shimPathCache: string | undefined;

function writeShim(): string {
  if (shimPathCache && fs.existsSync(shimPathCache)) return shimPathCache;
  const { glue, worker } = gluePaths();
  const contents = (require(worker) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
  if (typeof contents !== 'string') throw new Error(`${worker} has no wasmWorkerContents`);
  const src = shimSource(glue, contents);
  const hash = crypto.createHash('sha256').update(src).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `tfjs-wasm-pthread-${hash}.cjs`);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== src) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, src);
    fs.renameSync(tmp, file);
  }
  shimPathCache = file;
  return file;
}

/** Starts one worker from the shim and waits for it to load the glue. */
function probeShim(file: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, { workerData: { tfjsWasmThreadsProbe: true }, execArgv: [] });
    const timer = setTimeout(() => { void w.terminate(); reject(new Error('the pthread worker did not start in time')); }, timeoutMs);
    w.once('message', (m) => {
      clearTimeout(timer);
      void w.terminate();
      if (m === 'ok') resolve(); else reject(new Error(String(m)));
    });
    w.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

let probed: Promise<void> | undefined;

interface PThreadLike { unusedWorkers?: Worker[]; runningWorkers?: Worker[] }

/**
 * XNNPACK's pool threads run for the life of the backend, and emscripten keeps a running
 * pthread's worker referenced, so the process would never exit on its own: unreference them.
 */
export function unrefWasmWorkers(): void {
  let pthread: PThreadLike | undefined;
  try {
    pthread = (tf.findBackend('wasm') as unknown as { wasm?: { PThread?: PThreadLike } } | null)?.wasm?.PThread;
  } catch { return; }
  for (const w of [...(pthread?.unusedWorkers ?? []), ...(pthread?.runningWorkers ?? [])]) w.unref?.();
}

function single(threads: number, reason?: string): WasmThreadsPlan {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return { threads: 1, reason: threads > 1 ? reason : undefined, restore() {} };
}

/**
 * Prepares the wasm backend to start with `threads` XNNPACK threads. Call it after importing
 * '@tensorflow/tfjs-backend-wasm' and before `tf.setBackend('wasm')`, then call `restore()` once
 * the backend is ready. Has no effect once the wasm backend has been initialised in this process.
 */
export async function prepareWasmThreads(threads: number): Promise<WasmThreadsPlan> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const n = Math.max(1, Math.min(MAX_WASM_THREADS, Math.floor(threads)));
  wasm.setThreadsCount(n);
  if (n === 1) return single(threads);
  if (typeof SharedArrayBuffer === 'undefined') return single(threads, 'SharedArrayBuffer is not available');
  try {
    // (tsconfig has no DOM lib, so WebAssembly is untyped here)
    const wa = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Memory: new (d: object) => unknown } }).WebAssembly;
    if (!wa.validate(THREADS_PROBE)) return single(threads, 'this runtime lacks WebAssembly threads');
    new wa.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return single(threads, `this runtime lacks WebAssembly threads (${(e as Error).message})`);
  }
  let file: string;
  try {
    file = writeShim();
    probed ??= probeShim(file);
    await probed;
  } catch (e) {
    probed = undefined;
    return single(threads, `the pthread worker shim failed: ${(e as Error).message.split('\n')[0]}`);
  }

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? file : realCreateObjectURL(obj);
  os.cpus = () => {
    const cpus = realCpus();
    const out = cpus.slice();
    while (out.length < 2 * n) out.push(cpus[0] ?? ({ model: 'unknown', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }));
    return out;
  };
  // The glue starts its workers as `new Worker(path)`, so they would inherit this process's
  // execArgv (e.g. tsx's loader, which costs each of the 8 workers tens of ms): start them bare.
  const RealWorker = workerThreads.Worker;
  class BareWorker extends RealWorker {
    constructor(filename: string | URL, options?: ConstructorParameters<typeof Worker>[1]) {
      super(filename, { execArgv: [], ...options });
    }
  }
  (workerThreads as { Worker: typeof Worker }).Worker = BareWorker;
  let restored = false;
  return {
    threads: n,
    restore() {
      if (restored) return;
      restored = true;
      URL.createObjectURL = realCreateObjectURL;
      os.cpus = realCpus;
      (workerThreads as { Worker: typeof Worker }).Worker = RealWorker;
      unrefWasmWorkers();
    },
  };
}
