/**
 * GPT-2 and BERT against PyTorch: logits, losses, every layer's attention probabilities and the gradient
 * of every parameter, on the cpu and wasm backends in float32. Shapes come from each golden file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fromHfBertConfig, fromHfGpt2Config, type HfBertConfig, type HfGpt2Config } from '../../common/hfConfig';
import { createModel, type AnyModel } from '../models/registry';
import type { Batch, LossResult } from '../models/types';
import { TEST_BACKENDS, useBackend } from '../testing';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenCase, type GoldenTensor } from './golden';

function loadParams(model: AnyModel, g: GoldenCase): void {
  assert.deepEqual([...model.params.names].sort(), Object.keys(g.params).sort(), 'parameter names match the Hugging Face checkpoint');
  for (const [name, t] of Object.entries(g.params)) model.params.assign(name, toTensor(t));
}

function expectClose(what: string, actual: tf.Tensor | number, expected: GoldenTensor | number): void {
  const err = typeof expected === 'number'
    ? Math.abs((actual as number) - expected) / (Math.abs(expected) + 1e-6)
    : relError(actual as tf.Tensor, expected);
  assert.ok(err <= GOLDEN_TOLERANCE, `${what}: relative error ${err.toExponential(2)} exceeds ${GOLDEN_TOLERANCE}`);
}

/**
 * Runs the loss under variableGrads and checks every parameter's gradient. A gradient that is zero in exact
 * arithmetic (BERT's key bias: softmax ignores a shift shared by every key) comes out of float64 PyTorch as
 * ~1e-17 and of any float32 engine as round-off; relative error is meaningless there, so such a gradient is
 * measured against the largest gradient of the model instead.
 */
function checkGrads(model: AnyModel, g: GoldenCase, lossOf: () => tf.Scalar): void {
  const { grads } = tf.variableGrads(lossOf, [...model.variables.values()]);
  const maxAbs = (t: GoldenTensor) => t.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const largest = Math.max(...Object.values(g.grads).map(maxAbs));
  for (const [name, expected] of Object.entries(g.grads)) {
    const grad = grads[model.params.get(name).name];
    assert.ok(grad, `no gradient reached ${name}`);
    if (maxAbs(expected) < 1e-12 * largest) {
      const err = grad.abs().max().dataSync()[0] / largest;
      assert.ok(err <= GOLDEN_TOLERANCE, `grad ${name} should be zero: |grad| / largest gradient = ${err.toExponential(2)}`);
    } else {
      expectClose(`grad ${name}`, grad, expected);
    }
  }
  tf.dispose(grads);
}

for (const backend of TEST_BACKENDS) {
  describe(`golden models on ${backend}`, () => {
    it('GPT-2 decoder: logits, loss, attentions, all gradients', async () => {
      await useBackend(backend);
      const g = loadGolden('gpt2_forward_backward');
      const model = createModel(fromHfGpt2Config(g.config as unknown as HfGpt2Config), 1);
      loadParams(model, g);
      const batch: Batch = {
        inputIds: toTensor(g.inputs.input_ids as GoldenTensor, 'int32') as tf.Tensor2D,
        labels: toTensor(g.inputs.labels as GoldenTensor, 'int32') as tf.Tensor2D,
      };
      tf.tidy(() => {
        const gpt = model as Extract<AnyModel, { lmLogits: unknown }>;
        const out = gpt.forward(batch, { returnAttentions: true });
        expectClose('logits', gpt.lmLogits(out.hidden), g.outputs.logits as GoldenTensor);
        const atts = g.outputs.attentions as GoldenTensor[];
        assert.equal(out.attentions?.length, atts.length);
        atts.forEach((a, i) => expectClose(`attentions[${i}]`, out.attentions![i], a));
        expectClose('loss', gpt.loss(batch).loss.dataSync()[0], g.outputs.loss as number);
      });
      checkGrads(model, g, () => model.loss(batch).loss);
      model.dispose();
      tf.dispose(Object.values(batch));
    });

    it('BERT encoder with MLM + NSP heads: logits, losses, attentions, all gradients', async () => {
      await useBackend(backend);
      const g = loadGolden('bert_mlm_nsp_forward_backward');
      const model = createModel(fromHfBertConfig(g.config as unknown as HfBertConfig), 1);
      loadParams(model, g);
      const int = (k: string) => toTensor(g.inputs[k] as GoldenTensor, 'int32');
      const batch: Batch = {
        inputIds: int('input_ids') as tf.Tensor2D,
        tokenTypeIds: int('token_type_ids') as tf.Tensor2D,
        attentionMask: int('attention_mask') as tf.Tensor2D,
        labels: int('labels') as tf.Tensor2D,
        nextSentenceLabels: int('next_sentence_label') as tf.Tensor1D,
      };
      tf.tidy(() => {
        const bert = model as Extract<AnyModel, { mlmLogits: unknown }>;
        const out = bert.forward(batch, { returnAttentions: true });
        expectClose('mlm_logits', bert.mlmLogits(out.hidden), g.outputs.mlm_logits as GoldenTensor);
        expectClose('nsp_logits', bert.nspLogits(out.hidden), g.outputs.nsp_logits as GoldenTensor);
        const atts = g.outputs.attentions as GoldenTensor[];
        assert.equal(out.attentions?.length, atts.length);
        atts.forEach((a, i) => expectClose(`attentions[${i}]`, out.attentions![i], a));
        const { loss, parts } = bert.loss(batch) as LossResult;
        expectClose('mlm_loss', parts.mlm.dataSync()[0], g.outputs.mlm_loss as number);
        expectClose('nsp_loss', parts.nsp.dataSync()[0], g.outputs.nsp_loss as number);
        expectClose('loss', loss.dataSync()[0], g.outputs.loss as number);
      });
      checkGrads(model, g, () => model.loss(batch).loss);
      model.dispose();
      tf.dispose(Object.values(batch));
    });
  });
}
