/**
 * Chooses the TensorFlow.js backend a run computes on: the best one present (CUDA, native CPU,
 * wasm, plain JS), or the one the user forces. Every result carries the BackendInfo this returns.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients, and its ESM build does not load in plain Node; the
// @tensorflow/tfjs bundle registers them all (into core's global registry). Every run selects a backend first.
import '@tensorflow/tfjs';
import { BACKEND_INSTALL_HINT, BACKEND_PREFERENCE, type BackendInfo, type BackendName, type BackendRequest } from '../../common/backends';
import { EngineError } from '../../common/errors';
import { registerWasmKernelPatches } from './wasmKernels';
import { prepareWasmThreads, type WasmThreadsPlan } from './wasmThreads';

const require = createRequire(import.meta.url);

interface Candidate {
  pkg: string;
  tfBackend: string;
  /** loads the package (which registers its backend); throws when it is absent or broken */
  load(): Promise<void>;
}

const CANDIDATES: Record<BackendName, Candidate> = {
  'node-gpu': { pkg: '@tensorflow/tfjs-node-gpu', tfBackend: 'tensorflow', load: async () => { await import('@tensorflow/tfjs-node-gpu' as string); } },
  node: { pkg: '@tensorflow/tfjs-node', tfBackend: 'tensorflow', load: async () => { await import('@tensorflow/tfjs-node' as string); } },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', tfBackend: 'wasm', load: async () => { await import('@tensorflow/tfjs-backend-wasm'); } },
  cpu: { pkg: '@tensorflow/tfjs-backend-cpu', tfBackend: 'cpu', load: async () => { await import('@tensorflow/tfjs-backend-cpu'); } },
};

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function cpuDevice(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} cores, ${os.arch()})`;
}

export interface BackendOptions {
  /** wasm: XNNPACK threads; default: one per core (at most 4) */
  threads?: number;
}

// TF.js's warnings only advise on backend choice ("install tfjs-node"), which this module makes and reports itself.
tf.env().set('PROD', true);

async function activate(name: BackendName, opts: BackendOptions): Promise<BackendInfo> {
  const c = CANDIDATES[name];
  await c.load();
  let plan: WasmThreadsPlan | undefined;
  if (name === 'wasm') plan = await prepareWasmThreads(opts.threads ?? Math.min(4, Math.max(1, os.cpus().length)));
  try {
    if (!(await tf.setBackend(c.tfBackend))) throw new Error(`TensorFlow.js could not initialise the '${c.tfBackend}' backend`);
    await tf.ready();
  } finally {
    plan?.restore();
  }
  if (name === 'wasm') registerWasmKernelPatches();
  const info: BackendInfo = {
    name,
    tfBackend: c.tfBackend,
    package: c.pkg,
    version: packageVersion(c.pkg),
    device: name === 'node-gpu' ? 'CUDA GPU' : cpuDevice(),
    threads: 1,
  };
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    info.threads = Math.max(1, wasm.getThreadsCount());
    info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  } else if (name === 'node' || name === 'node-gpu') {
    info.threads = os.cpus().length;
  }
  return info;
}

/**
 * Activates the requested backend, or with 'auto' the best one that loads. Forcing an absent backend
 * fails with BACKEND_UNAVAILABLE and the command that installs it.
 */
export async function selectBackend(request: BackendRequest = 'auto', opts: BackendOptions = {}): Promise<BackendInfo> {
  if (request !== 'auto') {
    try {
      return await activate(request, opts);
    } catch (err) {
      throw new EngineError('BACKEND_UNAVAILABLE',
        `The '${request}' backend is not available here (${(err as Error).message.split('\n')[0]}). ` +
        `Install it with: ${BACKEND_INSTALL_HINT[request]}; or choose 'auto' to use the best backend present.`);
    }
  }
  const failures: string[] = [];
  for (const name of BACKEND_PREFERENCE) {
    try {
      return await activate(name, opts);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new EngineError('BACKEND_UNAVAILABLE', `No TensorFlow.js backend could be loaded (${failures.join('; ')}).`);
}

/** Which backends load on this machine, without leaving any of them active. */
export async function availableBackends(): Promise<BackendName[]> {
  const present: BackendName[] = [];
  for (const name of BACKEND_PREFERENCE) {
    try {
      require.resolve(CANDIDATES[name].pkg);
      present.push(name);
    } catch { /* not installed */ }
  }
  return present;
}

/** The backend TensorFlow.js computes on now (the native two share TF.js's 'tensorflow' backend: 'node' stands for both). */
export function activeBackend(): BackendName {
  const tfName = tf.getBackend();
  const names = (Object.keys(CANDIDATES) as BackendName[]).filter((n) => CANDIDATES[n].tfBackend === tfName);
  return names.includes('node') ? 'node' : (names[0] ?? 'cpu');
}
