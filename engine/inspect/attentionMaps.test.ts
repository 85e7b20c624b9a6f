/**
 * The attention file of a trained run: its maps are the model's own returnAttentions output (which the
 * golden tests check against PyTorch), a BERT pair carries token types, an input longer than the context
 * is refused naming both lengths, and the full context is shown in full.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionFile } from '../../common/attentionMaps';
import { loadRunModel, type RunModel } from '../runs/loadRunModel';
import { useBackend } from '../testing';
import { attentionFile, attentionFileBytes, encodeInput, inductionProbe } from './attentionMaps';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from './tinyRuns.testing';

let tmp: string;
let gpt: RunModel;
let bert: RunModel;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-'));
  gpt = await loadRunModel(await tinyRun(tmp, TINY_GPT));
  bert = await loadRunModel(await tinyRun(tmp, TINY_BERT, { tokenizer: tinyBertTokenizer }));
});
after(() => {
  gpt?.model.dispose();
  bert?.model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** returnAttentions of the model for one sequence, [layer][head][query][key]. */
function modelAttentions(rm: RunModel, ids: number[], types?: number[]): number[][][][] {
  return tf.tidy(() => rm.model.forward({
    inputIds: tf.tensor2d(ids, [1, ids.length], 'int32'),
    ...(types ? { tokenTypeIds: tf.tensor2d(types, [1, ids.length], 'int32') } : {}),
  }, { returnAttentions: true }).attentions!.map((a) => (a.arraySync() as number[][][][])[0]));
}

describe('attention file', () => {
  it('GPT: the maps are the model\'s returnAttentions output, causal, rows summing to 1; the file parses', () => {
    const input = encodeInput(gpt.tokenizer, gpt.model.config, 'ROMEO: speak');
    const file = attentionFile(gpt, input);
    assert.deepEqual(file.attentions, modelAttentions(gpt, input.ids));
    assert.deepEqual(file.tokens, [...'ROMEO: speak']);
    const a = file.attentions[1][1];
    assert.equal(a[2][3], 0, 'a causal query does not see later keys');
    a.forEach((row, q) => assert.ok(Math.abs(row.reduce((s, p) => s + p, 0) - 1) < 1e-5, `row ${q} sums to 1`));
    const parsed = AttentionFile.parse(JSON.parse(attentionFileBytes(file).toString('utf8')));
    assert.deepEqual(parsed.attentions, file.attentions, 'the streamed JSON holds the same numbers');
    assert.equal(parsed.stats.induction?.length, TINY_GPT.nLayers);
    assert.equal(parsed.stats.specialShare, null, 'a char tokenizer has no [CLS]/[SEP]');
  });

  it('GPT: the full context is shown in full; one token more is refused naming both lengths', () => {
    const C = TINY_GPT.contextLength;
    const text = 'First Citizen: Before we proceed'.slice(0, C);
    const file = attentionFile(gpt, encodeInput(gpt.tokenizer, gpt.model.config, text));
    assert.equal(file.attentions[0][0].length, C);
    assert.throws(() => encodeInput(gpt.tokenizer, gpt.model.config, `${text}x`), new RegExp(`is ${C + 1} tokens, longer than the model's context of ${C} tokens`));
    assert.throws(() => encodeInput(gpt.tokenizer, gpt.model.config, 'a', 'b'), /sentence pair is a BERT input/);
  });

  it('BERT: [CLS] A [SEP] B [SEP] with token types 0 then 1, maps equal to returnAttentions with those types', () => {
    const input = encodeInput(bert.tokenizer, bert.model.config, 'the king', 'is dead');
    const { cls, sep } = bert.tokenizer.specialIds;
    assert.equal(input.ids[0], cls);
    assert.equal(input.ids.filter((i) => i === sep).length, 2);
    const firstSep = input.ids.indexOf(sep!);
    assert.deepEqual(input.tokenTypeIds, input.ids.map((_, i) => (i <= firstSep ? 0 : 1)));
    const file = attentionFile(bert, input);
    assert.deepEqual(file.attentions, modelAttentions(bert, input.ids, input.tokenTypeIds));
    assert.notDeepEqual(file.attentions, modelAttentions(bert, input.ids), 'token types change the maps');
    assert.equal(file.stats.induction, null, 'no induction probe for a bidirectional model');
    assert.equal(file.stats.specialShare?.length, TINY_BERT.nLayers);
  });

  it('the induction probe repeats random ordinary tokens, the same for a seed', () => {
    const p = inductionProbe(gpt.model.config, gpt.tokenizer, 3);
    assert.equal(p.T, 2 * p.period);
    for (let b = 0; b < p.B; b++) for (let j = 0; j < p.period; j++) assert.equal(p.ids[b * p.T + j], p.ids[b * p.T + p.period + j]);
    assert.deepEqual(inductionProbe(gpt.model.config, gpt.tokenizer, 3).ids, p.ids);
    assert.notDeepEqual(inductionProbe(gpt.model.config, gpt.tokenizer, 4).ids, p.ids);
  });
});
