import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelConfig } from '../../common/modelConfig';
import { checkMemory, memoryLimit, sizeText } from './memoryBudget';

const config = (nLayers: number, dModel: number) => ModelConfig.parse({ arch: 'gpt', vocabSize: 50257, contextLength: 1024, dModel, nHeads: 16, nLayers });

test('a model too large for the backend is refused up front, saying how much it needs and what to lower', () => {
  // GPT-2 small fits wasm with a batch of 2 × 128; with 4 × 256 its activations no longer do
  assert.doesNotThrow(() => checkMemory(config(12, 768), 2, 128, 'wasm'));
  assert.throws(() => checkMemory(config(12, 768), 4, 256, 'wasm'), /activations of a batch of 4×256/);
  // dModel 2048 × 24 layers: ~20 GB, beyond wasm's 4 GiB
  assert.throws(() => checkMemory(config(24, 2048), 12, 1024, 'wasm'), (e: Error & { code?: string }) =>
    e.code === 'INVALID_CONFIG' && /needs about \d+\.\d GB .*the wasm backend \(it addresses at most 4 GiB\) leaves for training .*tfjs-node.*lower nLayers/.test(e.message));
  // native backends: the machine's memory is the limit
  const GiB = 2 ** 30;
  assert.doesNotThrow(() => checkMemory(config(24, 2048), 1, 256, 'node', 64 * GiB));
  assert.throws(() => checkMemory(config(24, 2048), 1, 256, 'node', 8 * GiB), /this machine's 8\.6 GB of memory/);
  assert.ok(memoryLimit('cpu', 8 * GiB).bytes < 8 * GiB, 'room is left for everything besides the estimate');
});

test('sizes are written in the unit that keeps them short, up to exabytes', () => {
  assert.deepEqual([5e8, 16e9, 1.92e12, 1.920000444416e21 / 1000, 2e18].map(sizeText), ['0.50 GB', '16.0 GB', '1.9 TB', '1.9 EB', '2.0 EB']);
  // a 96-layer, width-8192 model: the figure reads in terabytes, not as a 13-digit count of gigabytes
  assert.throws(() => checkMemory(config(96, 8192), 64, 2048, 'node', 8 * 2 ** 30), /needs about \d+\.\d TB/);
});
