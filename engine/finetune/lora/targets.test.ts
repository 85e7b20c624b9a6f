/** Target patterns (./targets.ts): PEFT's matching over real module names, and typos refused with what they could mean. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../models/registry';
import { useBackend } from '../../testing';
import { adaptableModules, editDistance, loraTargets, matchesTarget, modulesOf, resolveLoraTargets, type ModuleSource } from './targets';

let gpt: ModuleSource;
let bert: ModuleSource;

describe('LoRA targets', () => {
  before(async () => {
    await useBackend('cpu');
    gpt = modulesOf(createModel({ arch: 'gpt', vocabSize: 20, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2 }, 1));
    bert = modulesOf(createModel({ arch: 'bert', vocabSize: 20, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2, dFF: 16 }, 1));
  });

  it('lists the linear layers with their layouts, never embeddings, norms or the bias-free score head', () => {
    const names = adaptableModules(gpt).map((m) => m.name);
    assert.deepEqual(names.filter((n) => n.startsWith('h.0.')), ['h.0.attn.c_attn', 'h.0.attn.c_proj', 'h.0.mlp.c_fc', 'h.0.mlp.c_proj']);
    assert.ok(!names.some((n) => /wte|wpe|ln_/.test(n)));
    const cAttn = adaptableModules(gpt).find((m) => m.name === 'h.0.attn.c_attn')!;
    assert.deepEqual([cAttn.layout, cAttn.inFeatures, cAttn.outFeatures], ['in_out', 8, 24]);
    const inter = adaptableModules(bert).find((m) => m.name === 'bert.encoder.layer.1.intermediate.dense')!;
    assert.deepEqual([inter.layout, inter.inFeatures, inter.outFeatures], ['out_in', 8, 16]);
  });

  it('matches as PEFT does: a plain name whole or as a dotted suffix, a regular expression over the whole name', () => {
    assert.ok(matchesTarget('c_attn', 'h.0.attn.c_attn'));
    assert.ok(!matchesTarget('attn', 'h.0.attn.c_attn'), 'no match in the middle of a part');
    assert.ok(!matchesTarget('_attn', 'h.0.attn.c_attn'), 'a suffix must start at a dot');
    assert.ok(matchesTarget('attention.self.query', 'bert.encoder.layer.3.attention.self.query'), 'dots alone do not make a regex');
    assert.ok(matchesTarget('h\\.1\\..*c_proj', 'h.1.attn.c_proj'));
    assert.ok(!matchesTarget('h\\.1\\..*c_proj', 'h.0.attn.c_proj'));
    assert.ok(!matchesTarget('.*c_at', 'h.0.attn.c_attn'), 'a regex must match the whole name');
  });

  it('counts each pattern and defaults to PEFT\'s targets per architecture', () => {
    const m = loraTargets(gpt, ['c_attn', 'mlp.c_proj']);
    assert.deepEqual(m.problems, []);
    assert.deepEqual(m.counts, { c_attn: 2, 'mlp.c_proj': 2 });
    assert.deepEqual(m.modules.map((x) => x.name), ['h.0.attn.c_attn', 'h.0.mlp.c_proj', 'h.1.attn.c_attn', 'h.1.mlp.c_proj']);
    assert.deepEqual(resolveLoraTargets(gpt, undefined).patterns, ['c_attn']);
    const b = resolveLoraTargets(bert, undefined);
    assert.deepEqual(b.counts, { query: 2, value: 2 });
    assert.deepEqual(b.modules.map((x) => x.name), ['bert.encoder.layer.0.attention.self.query', 'bert.encoder.layer.0.attention.self.value', 'bert.encoder.layer.1.attention.self.query', 'bert.encoder.layer.1.attention.self.value']);
  });

  it('refuses a near-miss with the names it could mean, and a non-linear target with why', () => {
    assert.throws(() => resolveLoraTargets(gpt, ['c_atn']), (err: Error) => {
      assert.match(err.message, /target 'c_atn' matches no module of this gpt model; did you mean 'c_attn'\?/);
      return true;
    });
    assert.match(loraTargets(bert, ['querry'])!.problems[0], /did you mean 'query'/);
    assert.match(loraTargets(bert, ['self.vlaue'])!.problems[0], /did you mean 'self\.value'/);
    assert.match(loraTargets(gpt, ['wte'])!.problems[0], /matches wte, which is not a linear layer/);
    assert.match(loraTargets(gpt, ['zzzzzzzz'])!.problems[0], /matches no module .* its linear layers are e\.g\. 'c_attn'/);
    assert.match(loraTargets(gpt, ['c_attn('])!.problems[0], /not a valid regular expression/);
    // every bad pattern is reported, the good ones still counted
    const m = loraTargets(gpt, ['c_attn', 'c_atn', 'c_fcc']);
    assert.equal(m.problems.length, 2);
    assert.equal(m.counts.c_attn, 2);
  });

  it('edit distance', () => {
    assert.equal(editDistance('c_atn', 'c_attn'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });
});
