/** Where a training step's time goes, by kernel: `npm run bench -- --profile`. */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../../common/backends';

export interface KernelCost { name: string; calls: number; ms: number }
export interface StepProfile { wallMs: number; kernelMs: number; calls: number; kernels: KernelCost[] }

/** Runs `step` once under tf.profile and sums kernel time by kernel name. */
export async function profileStep(step: () => void): Promise<StepProfile> {
  const t0 = performance.now();
  const info = await tf.profile(step);
  const wallMs = performance.now() - t0;
  const byName = new Map<string, KernelCost>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += ms;
    kernelMs += ms;
    byName.set(k.name, e);
  }
  const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms);
  return { wallMs, kernelMs, calls: info.kernels.length, kernels };
}

export function printProfile(backend: BackendInfo, p: StepProfile): void {
  console.log(`\nprofile of one step on ${backend.name} (${backend.threads} thread(s)): ${p.calls} kernel calls, ` +
    `${p.kernelMs.toFixed(1)} ms in kernels, ${p.wallMs.toFixed(1)} ms wall (profiling adds overhead)`);
  console.log('kernel                          calls      ms   share');
  for (const k of p.kernels.slice(0, 25)) {
    console.log(`${k.name.padEnd(30)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(1).padStart(8)} ${((100 * k.ms) / p.kernelMs).toFixed(1).padStart(6)}%`);
  }
}
