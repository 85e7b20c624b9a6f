/**
 * Distillation runs end to end on tiny runs: the student starts from the right teacher layers, trains
 * through the shared loop with its loss parts logged, opens through loadRunModel without its training
 * aids, and resumes exactly.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '../../common/modelConfig';
import { latestValidCheckpoint } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { readMetrics } from '../runs/metricsLog';
import { createModel } from '../models/registry';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer, type TrainerEvent } from '../training/trainer';
import { useBackend } from '../testing';
import { DISTILLATION_FILE, DistillationFile } from '../../common/compressionFiles';
import { initFromTeacher, lossLayerOf, studentConfig } from './student';

const equal = (a: tf.Tensor, b: tf.Tensor) => a.shape.join() === b.shape.join() && a.dataSync().every((v, i) => v === b.dataSync()[i]);

describe('distillation student', () => {
  before(() => useBackend('cpu'));

  for (const arch of ['gpt', 'bert'] as const) {
    it(`${arch}: half the layers, initialised from teacher layers 0 and 2, embeddings and heads copied`, () => {
      const teacherC = ModelConfig.parse({ arch, vocabSize: 30, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 4, dFF: 16 });
      const teacher = createModel(teacherC, 1);
      const student = createModel(studentConfig(teacherC, {}), 2);
      try {
        assert.equal(student.config.nLayers, 2);
        const init = initFromTeacher(student, teacher);
        assert.deepEqual(init.layers, [0, 2]);
        assert.deepEqual(init.random, []);
        assert.equal(init.copied, student.params.names.length);
        const layer = arch === 'gpt' ? (i: number) => `h.${i}.attn.c_attn.weight` : (i: number) => `bert.encoder.layer.${i}.attention.self.query.weight`;
        assert.ok(equal(student.params.get(layer(0)), teacher.params.get(layer(0))));
        assert.ok(equal(student.params.get(layer(1)), teacher.params.get(layer(2))));
        assert.ok(!equal(student.params.get(layer(1)), teacher.params.get(layer(1))), 'not teacher layer 1');
        const emb = arch === 'gpt' ? 'wte.weight' : 'bert.embeddings.word_embeddings.weight';
        assert.ok(equal(student.params.get(emb), teacher.params.get(emb)));
      } finally {
        teacher.dispose();
        student.dispose();
      }
    });
  }

  it('a narrower student keeps what fits (embeddings differ in width: random) and says what it left random', () => {
    const teacherC = ModelConfig.parse({ arch: 'gpt', vocabSize: 30, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2 });
    const teacher = createModel(teacherC, 1);
    const student = createModel(studentConfig(teacherC, { dModel: 4, nLayers: 2 }), 2);
    try {
      const init = initFromTeacher(student, teacher);
      assert.equal(init.copied, 0);
      assert.match(init.random[0], /wte\.weight \(\[30,4\] in the student, \[30,8\] in the teacher\)/);
    } finally {
      teacher.dispose();
      student.dispose();
    }
  });

  it('maps student layers to the teacher\'s for the losses (2i + 1 for half) and refuses a shape that cannot be, naming the field', () => {
    assert.deepEqual([0, 1, 2].map((i) => lossLayerOf(i, 3, 6)), [1, 3, 5]);
    assert.deepEqual([0, 1].map((i) => lossLayerOf(i, 2, 2)), [0, 1]);
    const teacherC = ModelConfig.parse({ arch: 'gpt', vocabSize: 30, contextLength: 8, dModel: 16, nHeads: 4, nLayers: 4 });
    assert.throws(() => studentConfig(teacherC, { nHeads: 3 }), (e: Error & { field?: string[] }) => /compress.student.nHeads|dModel 16 is not divisible by nHeads 3/.test(e.message));
    // a head-pruned teacher's explicit head width does not follow a student of another width
    assert.equal(studentConfig({ ...teacherC, nHeads: 3, headDim: 4 }, { dModel: 8, nHeads: 2 }).headDim, undefined);
  });
});

describe('distillation runs', () => {
  let tmp: string;
  let teacherDir: string;
  before(async () => {
    await useBackend('cpu');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-distill-'));
    teacherDir = await tinyRun(path.join(tmp, 'teacher'), { ...TINY_GPT, nLayers: 4 }, { pretrain: { steps: 8, evalInterval: 4 } });
  });

  const settings = (over: object = {}) => ({
    method: 'distill', student: { dModel: 8 }, weights: { soft: 1, hard: 1, cosine: 1, attention: 1 },
    loop: { steps: 6, batchSize: 2, evalInterval: 3, evalBatches: 1, checkpointInterval: 100, schedule: { warmupSteps: 1 } }, ...over,
  });

  async function distill(name: string, over: object = {}, stopAt?: number) {
    const config = await resolveDerivedRun({ task: 'compress', baseRunDir: teacherDir, baseCheckpoint: 'last', settings: settings(over) });
    const events: TrainerEvent[] = [];
    const t = await Trainer.startDerived(config, path.join(tmp, 'runs'), name, {
      cacheDir: null, backend: 'cpu', onEvent: (e) => { events.push(e); if (stopAt && e.type === 'step' && e.step === stopAt) t.stop(); },
    });
    return { summary: await t.run(), events, config };
  }

  it('trains a half-depth, narrower student with every loss part logged; the run opens as a plain student', async () => {
    const { summary, config } = await distill('student');
    assert.equal(summary.status, 'completed');
    assert.deepEqual([config.model.nLayers, config.model.dModel], [2, 8]);
    const { records } = await readMetrics(summary.run_dir);
    for (const part of ['distill/soft', 'distill/hard', 'distill/cosine', 'distill/attention']) {
      assert.ok(records.every((r) => Number.isFinite(r.scalars[part]) && r.scalars[part] >= 0), `${part} at every step`);
    }
    const desc = DistillationFile.parse(JSON.parse(fs.readFileSync(path.join(summary.run_dir, DISTILLATION_FILE), 'utf8')));
    assert.ok(Number.isFinite(desc.teacher.val.loss) && desc.teacher.parameters > desc.student.parameters, JSON.stringify(desc));
    assert.deepEqual(desc.layerMap, [1, 3]);
    // the checkpoint holds the projections (resume needs them); the opened model does not
    const ck = await latestValidCheckpoint(summary.run_dir);
    assert.ok([...ck!.params.keys()].some((n) => n.startsWith('distill.proj.')));
    const rm = await loadRunModel(summary.run_dir);
    try {
      assert.ok(!rm.model.params.names.some((n) => n.startsWith('distill.')));
      assert.equal(rm.model.config.nLayers, 2);
    } finally {
      rm.model.dispose();
    }
  });

  it('the scratch baseline (random init, hard loss only) trains the same student without the teacher', async () => {
    const { summary } = await distill('scratch', { init: 'random', weights: { soft: 0, cosine: 0, attention: 0, hard: 1 } });
    assert.equal(summary.status, 'completed');
    const { records } = await readMetrics(summary.run_dir);
    assert.ok(records.every((r) => r.scalars['distill/soft'] === undefined && Math.abs(r.scalars['distill/hard'] - r.scalars['train/loss']) < 1e-6));
  });

  it('resumes a stopped distillation to exactly the parameters of an uninterrupted one', async () => {
    const whole = await distill('whole');
    const part = await distill('part', {}, 2);
    assert.equal(part.summary.status, 'cancelled');
    const done = await (await Trainer.resume(part.summary.run_dir, { cacheDir: null, backend: 'cpu' })).run();
    assert.equal(done.status, 'completed');
    const a = await latestValidCheckpoint(whole.summary.run_dir);
    const b = await latestValidCheckpoint(part.summary.run_dir);
    assert.equal(b!.manifest.step, 6);
    for (const [name, t] of a!.params) assert.deepEqual(b!.params.get(name)!.data, t.data, `${name} equals the uninterrupted run's`);
  });

  it('bert (mlm-nsp): soft targets at the masked positions, NSP in the hard loss, every part finite', async () => {
    const bertDir = await tinyRun(path.join(tmp, 'bert'), { ...TINY_BERT, nLayers: 4 }, { tokenizer: tinyBertTokenizer, pretrain: { steps: 4, evalInterval: 2, objective: 'mlm-nsp' } });
    const config = await resolveDerivedRun({ task: 'compress', baseRunDir: bertDir, baseCheckpoint: 'last', settings: settings({ student: {}, loop: { steps: 3, batchSize: 2, evalInterval: 3, evalBatches: 1, schedule: { warmupSteps: 1 } } }) });
    assert.equal(config.base.objective, 'mlm-nsp');
    const t = await Trainer.startDerived(config, path.join(tmp, 'runs'), 'bert-student', { cacheDir: null, backend: 'cpu' });
    const summary = await t.run();
    assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
    const { records } = await readMetrics(summary.run_dir);
    for (const part of ['distill/soft', 'distill/hard', 'distill/cosine', 'distill/attention']) assert.ok(records.every((r) => Number.isFinite(r.scalars[part])), part);
    assert.ok(Number.isFinite(records.at(-1)!.scalars['val/loss']));
  });
});
