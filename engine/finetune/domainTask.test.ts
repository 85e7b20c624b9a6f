/**
 * Domain adaptation with LoRA (./domainTask.ts) on a tiny character GPT: the run lowers the perplexity of the
 * new text's held-out side, records before and after; the one door opens the LoRA run with its adapters merged
 * (equal to the adapted model within 1e-5), and export writes the adapter beside the merged model in PEFT's
 * layout, read back by an independent reader.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DOMAIN_EVAL_FILE, DomainEval } from '../../common/domainEval';
import { parseRunConfig } from '../../common/runConfig';
import { readRunJson } from '../../common/node/runFiles';
import { exportBundle } from '../export/exportBundle';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { createModel, type AnyModel } from '../models/registry';
import type { GPT } from '../models/gpt/model';
import { checkpointsDir, loadCheckpoint, restoreCheckpoint } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { runPython, useBackend } from '../testing';
import { attachLora } from './lora/attach';
import { loadAdapter } from './lora/peftFiles';
import { listAdapters } from './lora/adapterList';
import { loraDomainRun } from './loraRuns.testing';
import { Trainer } from '../training/trainer';

const logits = (m: AnyModel, ids: tf.Tensor2D) => (m as GPT).lmLogits(m.forward({ inputIds: ids }).hidden);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('domain adaptation with LoRA', () => {
  before(() => useBackend('cpu'));

  it('lowers in-domain perplexity; the run opens merged, exports merged model + PEFT adapter, and the adapter switches onto the base', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-domain-'));
    // trained long enough to have a language model: an untrained one's tiny tied embeddings leave an adapter nothing to steer
    const baseRun = await tinyRun(dir, TINY_GPT, { pretrain: { steps: 150, batchSize: 8, evalBatches: 2, evalInterval: 150, seed: 3, optimizer: { lr: 1e-2 }, schedule: { warmupSteps: 10 } } });
    const logs: string[] = [];
    const runDir = await loraDomainRun(dir, baseRun, { r: 4, alpha: 32, dropout: 0.05, targetModules: ['c_attn', 'c_fc'] },
      { steps: 40, batchSize: 8, evalInterval: 20, evalBatches: 2, optimizer: { lr: 3e-2 }, schedule: { warmupSteps: 2, minLr: 3e-3 } },
      (e) => { if (e.type === 'log') logs.push(e.message); });
    assert.ok(logs.some((l) => /LoRA r=4 alpha=32 on 4 modules \(c_attn: 2, c_fc: 2\): [\d,]+ trainable of [\d,]+ parameters \(\d+\.\d\d%\)/.test(l)), logs.join('\n'));

    const ev = DomainEval.parse(JSON.parse(fs.readFileSync(path.join(runDir, DOMAIN_EVAL_FILE), 'utf8')));
    console.log(`  in-domain ppl ${ev.before!.inDomain.perplexity.toFixed(2)} → ${ev.after!.inDomain.perplexity.toFixed(2)}; out-of-domain ${ev.before!.outOfDomain!.perplexity.toFixed(2)} → ${ev.after!.outOfDomain!.perplexity.toFixed(2)}`);
    assert.ok(ev.after!.inDomain.perplexity < 0.9 * ev.before!.inDomain.perplexity, 'in-domain perplexity falls by a tenth at least');
    assert.ok(ev.before!.outOfDomain!.sequences > 0);

    // the one door: adapters merged on load, equal to the adapted model rebuilt from the same checkpoint
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const rm = await loadRunModel(runDir);
    assert.ok(!rm.model.params.names.some((n) => n.includes('lora_')), 'the opened model is plain');
    const runConfig = parseRunConfig((await readRunJson(runDir)).config, runDir);
    const adapted = createModel(rm.modelConfig, 1);
    attachLora(adapted, runConfig.task === 'finetune' ? runConfig.finetune.lora : assert.fail('not a finetune run'), 0);
    restoreCheckpoint(await loadCheckpoint(path.join(checkpointsDir(runDir), rm.checkpoint.name), { optimizer: false }), adapted.params);
    const d = maxDiff(logits(rm.model, ids), logits(adapted, ids));
    assert.ok(d < 1e-5, `merged-on-load logits differ from the adapted model's by ${d}`);
    const baseModel = (await loadRunModel(baseRun)).model;
    assert.ok(maxDiff(logits(baseModel, ids), logits(adapted, ids)) > 1e-4, 'the adaptation changed the model');

    // export: merged model + adapter/ in PEFT's layout
    const out = path.join(dir, 'bundle');
    await exportBundle(runDir, 'last', out);
    const check = runPython(['-c', PEFT_CHECK, path.join(out, 'adapter')]);
    assert.equal(check.status, 0, check.stderr + check.stdout);
    assert.match(check.stdout, /ok 8 tensors/);

    // the adapters over the base: this run's
    const listed = await listAdapters(baseRun);
    assert.deepEqual(listed.map((a) => [a.name, a.r, a.alpha, a.targets]), [[path.basename(runDir), 4, 32, ['c_attn', 'c_fc']]]);

    // switching: the base with the adapter loaded from the files computes the run's model; detached, the base again
    const before = logits(baseModel, ids);
    const att = loadAdapter(baseModel, path.join(out, 'adapter'));
    assert.ok(maxDiff(logits(baseModel, ids), logits(adapted, ids)) < 1e-5, 'base + adapter file = the LoRA run');
    att.detach();
    assert.equal(maxDiff(logits(baseModel, ids), before), 0, 'detached: the base bit for bit');
    [rm.model, adapted, baseModel].forEach((m) => m.dispose());
  });

  it('a stopped LoRA run resumes from its checkpoint (adapters attached before the restore) and keeps its before figures', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-domain-resume-'));
    const baseRun = await tinyRun(dir, TINY_GPT);
    const loop = { steps: 8, batchSize: 4, evalInterval: 4, evalBatches: 1, optimizer: { lr: 1e-2 }, schedule: { warmupSteps: 1, minLr: 1e-3 } };
    const runDir = await loraDomainRun(dir, baseRun, { r: 2, alpha: 4 }, loop, undefined, 3);
    const before = fs.readFileSync(path.join(runDir, DOMAIN_EVAL_FILE), 'utf8');
    const logs: string[] = [];
    const summary = await (await Trainer.resume(runDir, { cacheDir: null, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } })).run();
    assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
    assert.ok(logs.some((l) => /resumed from checkpoint step-0+3 at step 3/.test(l)), logs.join('\n'));
    const ev = DomainEval.parse(JSON.parse(fs.readFileSync(path.join(runDir, DOMAIN_EVAL_FILE), 'utf8')));
    assert.ok(ev.before, 'the before figures are kept');
    assert.deepEqual(ev.before, DomainEval.parse(JSON.parse(before)).before, 'the base is not measured again on resume');
    assert.ok(ev.after, 'the resumed run evaluated');
    (await loadRunModel(runDir)).model.dispose();
  });

  it('a BERT continues masked LM on the new text with every weight training (method full)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-domain-bert-'));
    const baseRun = await tinyRun(dir, TINY_BERT, { tokenizer: tinyBertTokenizer });
    const logs: string[] = [];
    const runDir = await loraDomainRun(dir, baseRun, 'full', { steps: 12, batchSize: 4, evalInterval: 12, evalBatches: 2, optimizer: { lr: 3e-3 }, schedule: { warmupSteps: 1, minLr: 3e-4 } },
      (e) => { if (e.type === 'log') logs.push(e.message); });
    assert.ok(!logs.some((l) => l.startsWith('LoRA')), 'no adapters on a full run');
    const ev = DomainEval.parse(JSON.parse(fs.readFileSync(path.join(runDir, DOMAIN_EVAL_FILE), 'utf8')));
    assert.equal(ev.objective, 'mlm');
    console.log(`  bert full: in-domain MLM ppl ${ev.before!.inDomain.perplexity.toFixed(2)} → ${ev.after!.inDomain.perplexity.toFixed(2)}`);
    assert.ok(ev.after!.inDomain.perplexity < ev.before!.inDomain.perplexity, 'in-domain perplexity falls');
    const rm = await loadRunModel(runDir);
    const base = await loadRunModel(baseRun);
    const w = 'bert.embeddings.word_embeddings.weight';
    assert.ok(maxDiff(rm.model.params.get(w), base.model.params.get(w)) > 0, 'a full run trains the embeddings too');
    rm.model.dispose();
    base.model.dispose();
  });
});

/** An independent reader (standard library): the header as the safetensors spec lays it out, names and config keys as PEFT writes them. */
const PEFT_CHECK = String.raw`
import json, re, struct, sys, os
d = sys.argv[1]
raw = open(os.path.join(d, 'adapter_model.safetensors'), 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__', {})
assert meta.get('format') == 'pt', meta
end = 0
for k, v in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
    assert re.fullmatch(r'base_model\.model\.transformer\.h\.\d+\.(attn\.c_attn|mlp\.c_fc)\.lora_[AB]\.weight', k), k
    assert v['dtype'] == 'F32'
    a, b = v['data_offsets']
    assert a == end and b - a == 4 * v['shape'][0] * v['shape'][1], (k, v)
    end = b
    if '.lora_A.' in k: assert v['shape'][0] == 4, (k, v['shape'])
    else: assert v['shape'][1] == 4, (k, v['shape'])
assert 8 + n + end == len(raw)
c = json.load(open(os.path.join(d, 'adapter_config.json')))
peft_keys = {'alpha_pattern', 'auto_mapping', 'base_model_name_or_path', 'bias', 'fan_in_fan_out', 'inference_mode', 'init_lora_weights',
  'layer_replication', 'layers_pattern', 'layers_to_transform', 'loftq_config', 'lora_alpha', 'lora_dropout', 'megatron_config', 'megatron_core',
  'modules_to_save', 'peft_type', 'r', 'rank_pattern', 'revision', 'target_modules', 'task_type', 'use_dora', 'use_rslora'}
assert set(c) == peft_keys, set(c) ^ peft_keys
assert c['peft_type'] == 'LORA' and c['r'] == 4 and c['lora_alpha'] == 32 and c['lora_dropout'] == 0.05 and c['bias'] == 'none'
assert c['fan_in_fan_out'] is True and c['task_type'] == 'CAUSAL_LM' and c['target_modules'] == ['c_attn', 'c_fc'], c
print('ok', len(header), 'tensors')
`;
