import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from './golden';
import { TEST_BACKENDS, useBackend } from '../testing';
import { linearAttention } from '../models/linearAttention';
import { moeFeedForward, moeParamsFromNamed, type MoeParams } from '../models/moe';

const golden = loadGolden('linear_attention_and_moe');
const config = golden.config as { moe: { top_k: number; activation: string } };
const input = (name: string) => toTensor(golden.inputs[name] as GoldenTensor);
const param = (name: string) => toTensor(golden.params[name]);
const out = golden.outputs as Record<string, GoldenTensor>;
const T = (golden.inputs.q as GoldenTensor).shape[2];

function check(label: string, actual: tf.Tensor | ArrayLike<number>, expected: GoldenTensor | ArrayLike<number>): void {
  const err = relError(actual, expected);
  console.log(`  ${label} rel err ${err.toExponential(2)}`);
  assert.ok(err <= GOLDEN_TOLERANCE, `${label}: relative error ${err} exceeds ${GOLDEN_TOLERANCE}`);
}

for (const backend of TEST_BACKENDS) {
  describe(`linear attention and mixture of experts against PyTorch (${backend})`, () => {
    before(() => useBackend(backend));

    // chunk sizes: one chunk (the quadratic form), one position per chunk (the recurrent form), and one
    // that does not divide T (padding), so every path of the chunked causal form meets the reference
    const chunkSizes = [...new Set([T, 1, Math.max(2, Math.floor(T / 2))])];
    for (const chunkSize of chunkSizes) {
      it(`outputs and grads of q, k, v (causal chunk ${chunkSize})`, () => {
        tf.tidy(() => {
          const [q, k, v] = ['q', 'k', 'v'].map(input) as tf.Tensor4D[];
          const wNc = input('w_noncausal');
          const wC = input('w_causal');
          const objective = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => {
            const nc = linearAttention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, { causal: false });
            const c = linearAttention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, { causal: true, chunkSize });
            return tf.add(tf.sum(tf.mul(nc, wNc)), tf.sum(tf.mul(c, wC))) as tf.Scalar;
          };
          check(`${backend} noncausal`, linearAttention(q, k, v, { causal: false }), out.noncausal);
          check(`${backend} causal[C=${chunkSize}]`, linearAttention(q, k, v, { causal: true, chunkSize }), out.causal);
          const [gq, gk, gv] = tf.grads(objective)([q, k, v]);
          check(`${backend} grad q [C=${chunkSize}]`, gq, golden.grads.q);
          check(`${backend} grad k [C=${chunkSize}]`, gk, golden.grads.k);
          check(`${backend} grad v [C=${chunkSize}]`, gv, golden.grads.v);
        });
      });
    }

    it('MoE outputs, routing, aux loss and grads of x and every parameter', () => {
      tf.tidy(() => {
        const names = ['w_gate', 'w1', 'b1', 'w2', 'b2'] as const;
        const x = input('x');
        const wY = input('w_y');
        const ps = names.map(param);
        const asParams = (t: tf.Tensor[]): MoeParams => ({ wGate: t[0], w1: t[1], b1: t[2], w2: t[3], b2: t[4] });
        const opts = { topK: config.moe.top_k, activation: config.moe.activation as 'gelu_new' };

        const r = moeFeedForward(x, asParams(ps), opts);
        check(`${backend} moe_y`, r.y, out.moe_y);
        check(`${backend} moe_aux_loss`, [r.auxLoss.dataSync()[0]], [golden.outputs.moe_aux_loss as number]);
        assert.deepEqual(r.topKIndices.shape, out.moe_top_k_indices.shape);
        assert.deepEqual(Array.from(r.topKIndices.dataSync()), out.moe_top_k_indices.data, 'top-k indices');
        check(`${backend} moe_gates`, r.gates, out.moe_gates);
        check(`${backend} moe_router_probs`, r.routerProbs, out.moe_router_probs);

        const grads = tf.grads((...args: tf.Tensor[]) => {
          const { y, auxLoss } = moeFeedForward(args[0], asParams(args.slice(1)), opts);
          return tf.add(tf.sum(tf.mul(y, wY)), auxLoss) as tf.Scalar;
        })([x, ...ps]);
        check(`${backend} grad x`, grads[0], golden.grads.x);
        names.forEach((n, i) => check(`${backend} grad ${n}`, grads[i + 1], golden.grads[n]));
      });
    });

    it('MoE from per-expert named tensors gives the same result', () => {
      tf.tidy(() => {
        const w1 = param('w1');
        const E = w1.shape[0];
        const named: Record<string, tf.Tensor> = { 'h.0.mlp.gate.weight': param('w_gate') };
        const split = (t: tf.Tensor) => tf.unstack(t);
        const [w1s, b1s, w2s, b2s] = [w1, param('b1'), param('w2'), param('b2')].map(split);
        for (let e = 0; e < E; e++) {
          named[`h.0.mlp.experts.${e}.c_fc.weight`] = w1s[e];
          named[`h.0.mlp.experts.${e}.c_fc.bias`] = b1s[e];
          named[`h.0.mlp.experts.${e}.c_proj.weight`] = w2s[e];
          named[`h.0.mlp.experts.${e}.c_proj.bias`] = b2s[e];
        }
        const r = moeFeedForward(input('x'), moeParamsFromNamed(named, 'h.0.mlp', E), { topK: config.moe.top_k });
        check(`${backend} moe_y (named)`, r.y, out.moe_y);
      });
    });
  });
}
