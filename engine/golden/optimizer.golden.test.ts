import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from './golden';
import { TEST_BACKENDS, useBackend } from '../testing';
import { AdamW } from '../training/adamw';
import { clipGradNorm } from '../training/clip';
import { learningRate } from '../training/schedule';

const golden = loadGolden('optimizer_and_schedule');
const config = golden.config as {
  adamw: { lr: number; beta1: number; beta2: number; eps: number; weight_decay: number };
  clip: { max_norm: number };
  schedule: { lr: number; min_lr: number; warmup_iters: number; lr_decay_iters: number };
};
const out = golden.outputs as { adamw_trajectory: GoldenTensor[]; clip_total_norm: number; clipped: GoldenTensor[]; lr: number[] };

function check(label: string, actual: tf.Tensor | ArrayLike<number>, expected: GoldenTensor | ArrayLike<number>): void {
  const err = relError(actual, expected);
  console.log(`  ${label} rel err ${err.toExponential(2)}`);
  assert.ok(err <= GOLDEN_TOLERANCE, `${label}: relative error ${err} exceeds ${GOLDEN_TOLERANCE}`);
}

for (const backend of TEST_BACKENDS) {
  describe(`optimizer, clipping and schedule against PyTorch (${backend})`, () => {
    before(() => useBackend(backend));

    it('AdamW trajectory (decoupled weight decay)', () => {
      const w = tf.variable(toTensor(golden.inputs.w0 as GoldenTensor));
      const { lr, beta1, beta2, eps, weight_decay: weightDecay } = config.adamw;
      const opt = new AdamW({ w }, { lr, beta1, beta2, eps, weightDecay });
      assert.equal(opt.decays('w'), true);
      let prev = golden.inputs.w0 as GoldenTensor;
      (golden.inputs.grads as GoldenTensor[]).forEach((g, i) => {
        const before = Float64Array.from(w.dataSync());
        const grad = toTensor(g);
        opt.step({ w: grad });
        grad.dispose();
        check(`${backend} adamw step ${i + 1}`, w, out.adamw_trajectory[i]);
        // the update alone, lr-sized, so that an error in it is not hidden under |w|; float32 cancellation allows 1e-3
        const after = w.dataSync();
        const delta = Array.from(after, (a, j) => a - before[j]);
        const refDelta = out.adamw_trajectory[i].data.map((a, j) => a - prev.data[j]);
        const err = relError(delta, refDelta);
        console.log(`  ${backend} adamw update ${i + 1} rel err ${err.toExponential(2)}`);
        assert.ok(err <= 1e-3, `update ${i + 1}: relative error ${err}`);
        prev = out.adamw_trajectory[i];
      });
      opt.dispose();
      w.dispose();
    });

    it('global-norm clipping', () => {
      const grads = (golden.inputs.clip_grads as GoldenTensor[]).map((g) => toTensor(g));
      const total = clipGradNorm(grads, config.clip.max_norm);
      check(`${backend} clip total norm`, [total], [out.clip_total_norm]);
      grads.forEach((g, i) => check(`${backend} clipped[${i}]`, g, out.clipped[i]));
      tf.dispose(grads);
    });

    it('warmup + cosine learning rate', () => {
      const s = config.schedule;
      const lrs = out.lr.map((_, it) => learningRate({ kind: 'cosine', lr: s.lr, minLr: s.min_lr, warmupIters: s.warmup_iters, decayIters: s.lr_decay_iters }, it));
      check(`${backend} lr schedule`, lrs, out.lr);
    });
  });
}
