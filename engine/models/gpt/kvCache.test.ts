/**
 * Incremental decoding with the key/value cache gives the logits of forward() over the whole sequence, for
 * every positional encoding and attention kind a GPT can have, fed one token at a time or in chunks.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfigInput } from '../../../common/modelConfig';
import { createModel } from '../registry';
import { TEST_BACKENDS, useBackend } from '../../testing';
import type { GPT } from './model';
import { KvCache } from './kvCache';

const base = { arch: 'gpt', vocabSize: 23, contextLength: 12, dModel: 16, nHeads: 4, nLayers: 2 } as const;
const ids = [3, 7, 1, 22, 9, 9, 4, 0, 15, 8, 2, 6];

function fullLogits(model: GPT, seq: number[]): Float32Array {
  return tf.tidy(() => model.lmLogits(model.forward({ inputIds: tf.tensor2d(seq, [1, seq.length], 'int32') }).hidden).dataSync() as Float32Array);
}

/** Logits [T·V] of the sequence decoded in chunks of the given sizes through one cache. */
function cachedLogits(model: GPT, seq: number[], chunks: number[]): Float32Array {
  const cache = new KvCache();
  const out: number[] = [];
  let at = 0;
  for (const n of chunks) {
    const part = seq.slice(at, at + n);
    const input = tf.tensor2d(part, [1, n], 'int32');
    const logits = model.decode(input, cache);
    out.push(...logits.dataSync());
    tf.dispose([input, logits]);
    at += n;
  }
  assert.equal(cache.length, seq.length);
  cache.dispose();
  return Float32Array.from(out);
}

function assertClose(a: Float32Array, b: Float32Array, what: string) {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-4, `${what}: cached and full logits differ by ${worst}`);
}

for (const backend of TEST_BACKENDS) {
  describe(`KV cache (${backend})`, () => {
    before(() => useBackend(backend));
    const variants: [string, Partial<ModelConfigInput>][] = [
      ['learned positions', {}], ['sinusoidal', { positional: 'sinusoidal' }], ['RoPE', { positional: 'rope' }],
      ['linear attention', { attention: 'linear' }], ['mixture of experts', { moe: { experts: 3, topK: 2 } }],
    ];
    for (const [name, extra] of variants) {
      it(`${name}: one token at a time and in chunks give the full sequence's logits`, () => {
        const model = createModel({ ...base, ...extra } as ModelConfigInput, 5) as GPT;
        const before = tf.memory().numTensors;
        const full = fullLogits(model, ids);
        assertClose(cachedLogits(model, ids, ids.map(() => 1)), full, 'token by token');
        assertClose(cachedLogits(model, ids, [5, 1, 4, 2]), full, 'chunks');
        assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
        model.dispose();
      });
    }
    it('refuses to decode past the context', () => {
      const model = createModel(base, 5) as GPT;
      const cache = new KvCache();
      tf.dispose(model.decode(tf.tensor2d(ids, [1, 12], 'int32'), cache));
      assert.throws(() => model.decode(tf.tensor2d([1], [1, 1], 'int32'), cache), /exceeds contextLength 12/);
      cache.dispose();
      model.dispose();
    });
  });
}
