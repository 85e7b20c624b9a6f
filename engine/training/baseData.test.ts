/**
 * A derived run reads its base's data (./baseData.ts): the base's dataset split as the base split it (the same
 * validation batches the base evaluated on) with the base's tokenizer; an imported base has none on record.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import { prepareBaseData, pretrainRootOf } from './baseData';
import { prepareData } from './pretrainData';
import { ModelConfig } from '../../common/modelConfig';
import { parseRunConfig } from '../../common/runConfig';
import { readRunJson } from '../../common/node/runFiles';
import { useBackend } from '../testing';

describe('prepareBaseData', () => {
  it('gives the base pretraining run\'s validation batches, tokenized with its tokenizer', async () => {
    await useBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-basedata-'));
    const runDir = await tinyRun(dir, TINY_GPT);
    const base = await prepareBaseData(runDir, { batchSize: 4, evalBatches: 2, seed: 9, tokenizerFile: path.join(runDir, TOKENIZER_FILE), cacheDir: null });
    assert.equal(base.objective, 'causal-lm');
    assert.equal(base.seqLen, TINY_GPT.contextLength);
    assert.equal(base.rootRunDir, runDir);
    // what the base run itself would prepare with the same batch shape: the same held-out tokens
    const config = parseRunConfig((await readRunJson(runDir)).config, runDir);
    assert.equal(config.task, 'pretrain');
    if (config.task !== 'pretrain') return;
    const own = await prepareData(config.spec.dataset, config.spec.tokenizer, {
      objective: 'causal-lm', batchSize: 4, seqLen: TINY_GPT.contextLength, maskProbability: 0.15, evalBatches: 2, seed: 9,
      baseDir: config.baseDir, cacheDir: null, tokenizerFile: path.join(runDir, TOKENIZER_FILE), reuseTokenizer: true,
    });
    assert.deepEqual(Array.from(base.data.validation[1].inputIds), Array.from(own.validation[1].inputIds));
    assert.equal(base.data.tokenizer.vocabSize, own.tokenizer.vocabSize);
    base.data.close();
    own.close();
  });

  it('refuses an imported base, which has no data on record, and says what to do', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-basedata-'));
    const runDir = await tinyRun(dir, TINY_GPT);
    const json = await readRunJson(runDir);
    const model = ModelConfig.parse({ ...TINY_GPT, vocabSize: 80 });
    const imported = { task: 'import', source: { format: 'huggingface', dir: '/somewhere/gpt2', modelType: 'gpt2', architecture: 'GPT2LMHeadModel', files: [] }, model, notes: [] };
    fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...json, config: imported }));
    await assert.rejects(pretrainRootOf(runDir), /imported from \/somewhere\/gpt2 and has no training data on record; pretrain or fine-tune it/);
  });
});
