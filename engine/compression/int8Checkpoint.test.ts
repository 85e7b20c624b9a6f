import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint, writeCheckpoint } from '../runs/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../runs/safetensors';
import { useBackend } from '../testing';
import { splitInt8 } from './int8Checkpoint';
import { dequantizedValues, quantizeInt8PerChannel } from './quantize';

describe('int8 weights in a checkpoint', () => {
  before(() => useBackend('cpu'));

  it('round trip: codes and scales come back bit for bit, the weight dequantized, a byte per code on disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-ck-'));
    try {
      const w = tf.randomNormal([48, 32], 0, 0.05, 'float32', 3);
      const conv = quantizeInt8PerChannel(w, 1);
      const linear = quantizeInt8PerChannel(w, 0);
      const bias = { shape: [32], data: new Float32Array(32).fill(0.5) };
      const snap = { step: 0, tokensSeen: 0, params: new Map([['b', bias]]), optimizer: null, rng: null, dataPosition: null, valLoss: 1.5, extra: {} };
      const saved = await writeCheckpoint(dir, { ...snap, int8: new Map([['conv.weight', conv], ['linear.weight', linear]]) });
      const floatOnly = path.join(dir, 'float');
      const savedFloat = await writeCheckpoint(floatOnly, { ...snap, params: new Map([['b', bias], ['conv.weight', { shape: [48, 32], data: w.dataSync() as Float32Array }], ['linear.weight', { shape: [48, 32], data: w.dataSync() as Float32Array }]]) });
      const size = (d: string) => fs.statSync(path.join(d, 'model.safetensors')).size;
      // 2 × 48·32 values: 3 bytes saved on each, less the scales (32 + 48 floats)
      assert.ok(Math.abs(size(savedFloat.dir) - size(saved.dir) - (3 * 2 * 48 * 32 - 4 * (32 + 48))) < 256, `${size(saved.dir)} vs ${size(savedFloat.dir)}`);

      const ck = await loadCheckpoint(saved.dir);
      for (const [name, q] of [['conv.weight', conv], ['linear.weight', linear]] as const) {
        assert.deepEqual(ck.int8.get(name)!.q, q.q, `${name} codes`);
        assert.deepEqual(ck.int8.get(name)!.scale, q.scale, `${name} scales`);
        assert.equal(ck.int8.get(name)!.axis, q.axis);
        assert.deepEqual(ck.params.get(name)!.data, dequantizedValues(q), `${name} dequantized`);
      }
      assert.deepEqual([...ck.params.keys()].sort(), ['b', 'conv.weight', 'linear.weight']);
      const header = decodeSafetensors(fs.readFileSync(path.join(saved.dir, 'model.safetensors'))).tensors;
      assert.equal(header.get('conv.weight')!.fileDtype, 'I8');
      assert.deepEqual(header.get('conv.weight_scale')!.shape, [1, 32]);
      assert.deepEqual(header.get('linear.weight_scale')!.shape, [48, 1]);
      w.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('codes without their scales, or scales of the wrong shape, are refused naming the tensor', () => {
    const problem = (m: string) => new Error(m);
    const codes = { name: 'x.weight', dtype: 'I8' as const, shape: [2, 3], data: new Int8Array([1, -2, 3, 4, 5, -127]) };
    const read = (...t: Parameters<typeof encodeSafetensors>[0]) => decodeSafetensors(encodeSafetensors(t)).tensors;
    assert.throws(() => splitInt8(read(codes), problem), /int8 parameter 'x\.weight' has no F32 'x\.weight_scale'/);
    assert.throws(() => splitInt8(read({ name: 'x.weight_scale', dtype: 'F32', shape: [3], data: new Float32Array(3) }, codes), problem), /'x\.weight_scale' is \[3\]; for int8 \[2,3\] it must be \[2, 1\] or \[1, 3\]/);
    assert.throws(() => splitInt8(read({ name: 'n', dtype: 'I32', shape: [1], data: new Int32Array(1) }), problem), /parameter 'n' is I32/);
  });
});
