/**
 * Static activation ranges: the model runs on a few batches of its base's training data while an observer
 * watches the input of every int8 projection, and each input gets one symmetric scale, range / 127.
 *  - minmax: the range is the largest |x| seen (every value fits; one outlier coarsens the rest);
 *  - percentile: the given percentile of |x| (the outliers beyond it clip). Its values are kept in a
 *    bounded sample: past MAX_SAMPLE values it keeps every other one and then every other of what comes,
 *    so memory stays bounded whatever the batches, at the cost of an estimate on very long calibrations.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { EngineError } from '../../common/errors';
import { writeJsonAtomic } from '../../common/node/atomicWrite';
import type { ActivationQuant } from '../../common/compressConfig';
import type { Objective } from '../../common/pretrainConfig';
import type { AnyModel } from '../models/registry';
import { toBatch, type HostBatch } from '../training/pretrainData';
import { throwIfCancelled } from './cancel';

export interface Observer {
  observe(values: ArrayLike<number>): void;
  /** the |x| range the values call for; 0 when none was seen */
  range(): number;
}

export class MinMaxObserver implements Observer {
  private max = 0;
  observe(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.max = Math.max(this.max, Math.abs(values[i]));
  }
  range(): number { return this.max; }
}

/** Values of |x| a percentile observer keeps per projection input at most (4 MiB of float32). */
export const MAX_SAMPLE = 1 << 20;

export class PercentileObserver implements Observer {
  private sample = new Float32Array(1024);
  private size = 0;
  /** keep one value in `stride` of those seen */
  private stride = 1;
  private seen = 0;

  constructor(private readonly percentile: number, private readonly capacity = MAX_SAMPLE) {}

  observe(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++, this.seen++) {
      if (this.seen % this.stride !== 0) continue;
      if (this.size === this.capacity) { this.halve(); if (this.seen % this.stride !== 0) continue; }
      if (this.size === this.sample.length) { const grown = new Float32Array(Math.min(this.capacity, this.sample.length * 2)); grown.set(this.sample); this.sample = grown; }
      this.sample[this.size++] = Math.abs(values[i]);
    }
  }

  private halve(): void {
    let j = 0;
    for (let i = 0; i < this.size; i += 2) this.sample[j++] = this.sample[i];
    this.size = j;
    this.stride *= 2;
  }

  /** the smallest kept |x| with at least `percentile` % of the kept values at or below it */
  range(): number {
    if (!this.size) return 0;
    const sorted = this.sample.slice(0, this.size).sort();
    return sorted[Math.min(this.size - 1, Math.max(0, Math.ceil((this.percentile / 100) * this.size) - 1))];
  }
}

export function observerFor(a: ActivationQuant): Observer {
  return a.observer === 'minmax' ? new MinMaxObserver() : new PercentileObserver(a.percentile);
}

/**
 * One scale per projection input of `sites`, measured on `batches` (the model's objective computed on each,
 * heads included, so BERT's prediction transform is seen too). The model's activation view is restored after.
 */
export async function calibrate(model: AnyModel, batches: HostBatch[], objective: Objective, sites: ReadonlySet<string>, a: ActivationQuant, signal?: AbortSignal): Promise<Record<string, number>> {
  const observers = new Map<string, Observer>();
  const before = model.activationView;
  model.activationView = (site, x) => {
    if (sites.has(site)) {
      if (!observers.has(site)) observers.set(site, observerFor(a));
      observers.get(site)!.observe(x.dataSync());
    }
    return x;
  };
  try {
    for (const h of batches) {
      throwIfCancelled(signal, 'calibration');
      await new Promise((resolve) => setImmediate(resolve));
      tf.tidy(() => { model.loss(toBatch(h), objective); });
    }
  } finally {
    model.activationView = before;
  }
  return Object.fromEntries([...observers].map(([site, o]) => [site, Math.fround(o.range() / 127)]));
}

/**
 * A QAT run with static activations trains with scales calibrated once at its start; they are kept in its
 * folder, so a resumed run and the int8 variant written from it use the very same ones.
 */
export const ACTIVATION_SCALES_FILE = 'activation-scales.json';
const MAX_SCALES_BYTES = 4 * 2 ** 20;
const ScalesFile = z.object({ scales: z.record(z.string(), z.number().min(0)) }).strict();

export async function writeScalesFile(runDir: string, scales: Record<string, number>): Promise<void> {
  await writeJsonAtomic(path.join(runDir, ACTIVATION_SCALES_FILE), { scales });
}

/** The run's calibrated scales, or null when it has none. */
export async function readScalesFile(runDir: string): Promise<Record<string, number> | null> {
  const file = path.join(runDir, ACTIVATION_SCALES_FILE);
  const stat = await fsp.stat(file).catch(() => null);
  if (!stat) return null;
  if (stat.size > MAX_SCALES_BYTES) throw new EngineError('INVALID_CONFIG', `${file}: is ${stat.size} bytes, more than the ${MAX_SCALES_BYTES} a file of activation scales can be; it is not one this workbench wrote`);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new EngineError('INVALID_CONFIG', `${file}: is not valid JSON (${(e as Error).message}); delete it and start the QAT run again`);
  }
  const r = ScalesFile.safeParse(raw);
  if (!r.success) throw new EngineError('INVALID_CONFIG', `${file}: is not a file of activation scales ({"scales": {site: number}}); delete it and start the QAT run again`);
  return r.data.scales;
}
