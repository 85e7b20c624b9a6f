import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelConfig, resolveModelConfig, type ModelConfigInput } from './modelConfig';
import { formatIssues } from './zodIssues';

const base: ModelConfigInput = { arch: 'gpt', vocabSize: 65, contextLength: 64, dModel: 128, nHeads: 4, nLayers: 4 };

/** The message for an impossible config: must name the field and say what to do. */
function refusal(patch: Record<string, unknown>): string {
  const r = ModelConfig.safeParse({ ...base, ...patch });
  assert.equal(r.success, false, `accepted ${JSON.stringify(patch)}`);
  return formatIssues(r.error!, { separator: '\n' });
}

describe('model config', () => {
  it('fills defaults per architecture', () => {
    const gpt = resolveModelConfig(ModelConfig.parse(base));
    assert.deepEqual([gpt.dFF, gpt.activation, gpt.layerNormEps, gpt.headDim, gpt.causal, gpt.positional], [512, 'gelu_new', 1e-5, 32, true, 'learned']);
    const bert = resolveModelConfig(ModelConfig.parse({ ...base, arch: 'bert' }));
    assert.deepEqual([bert.activation, bert.layerNormEps, bert.causal], ['gelu', 1e-12, false]);
  });

  it('refuses impossible configs, naming the field and the fix', () => {
    assert.match(refusal({ nHeads: 3 }), /^nHeads: dModel 128 is not divisible by nHeads 3; choose nHeads among 1, 2, 4, 8/);
    assert.match(refusal({ nLayers: 0 }), /^nLayers: .*>=1/);
    assert.match(refusal({ positional: 'alibi' }), /^positional: .*"learned"\|"sinusoidal"\|"rope"/);
    assert.match(refusal({ dModel: 24, nHeads: 8, positional: 'rope' }), /^positional: RoPE .* head size dModel\/nHeads = 3 is odd/);
    assert.match(refusal({ dModel: 15, nHeads: 3, positional: 'sinusoidal' }), /^positional: .*dModel 15 is odd/);
    assert.match(refusal({ moe: { experts: 2, topK: 3 } }), /^moe: moe.topK 3 exceeds moe.experts 2/);
    assert.match(refusal({ vocabSize: 1.5 }), /^vocabSize: /);
    assert.match(refusal({ dropout: 1 }), /^dropout: /);
    assert.match(refusal({ nHeadz: 4 }), /nHeadz/);
  });

  it('accepts every positional encoding, linear attention and MoE where the shapes allow', () => {
    for (const patch of [{ positional: 'rope' }, { positional: 'sinusoidal' }, { attention: 'linear' }, { moe: { experts: 4, topK: 2 } }]) {
      assert.ok(ModelConfig.safeParse({ ...base, ...patch }).success, JSON.stringify(patch));
    }
  });
});
