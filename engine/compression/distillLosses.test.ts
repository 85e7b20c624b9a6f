import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { attentionMapLoss, hiddenCosineLoss } from './distillLosses';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);

for (const backend of TEST_BACKENDS) {
  describe(`distillation's intermediate losses (${backend})`, () => {
    before(() => useBackend(backend));

    it('hidden-state cosine: mean of 1 − cos over real positions, padding left out', () => {
      // B=1, T=3, d=2: cos = 1 (same direction), 0 (orthogonal), −1 (opposite)
      const s = tf.tensor3d([[[1, 0], [0, 2], [3, 4]]]);
      const t = tf.tensor3d([[[2, 0], [5, 0], [-3, -4]]]);
      close(hiddenCosineLoss(s, t).dataSync()[0], (0 + 1 + 2) / 3, 'all positions');
      close(hiddenCosineLoss(s, t, tf.tensor2d([[1, 1, 0]], [1, 3], 'int32')).dataSync()[0], (0 + 1) / 2, 'the third is padding');
      assert.throws(() => hiddenCosineLoss(s, tf.zeros([1, 3, 4]) as tf.Tensor3D), /same shape \(project/);
      // its gradient turns the student toward the teacher: for s = (0, 2) ⟂ t = (5, 0), ∂(1 − cos)/∂s = −t̂/|s| (/3 rows)
      const g = tf.grad((x: tf.Tensor) => hiddenCosineLoss(x as tf.Tensor3D, t))(s).dataSync();
      close(g[2], -0.5 / 3, 'toward the teacher');
      close(g[3], 0, 'no pull along the student itself');
    });

    it('attention maps: KL(teacher ‖ student) per query, heads matched when their counts agree', () => {
      // B=1, H=2, T=2, causal rows: query 0 sees only key 0
      const sRows = [[[1, 0], [0.5, 0.5]], [[1, 0], [0.9, 0.1]]];
      const tRows = [[[1, 0], [0.2, 0.8]], [[1, 0], [0.6, 0.4]]];
      const s = tf.tensor4d([sRows]);
      const t = tf.tensor4d([tRows]);
      const want = (kl(tRows[0][1], sRows[0][1]) + kl(tRows[1][1], sRows[1][1])) / 4; // 2 heads × 2 queries, query 0 adds 0
      close(attentionMapLoss(s, t).dataSync()[0], want, 'equal heads');
      close(attentionMapLoss(s, t, tf.tensor2d([[1, 0]], [1, 2], 'int32')).dataSync()[0], 0, 'query 1 masked: only the trivial row');
      // one student head against two teacher heads: the teacher's mean map
      const s1 = tf.tensor4d([[[[1, 0], [0.5, 0.5]]]]);
      const tMean = [0.4, 0.6];
      close(attentionMapLoss(s1, t).dataSync()[0], kl(tMean, [0.5, 0.5]) / 2, 'heads averaged');
      assert.equal(attentionMapLoss(t, t).dataSync()[0], 0);
    });
  });
}
