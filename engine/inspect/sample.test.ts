/**
 * Sampling: the filters do what they say, the same seed gives the same tokens, and the key/value cache
 * changes nothing but the speed — also past the context, where the window jumps and the cache is refilled.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { GPT } from '../models/gpt/model';
import { createModel } from '../models/registry';
import { useBackend } from '../testing';
import { Rng } from '../util/random';
import { NextTokenLogits, TextStream, generate, pickToken } from './sample';

const logits = [0.5, 3, 1, 2.9, -1];

describe('pickToken', () => {
  it('temperature 0 is greedy; top-k 1 and a tiny top-p keep only the most likely token', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 50; i++) {
      assert.equal(pickToken(logits, { temperature: 0 }, rng), 1);
      assert.equal(pickToken(logits, { temperature: 1, topK: 1 }, rng), 1);
      assert.equal(pickToken(logits, { temperature: 1, topP: 0.01 }, rng), 1);
    }
  });
  it('top-k 2 draws only the two most likely tokens, both of them', () => {
    const rng = new Rng(2);
    const seen = new Set(Array.from({ length: 300 }, () => pickToken(logits, { temperature: 1, topK: 2 }, rng)));
    assert.deepEqual([...seen].sort(), [1, 3]);
  });
  it('without filters every token comes up, in proportion to its probability', () => {
    const rng = new Rng(3);
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[pickToken(logits, { temperature: 1 }, rng)]++;
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    counts.forEach((c, i) => assert.ok(Math.abs(c / n - Math.exp(logits[i]) / z) < 0.015, `token ${i}: ${c / n}`));
  });
});

describe('generate', () => {
  let model: GPT;
  before(async () => {
    await useBackend('cpu');
    model = createModel({ arch: 'gpt', vocabSize: 30, contextLength: 16, dModel: 16, nHeads: 2, nLayers: 2, initStd: 0.3 }, 7) as GPT;
  });

  it('the cache gives the logits of recomputing each window, inside and past the context', () => {
    const cached = new NextTokenLogits(model, true);
    const full = new NextTokenLogits(model, false);
    const seq = [4, 9];
    const rng = new Rng(5);
    for (let i = 0; i < 40; i++) {
      const a = cached.next(seq);
      const b = full.next(seq);
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      assert.ok(worst < 1e-4, `token ${seq.length}: differ by ${worst}`);
      seq.push(pickToken(a, { temperature: 1 }, rng));
    }
    cached.dispose();
    full.dispose();
  });

  it('the same seed gives the same tokens, with or without the cache; another seed others', async () => {
    const o = { maxNewTokens: 40, temperature: 1, topK: 20, topP: 0.95 };
    const before = tf.memory().numTensors;
    const a = await generate(model, [1, 2, 3], { ...o, seed: 11 });
    const b = await generate(model, [1, 2, 3], { ...o, seed: 11 });
    const c = await generate(model, [1, 2, 3], { ...o, seed: 11, useCache: false });
    const d = await generate(model, [1, 2, 3], { ...o, seed: 12 });
    assert.equal(a.ids.length, 40);
    assert.deepEqual(b.ids, a.ids);
    assert.deepEqual(c.ids, a.ids);
    assert.notDeepEqual(d.ids, a.ids);
    assert.equal(tf.memory().numTensors, before, 'the cache is freed');
  });

  it('stops after the current token when its signal aborts, and refuses an empty prompt', async () => {
    const ac = new AbortController();
    const r = await generate(model, [1], { maxNewTokens: 1000, temperature: 1, seed: 1, signal: ac.signal, onToken: () => { if (!ac.signal.aborted) ac.abort(); } });
    assert.equal(r.ids.length, 1);
    assert.equal(r.stopped, true);
    await assert.rejects(generate(model, [], { maxNewTokens: 1, temperature: 1, seed: 1 }), /at least one token/);
    await assert.rejects(generate(model, [1], { maxNewTokens: 1, temperature: 1, topP: 0, seed: 1 }), /--top-p/);
  });
});

describe('TextStream', () => {
  it('holds back a piece that ends in half a character, and shows it whole', () => {
    const bytes = [0xe2, 0x82, 0xac]; // € in UTF-8, one byte per token
    const s = new TextStream((ids) => Buffer.from(ids.map((i) => bytes[i])).toString('utf8'));
    assert.equal(s.push([0]), '');
    assert.equal(s.push([0, 1]), '');
    assert.equal(s.push([0, 1, 2]), '€');
    assert.equal(s.end([0, 1, 2]), '');
  });
});
