/**
 * model.safetensors' names and layouts per Hugging Face class, the tied weights written once, config.json's
 * sizes, and the options a GPT-2 / BERT config cannot say refused by name.
 *
 *   node --import tsx --test engine/export/hfLayout.test.ts
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromHfBertConfig, fromHfGpt2Config, hfUnrepresentable, toHfBertConfig, toHfGpt2Config, type HfBertConfig, type HfGpt2Config } from '../../common/hfConfig';
import { ModelConfig, resolveModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { createModel } from '../models/registry';
import { useBackend } from '../testing';
import { engineNameOf, hfArchitecture, hfStateDict, type HfArchitecture } from './hfLayout';

before(() => useBackend('cpu'));

const GPT: ModelConfigInput = { arch: 'gpt', vocabSize: 50, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2, dFF: 24 };
const BERT: ModelConfigInput = { arch: 'bert', vocabSize: 40, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1, dFF: 12 };
const resolved = (c: ModelConfigInput) => resolveModelConfig(ModelConfig.parse(c));

function stateDict(c: ModelConfigInput, arch: HfArchitecture) {
  const model = createModel(c, 1);
  try {
    return { tensors: hfStateDict(model.params, arch), params: model.params.names.length };
  } finally {
    model.dispose();
  }
}

describe('Hugging Face layout', () => {
  it('GPT2LMHeadModel: GPT2Model under transformer., Conv1D weights [in, out], the tied LM head written once', () => {
    const { tensors, params } = stateDict(GPT, 'GPT2LMHeadModel');
    const shape = Object.fromEntries(tensors.map((t) => [t.name, t.shape]));
    assert.equal(tensors.length, params);
    assert.ok(tensors.every((t) => t.name.startsWith('transformer.')));
    assert.deepEqual(shape['transformer.h.1.attn.c_attn.weight'], [8, 24]);
    assert.deepEqual(shape['transformer.h.1.attn.c_proj.weight'], [8, 8]);
    assert.deepEqual(shape['transformer.h.0.mlp.c_fc.weight'], [8, 24]);
    assert.deepEqual(shape['transformer.h.0.mlp.c_proj.weight'], [24, 8]);
    assert.deepEqual(shape['transformer.wte.weight'], [50, 8]);
    assert.ok(!('lm_head.weight' in shape), 'lm_head.weight is the embedding table: not written again');
    assert.ok(!Object.keys(shape).some((n) => /\.attn\.(bias|masked_bias)$/.test(n)), 'no attention-mask buffers');
    assert.equal(tensors.filter((t) => t.data.length === 50 * 8).length, 1, 'one [V, d] matrix in the file');
    assert.equal(engineNameOf('transformer.h.0.ln_1.weight', 'GPT2LMHeadModel'), 'h.0.ln_1.weight');
    assert.throws(() => engineNameOf('h.0.ln_1.weight', 'GPT2LMHeadModel'), /start with 'transformer\.'/);
  });

  it('BertForPreTraining: every engine tensor under its name, the decoder tied to the embeddings and to cls.predictions.bias not written', () => {
    const { tensors, params } = stateDict(BERT, 'BertForPreTraining');
    const shape = Object.fromEntries(tensors.map((t) => [t.name, t.shape]));
    assert.equal(tensors.length, params);
    assert.deepEqual(shape['bert.encoder.layer.0.intermediate.dense.weight'], [12, 8], 'nn.Linear [out, in]');
    assert.deepEqual(shape['cls.seq_relationship.weight'], [2, 8]);
    assert.deepEqual(shape['bert.pooler.dense.weight'], [8, 8]);
    assert.deepEqual(shape['cls.predictions.bias'], [40]);
    assert.ok(!Object.keys(shape).some((n) => n.startsWith('cls.predictions.decoder')));
  });

  it('BertForMaskedLM: no pooler and no next-sentence head', () => {
    const names = stateDict(BERT, 'BertForMaskedLM').tensors.map((t) => t.name);
    assert.ok(names.includes('cls.predictions.transform.dense.weight'));
    assert.ok(!names.some((n) => n.startsWith('bert.pooler.') || n.startsWith('cls.seq_relationship.')));
  });

  it('BertForSequenceClassification: BertModel with its pooler, the classifier, none of the pretraining heads', () => {
    const { tensors } = stateDict({ ...BERT, numLabels: 3 }, 'BertForSequenceClassification');
    const shape = Object.fromEntries(tensors.map((t) => [t.name, t.shape]));
    assert.deepEqual(shape['classifier.weight'], [3, 8]);
    assert.deepEqual(shape['classifier.bias'], [3]);
    assert.deepEqual(shape['bert.pooler.dense.weight'], [8, 8]);
    assert.ok(!Object.keys(shape).some((n) => n.startsWith('cls.')), Object.keys(shape).join(', '));
    assert.ok(Object.keys(shape).every((n) => n.startsWith('bert.') || n.startsWith('classifier.')));
    assert.equal(engineNameOf('classifier.weight', 'BertForSequenceClassification'), 'classifier.weight');
  });

  it('GPT2ForSequenceClassification: GPT2Model under transformer., score.weight [num_labels, d] beside it', () => {
    const { tensors, params } = stateDict({ ...GPT, numLabels: 4 }, 'GPT2ForSequenceClassification');
    const names = tensors.map((t) => t.name);
    assert.equal(tensors.length, params);
    assert.deepEqual(tensors.find((t) => t.name === 'score.weight')?.shape, [4, 8]);
    assert.ok(names.filter((n) => n !== 'score.weight').every((n) => n.startsWith('transformer.')));
    assert.ok(!names.includes('transformer.score.weight'));
    assert.equal(engineNameOf('score.weight', 'GPT2ForSequenceClassification'), 'score.weight');
    assert.equal(engineNameOf('transformer.ln_f.bias', 'GPT2ForSequenceClassification'), 'ln_f.bias');
    assert.throws(() => engineNameOf('score.weight', 'GPT2LMHeadModel'), /not a GPT2LMHeadModel tensor/);
    assert.throws(() => engineNameOf('classifier.weight', 'GPT2ForSequenceClassification'), /or are 'score\.weight'/);
  });

  it('config.json of a classifier: its class, id2label / label2id in logit order, single-label problem type', () => {
    const hb = toHfBertConfig(resolved({ ...BERT, numLabels: 2 }), 'BertForSequenceClassification', { labels: ['king', 'love'] });
    assert.deepEqual([hb.architectures, hb.id2label, hb.label2id, hb.problem_type], [['BertForSequenceClassification'], { 0: 'king', 1: 'love' }, { king: 0, love: 1 }, 'single_label_classification']);
    const hg = toHfGpt2Config(resolved({ ...GPT, numLabels: 3 }), { padTokenId: 0, labels: ['a', 'b', 'c'] });
    assert.deepEqual([hg.architectures, hg.pad_token_id, hg.id2label], [['GPT2ForSequenceClassification'], 0, { 0: 'a', 1: 'b', 2: 'c' }]);
    assert.equal(toHfGpt2Config(resolved(GPT)).id2label, undefined, 'a language model has no labels');
    assert.throws(() => toHfGpt2Config(resolved({ ...GPT, numLabels: 3 }), { labels: ['a', 'b'] }), /needs 3 label names for config\.json, got 2/);
  });

  it('the class follows the objective, and numLabels makes a sequence classifier', () => {
    assert.equal(hfArchitecture(resolved({ ...GPT, numLabels: 2 }), 'causal-lm'), 'GPT2ForSequenceClassification');
    assert.equal(hfArchitecture(resolved({ ...BERT, numLabels: 2 }), 'mlm'), 'BertForSequenceClassification');
    assert.equal(hfArchitecture(resolved(GPT), undefined), 'GPT2LMHeadModel');
    assert.equal(hfArchitecture(resolved(BERT), undefined), 'BertForPreTraining');
    assert.equal(hfArchitecture(resolved(BERT), 'mlm-nsp'), 'BertForPreTraining');
    assert.equal(hfArchitecture(resolved(BERT), 'mlm'), 'BertForMaskedLM');
  });

  it('config.json holds every size, and reads back to the same model', () => {
    const g = resolved({ ...GPT, activation: 'gelu', layerNormEps: 1e-6 });
    const hg = toHfGpt2Config(g, { padTokenId: 3, eosTokenId: 4 });
    assert.deepEqual([hg.model_type, hg.architectures, hg.n_inner, hg.activation_function, hg.eos_token_id, hg.bos_token_id], ['gpt2', ['GPT2LMHeadModel'], 24, 'gelu', 4, null]);
    const back = resolved(fromHfGpt2Config(hg as unknown as HfGpt2Config));
    assert.deepEqual([back.vocabSize, back.contextLength, back.dModel, back.nHeads, back.nLayers, back.dFF, back.layerNormEps], [50, 8, 8, 2, 2, 24, 1e-6]);
    const b = resolved({ ...BERT, typeVocabSize: 3 });
    const hb = toHfBertConfig(b, 'BertForMaskedLM');
    assert.deepEqual([hb.model_type, hb.architectures, hb.hidden_act, hb.position_embedding_type], ['bert', ['BertForMaskedLM'], 'gelu', 'absolute']);
    const bb = resolved(fromHfBertConfig(hb as unknown as HfBertConfig));
    assert.deepEqual([bb.vocabSize, bb.contextLength, bb.dModel, bb.nHeads, bb.nLayers, bb.dFF, bb.typeVocabSize, bb.layerNormEps], [40, 8, 8, 2, 1, 12, 3, 1e-12]);
  });

  it('options a GPT-2 / BERT config.json cannot say are refused by name, with the way out', () => {
    assert.deepEqual(hfUnrepresentable(resolved(GPT)), []);
    const rope = hfUnrepresentable(resolved({ ...GPT, positional: 'rope' }));
    assert.equal(rope.length, 1);
    assert.match(rope[0], /^positional 'rope': .*GPT-2.*train with positional 'learned'/);
    assert.match(hfUnrepresentable(resolved({ ...BERT, positional: 'sinusoidal' }))[0], /^positional 'sinusoidal': .*BERT/);
    assert.match(hfUnrepresentable(resolved({ ...GPT, attention: 'linear' }))[0], /^attention 'linear'/);
    assert.match(hfUnrepresentable(resolved({ ...BERT, moe: { experts: 2, topK: 1 } }))[0], /^moe: .*remove moe/);
    assert.deepEqual(hfUnrepresentable(resolved({ ...BERT, numLabels: 3 })), [], 'a classifier is BertForSequenceClassification');
  });
});
