/**
 * Cross-check of `npm run test:cross` (needs PyTorch; not part of `npm test`): the distillation losses beside
 * Hinton's (hidden-state cosine, attention-map KL, and the soft-target loss on an LM's [B, T, V] logits) and
 * their gradients equal an independent PyTorch formulation (F.cosine_similarity, F.kl_div) on random inputs
 * with padding, on cpu and wasm, within 1e-4 relative error. The check can fail: a reference told to ignore
 * the padding mask disagrees.
 *
 *   node --import tsx --test engine/compression/distillLosses.cross.ts
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { distillationLoss } from './distill';
import { attentionMapLoss, hiddenCosineLoss } from './distillLosses';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';

const REFERENCE = String.raw`
import json, sys, torch, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
d = json.load(sys.stdin)
t = lambda k, g=False: torch.tensor(d[k]['data']).reshape(d[k]['shape']).requires_grad_(g)
mask = t('mask') if d['useMask'] else torch.ones(t('mask').shape)
hs, ht = t('hs', True), t('ht')
cos = 1 - F.cosine_similarity(hs, ht, dim=-1, eps=1e-8)           # [B, T]
lc = (cos * mask).sum() / mask.sum()
lc.backward()
def attn(sk, tk):
    s, tt = t(sk, True), t(tk)
    if s.shape[1] != tt.shape[1]:
        s2, t2 = s.mean(1, keepdim=True), tt.mean(1, keepdim=True)
    else:
        s2, t2 = s, tt
    kl = F.kl_div(s2.log(), t2, reduction='none').sum(-1)           # [B, H, T]
    l = (kl.sum(1) * mask).sum() / (mask.sum() * s2.shape[1])
    l.backward()
    return l.item(), s.grad.flatten().tolist()
la, ga = attn('as', 'at')
la1, ga1 = attn('as1', 'at')
sl, tl = t('sl', True), t('tl')
T = d['temperature']
V = sl.shape[-1]
kd = F.kl_div(F.log_softmax(sl.reshape(-1, V) / T, -1), F.softmax(tl.reshape(-1, V) / T, -1), reduction='batchmean') * T * T
kd.backward()
print(json.dumps({'cos': lc.item(), 'gcos': hs.grad.flatten().tolist(), 'attn': la, 'gattn': ga, 'attn1': la1, 'gattn1': ga1, 'kd': kd.item(), 'gkd': sl.grad.flatten().tolist()}))
`;

const B = 2, T = 5, d = 6, H = 3, V = 11;
const probs = (shape: number[], seed: number) => tf.tidy(() => tf.softmax(tf.randomNormal(shape, 0, 1.5, 'float32', seed)));
const host = (x: tf.Tensor) => ({ shape: x.shape, data: Array.from(x.dataSync()) });

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function reference(inputs: Record<string, unknown>): Record<string, number & number[]> {
  const r = spawnSync(PYTHON, ['-c', REFERENCE], { input: JSON.stringify(inputs), encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error || r.status !== 0) throw new Error(`the PyTorch reference could not run under ${PYTHON} (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); apt-get install -y python3-torch, or set TORCH_PYTHON`);
  return JSON.parse(r.stdout);
}

for (const backend of TEST_BACKENDS) {
  describe(`distillation losses against PyTorch (${backend})`, () => {
    before(() => useBackend(backend));

    it('cosine, attention KL (matched and averaged heads) and soft targets, with their gradients', () => {
      const t = {
        hs: tf.randomNormal([B, T, d], 0, 1, 'float32', 1), ht: tf.randomNormal([B, T, d], 0, 1, 'float32', 2),
        as: probs([B, H, T, T], 3), at: probs([B, H, T, T], 4), as1: probs([B, 1, T, T], 5),
        sl: tf.randomNormal([B, T, V], 0, 2, 'float32', 6), tl: tf.randomNormal([B, T, V], 0, 2, 'float32', 7),
        mask: tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], [B, T], 'int32'),
      };
      const inputs = { ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, host(v)])), temperature: 2.5 };
      const ref = reference({ ...inputs, useMask: true });
      const mask = t.mask as tf.Tensor2D;
      const check = (what: string, got: number | ArrayLike<number>, want: number | ArrayLike<number>) => {
        const e = typeof got === 'number' ? relErr([got], [want as number]) : relErr(got, want as ArrayLike<number>);
        assert.ok(e < 1e-4, `${what}: relative error ${e}`);
      };
      check('cosine', hiddenCosineLoss(t.hs as tf.Tensor3D, t.ht as tf.Tensor3D, mask).dataSync()[0], ref.cos);
      check('cosine grad', tf.grad((x: tf.Tensor) => hiddenCosineLoss(x as tf.Tensor3D, t.ht as tf.Tensor3D, mask))(t.hs).dataSync(), ref.gcos);
      check('attention', attentionMapLoss(t.as as tf.Tensor4D, t.at as tf.Tensor4D, mask).dataSync()[0], ref.attn);
      check('attention grad', tf.grad((x: tf.Tensor) => attentionMapLoss(x as tf.Tensor4D, t.at as tf.Tensor4D, mask))(t.as).dataSync(), ref.gattn);
      check('attention, 1 head vs 3', attentionMapLoss(t.as1 as tf.Tensor4D, t.at as tf.Tensor4D, mask).dataSync()[0], ref.attn1);
      check('attention grad, 1 head vs 3', tf.grad((x: tf.Tensor) => attentionMapLoss(x as tf.Tensor4D, t.at as tf.Tensor4D, mask))(t.as1).dataSync(), ref.gattn1);
      check('soft targets on [B, T, V]', distillationLoss(t.sl, t.tl, 2.5).dataSync()[0], ref.kd);
      check('soft targets grad', tf.grad((x: tf.Tensor) => distillationLoss(x, t.tl, 2.5))(t.sl).dataSync(), ref.gkd);
      // the reference without the padding mask disagrees: the check can fail
      const unmasked = reference({ ...inputs, useMask: false });
      assert.ok(relErr([hiddenCosineLoss(t.hs as tf.Tensor3D, t.ht as tf.Tensor3D, mask).dataSync()[0]], [unmasked.cos]) > 1e-3);
      tf.dispose(Object.values(t));
    });
  });
}
