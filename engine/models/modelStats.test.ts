import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelConfig, MODEL_PRESETS, type ModelConfigInput } from '../../common/modelConfig';
import { memoryEstimate, modelStats } from '../../common/modelStats';
import { useBackend } from '../testing';
import { createModel } from './registry';

const CONFIGS: ModelConfigInput[] = [
  MODEL_PRESETS['gpt-char-small'],
  { arch: 'gpt', vocabSize: 50, contextLength: 16, dModel: 12, nHeads: 3, nLayers: 3, numLabels: 4, dFF: 20 },
  { arch: 'gpt', vocabSize: 50, contextLength: 16, dModel: 12, nHeads: 3, nLayers: 1, positional: 'sinusoidal' },
  { arch: 'bert', vocabSize: 41, contextLength: 20, dModel: 24, nHeads: 4, nLayers: 2, dFF: 48 },
  { arch: 'bert', vocabSize: 41, contextLength: 20, dModel: 24, nHeads: 4, nLayers: 2, numLabels: 15, typeVocabSize: 3 },
  { arch: 'gpt', vocabSize: 50, contextLength: 16, dModel: 12, nHeads: 3, nLayers: 2, moe: { experts: 4, topK: 2 } },
  { arch: 'bert', vocabSize: 41, contextLength: 20, dModel: 24, nHeads: 4, nLayers: 1, moe: { experts: 3, topK: 1 }, positional: 'rope' },
];

describe('model statistics', () => {
  it('counts exactly the parameters the engine creates', async () => {
    await useBackend('cpu');
    for (const cfg of CONFIGS) {
      const model = createModel(cfg, 0);
      assert.equal(modelStats(ModelConfig.parse(cfg)).parameters, model.params.count, JSON.stringify(cfg));
      model.dispose();
    }
  });

  it('gives the reference GPT step the FLOPs measured in PERF-NOTES (5.16 MFLOP per token)', () => {
    const s = modelStats(ModelConfig.parse(MODEL_PRESETS['gpt-char-small']));
    assert.ok(Math.abs(s.trainingFlopsPerToken - 5.16e6) / 5.16e6 < 0.01, `${s.trainingFlopsPerToken}`);
    assert.equal(s.parameters, 809_856); // torch_baseline.py prints 809,856
  });

  it('estimates memory that grows with batch and is dominated by weights for tiny batches', () => {
    const cfg = ModelConfig.parse(MODEL_PRESETS['gpt-char-small']);
    const small = memoryEstimate(cfg, 1, 64);
    const big = memoryEstimate(cfg, 32, 64);
    assert.ok(big.activations > 20 * small.activations);
    assert.equal(small.parameters, 809_856 * 4);
    assert.equal(small.total, small.parameters * 4 + small.activations);
  });
});
