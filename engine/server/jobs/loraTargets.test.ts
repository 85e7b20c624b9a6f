/** The target picker's job (./loraTargets.ts): a run's adaptable modules from its config, each pattern counted, a typo answered with suggestions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoraTargetsResult, adapterParams } from '../../../common/loraTargets';
import { TINY_GPT, tinyRun } from '../../inspect/tinyRuns.testing';
import { useBackend } from '../../testing';
import { loraTargetsJob } from './loraTargets';

describe('finetune.loraTargets', () => {
  it('lists a run\'s linear modules, counts each pattern, and says what a typo could mean', async () => {
    await useBackend('cpu');
    const runDir = await tinyRun(fs.mkdtempSync(path.join(os.tmpdir(), 'wb-targets-')), TINY_GPT);
    const run = (patterns?: string[]) => loraTargetsJob.run({ kind: 'finetune.loraTargets', runDir, ...(patterns ? { patterns } : {}) }, {} as never);

    const dflt = LoraTargetsResult.parse(await run());
    assert.deepEqual([dflt.arch, dflt.patterns, dflt.selected], ['gpt', ['c_attn'], ['h.0.attn.c_attn', 'h.1.attn.c_attn']]);
    assert.equal(dflt.adaptable.length, 8, 'four linear layers in each of two blocks');
    const d = TINY_GPT.dModel;
    assert.equal(adapterParams(dflt.adaptable.filter((m) => dflt.selected.includes(m.name)), 8), 2 * 8 * (d + 3 * d));
    assert.ok(dflt.totalParams > 0);

    const typo = await run(['c_atn', 'mlp.c_fc']);
    assert.deepEqual(typo.counts, { c_atn: 0, 'mlp.c_fc': 2 });
    assert.equal(typo.problems.length, 1);
    assert.match(typo.problems[0], /did you mean 'c_attn'/);
    assert.equal(typo.suggestions.c_atn[0], 'c_attn');
  });
});
