/**
 * The trainer end to end on a tiny character-level GPT and a tiny BERT: a real run writes a complete run
 * folder; stopping and resuming gives bit-for-bit the parameters of an uninterrupted run; pause holds the
 * run; a diverging run stops with its last checkpoint intact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetConfig } from '../../common/datasetConfig';
import { PretrainConfig, type PretrainConfigInput } from '../../common/pretrainConfig';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import { readMetrics } from '../runs/metricsLog';
import { latestValidCheckpoint, listCheckpoints, loadCheckpoint } from '../runs/checkpoint';
import { readRunJson } from '../../common/node/runFiles';
import { parseRunConfig, pretrainSpecOf } from '../../common/runConfig';
import { Trainer, type RunSpec, type TrainerEvent } from './trainer';
import { TFEVENTS_READER, runPython } from '../testing';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
let tmp: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function charGpt(pretrain: PretrainConfigInput): RunSpec {
  return {
    name: 'tiny',
    dataset: DatasetConfig.parse({
      source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail',
      cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 },
    }),
    tokenizer: TokenizerConfig.parse({ kind: 'char' }),
    model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 },
    pretrain: PretrainConfig.parse({ batchSize: 8, evalBatches: 3, seed: 11, schedule: { warmupSteps: 4 }, ...pretrain }),
  };
}

async function train(spec: RunSpec, runsDir: string, onEvent?: (e: TrainerEvent, t: Trainer) => void) {
  let trainer: Trainer | undefined;
  trainer = await Trainer.start(spec, runsDir, { baseDir: tmp, cacheDir: path.join(tmp, 'cache'), onEvent: (e) => trainer && onEvent?.(e, trainer) });
  return { trainer, summary: await trainer.run() };
}

describe('trainer', () => {
  it('runs, evaluates, checkpoints, and writes curves that an independent TensorBoard reader agrees with', async () => {
    const events: TrainerEvent[] = [];
    const { summary } = await train(charGpt({ steps: 24, evalInterval: 8, checkpointInterval: 10, keepCheckpoints: 2 }), path.join(tmp, 'a'), (e) => events.push(e));
    assert.equal(summary.status, 'completed');
    assert.equal(summary.steps, 24);
    assert.ok(summary.final_val_loss! < Math.log(65), `val loss ${summary.final_val_loss} below uniform guessing`);
    assert.ok(summary.tokens_per_s! > 0);
    assert.deepEqual(events.filter((e) => e.type === 'eval').map((e) => (e as { step: number }).step), [8, 16, 24]);

    const run = await readRunJson(summary.run_dir);
    assert.equal(run.status, 'completed');
    assert.equal(run.step, 24);
    assert.equal(run.bestValLoss, summary.best_val_loss);
    assert.ok(fs.existsSync(path.join(summary.run_dir, 'tokenizer.json')));
    const cks = await listCheckpoints(summary.run_dir);
    assert.ok(cks.some((c) => c.step === 24), 'a last checkpoint at the final step');
    for (const c of cks) await loadCheckpoint(c.dir);

    const { records } = await readMetrics(summary.run_dir);
    assert.deepEqual(records.map((r) => r.step), Array.from({ length: 24 }, (_, i) => i + 1));
    assert.ok(records.every((r) => Number.isFinite(r.scalars['train/loss']) && r.scalars['grad_norm/layer.1'] > 0));
    assert.ok(records.every((r) => r.scalars['update_ratio/layer.0'] > 0), 'an update ratio per layer at every step');
    const firstEval = events.find((e): e is Extract<TrainerEvent, { type: 'eval' }> => e.type === 'eval')!;
    assert.equal(records[7].scalars['val/loss'], firstEval.val.loss, 'evaluations land in the metrics of their step');

    const eventFiles = fs.readdirSync(summary.run_dir).filter((f) => f.startsWith('events.out.tfevents.'));
    assert.equal(eventFiles.length, 1);
    const reader = runPython([TFEVENTS_READER, path.join(summary.run_dir, eventFiles[0])]);
    assert.equal(reader.status, 0, reader.stderr);
    const tb = JSON.parse(reader.stdout) as { scalars: Record<string, [number, number][]>; histograms: string[] };
    for (const tag of ['train/loss', 'train/lr', 'grad/global_norm', 'val/loss', 'grad_norm/layer.0']) {
      const fromJsonl = records.filter((r) => r.scalars[tag] !== undefined).map((r) => [r.step, Math.fround(r.scalars[tag])]);
      assert.deepEqual(tb.scalars[tag], fromJsonl, `${tag} in the event file equals metrics.jsonl`);
    }
    assert.ok(tb.histograms.includes('weights/h.0.attn.c_attn.weight') && tb.histograms.includes('grads/wte.weight'));
  });

  it('resumes a stopped run to exactly the parameters of an uninterrupted one, dropout included', async () => {
    const base = charGpt({ steps: 16, evalInterval: 8, checkpointInterval: 100 });
    const spec = { ...base, model: { ...base.model, dropout: 0.1 } };
    const whole = await train(spec, path.join(tmp, 'whole'));
    const part = await train(spec, path.join(tmp, 'part'), (e, t) => { if (e.type === 'step' && e.step === 6) t.stop(); });
    assert.equal(part.summary.status, 'cancelled');
    assert.equal(part.summary.steps, 6);
    const resumed = await Trainer.resume(part.summary.run_dir, { cacheDir: path.join(tmp, 'cache') });
    const done = await resumed.run();
    assert.equal(done.status, 'completed');
    assert.equal(done.steps, 16);
    const a = await latestValidCheckpoint(whole.summary.run_dir);
    const b = await latestValidCheckpoint(part.summary.run_dir);
    assert.equal(a!.manifest.step, 16);
    assert.equal(b!.manifest.step, 16);
    for (const [name, t] of a!.params) assert.deepEqual(b!.params.get(name)!.data, t.data, `${name} equals the uninterrupted run's`);
    const curve = async (dir: string) => (await readMetrics(dir)).records.map((r) => [r.step, r.scalars['train/loss']]);
    assert.deepEqual(await curve(part.summary.run_dir), await curve(whole.summary.run_dir), 'the resumed curve continues the interrupted one');
    const elapsed = (await readMetrics(part.summary.run_dir)).records.map((r) => r.scalars['progress/elapsed_s']!);
    assert.ok(elapsed.every((t, i) => i === 0 || t > elapsed[i - 1]), `elapsed time continues across the resume: ${elapsed.map((t) => t.toFixed(3))}`);
  });

  it('pauses between steps with a checkpoint, and goes on when resumed', async () => {
    let sawPaused = false;
    const { summary } = await train(charGpt({ steps: 10, evalInterval: 10 }), path.join(tmp, 'pause'), (e, t) => {
      if (e.type === 'step' && e.step === 3) t.pause();
      if (e.type === 'status' && e.status === 'paused') {
        sawPaused = true;
        const run = JSON.parse(fs.readFileSync(path.join(e.runDir, 'run.json'), 'utf8'));
        assert.equal(run.status, 'paused');
        assert.equal(run.lastCheckpoint, 'step-00000003');
        setTimeout(() => t.resume(), 50);
      }
    });
    assert.ok(sawPaused);
    assert.equal(summary.status, 'completed');
    assert.equal(summary.steps, 10);
  });

  it('stops a diverging run before the bad step and keeps its last checkpoint good', async () => {
    const diagnostics: string[] = [];
    const { summary } = await train(charGpt({ steps: 40, evalInterval: 40, checkpointInterval: 2, clipNorm: 0, optimizer: { lr: 1e12 }, schedule: { warmupSteps: 0, minLr: 0 } }), path.join(tmp, 'nan'),
      (e) => { if (e.type === 'diagnostic') diagnostics.push(e.diagnostic.kind); });
    assert.equal(summary.status, 'failed');
    assert.ok(diagnostics.includes('non-finite-loss'), diagnostics.join());
    assert.match(summary.error!.message, /learning rate/);
    const ck = await latestValidCheckpoint(summary.run_dir);
    assert.ok(ck);
    for (const [name, t] of ck!.params) assert.ok(t.data.every(Number.isFinite), `${name} is finite in the last checkpoint`);
  });

  it('makes a step count given at start the run\'s own: the schedule decays over it and run.json records it', async () => {
    const spec = charGpt({ steps: 1000, evalInterval: 1000, schedule: { warmupSteps: 2, minLr: 1e-4 }, optimizer: { lr: 1e-3 } });
    const trainer = await Trainer.start(spec, path.join(tmp, 'steps'), { baseDir: tmp, cacheDir: path.join(tmp, 'cache'), steps: 6 });
    const summary = await trainer.run();
    assert.equal(summary.steps, 6);
    const lrs = (await readMetrics(summary.run_dir)).records.map((r) => r.scalars['train/lr']);
    assert.equal(lrs.length, 6);
    // nanoGPT's get_lr(5) with warmup 2 and decay over 6: 1e-4 + 0.5 (1 + cos(0.75π)) · 9e-4 (over 1000 steps it would be ~1e-3)
    assert.ok(Math.abs(lrs[5]! - (1e-4 + 0.5 * (1 + Math.cos(0.75 * Math.PI)) * 9e-4)) < 1e-9, `the cosine decays over the 6 steps: ${lrs.join(', ')}`);
    const run = await readRunJson(summary.run_dir);
    assert.equal(pretrainSpecOf(parseRunConfig(run.config, "run.json"))?.pretrain.steps, 6);
  });

  it('trains a BERT with masked LM + next-sentence prediction and reports its accuracies', async () => {
    const { summary } = await train({
      name: 'tiny bert',
      dataset: DatasetConfig.parse({ source: { kind: 'brown', genres: ['humor'] }, validationFraction: 0.2 }),
      tokenizer: TokenizerConfig.parse({ kind: 'wordpiece', vocabSize: 600 }),
      model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 1, dFF: 64 },
      pretrain: PretrainConfig.parse({ steps: 6, batchSize: 4, evalInterval: 6, evalBatches: 2, seed: 3, schedule: { warmupSteps: 1 } }),
    }, path.join(tmp, 'bert'));
    assert.equal(summary.status, 'completed');
    assert.ok(summary.mlm_accuracy! >= 0 && summary.mlm_accuracy! <= 1);
    assert.ok(summary.nsp_accuracy! >= 0 && summary.nsp_accuracy! <= 1);
    assert.ok(Number.isFinite(summary.final_val_loss));
  });

  it('refuses, before any run folder is made, a model too large for the backend and an objective the model cannot train', async () => {
    const runsDir = path.join(tmp, 'refused');
    const huge = charGpt({ steps: 10, schedule: { warmupSteps: 1 } });
    huge.model = { ...huge.model, dModel: 2048, nHeads: 16, nLayers: 24, contextLength: 1024 };
    await assert.rejects(Trainer.start(huge, runsDir, { baseDir: tmp, cacheDir: null, backend: 'cpu' }), /needs about \d+\.\d GB/);
    const mlmGpt = charGpt({ steps: 10, objective: 'mlm', schedule: { warmupSteps: 1 } });
    await assert.rejects(Trainer.start(mlmGpt, runsDir, { baseDir: tmp, cacheDir: null }), /pretrain\.objective: a gpt model does not train with mlm/);
    assert.equal(fs.existsSync(runsDir) ? fs.readdirSync(runsDir).length : 0, 0, 'no failed run folders are left for configs refused up front');
  });

  it('resumes only what run.json and the checkpoints really describe', async () => {
    const { summary } = await train(charGpt({ steps: 4, evalInterval: 4, checkpointInterval: 2, keepCheckpoints: 5, schedule: { warmupSteps: 1 } }), path.join(tmp, 'tampered'), (e, t) => { if (e.type === 'step' && e.step === 3) t.stop(); });
    assert.equal(summary.status, 'cancelled');
    const runJson = path.join(summary.run_dir, 'run.json');
    const original = fs.readFileSync(runJson, 'utf8');
    // a run.json whose config was edited into nonsense: refused, naming the field
    const bad = JSON.parse(original);
    bad.config.spec.pretrain.batchSize = 0;
    fs.writeFileSync(runJson, JSON.stringify(bad));
    await assert.rejects(Trainer.resume(summary.run_dir, { cacheDir: null }), /run\.json: its config is not a run this workbench can rebuild: config\.spec\.pretrain\.batchSize/);
    fs.writeFileSync(runJson, original);
    // the newest checkpoint's rng damaged: skipped, with a warning, for the one before it
    const newest = (await listCheckpoints(summary.run_dir)).at(-1)!;
    const manifestFile = path.join(newest.dir, 'checkpoint.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, rng: null }));
    const logs: string[] = [];
    const resumed = await Trainer.resume(summary.run_dir, { cacheDir: null, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
    const done = await resumed.run();
    assert.equal(done.status, 'completed');
    assert.ok(logs.some((m) => /skipped: .*checkpoint\.json: its rng is not the state of this trainer's data sampler/.test(m)), logs.join('\n'));
    assert.ok(logs.some((m) => /resumed from checkpoint step-00000002/.test(m)), logs.join('\n'));
  });

  it('sets aside, never deletes, the checkpoints a resume passes over: damaged optimizer state, or all of them truncated', async () => {
    const { summary } = await train(charGpt({ steps: 12, evalInterval: 100, checkpointInterval: 2, keepCheckpoints: 3, schedule: { warmupSteps: 1 } }), path.join(tmp, 'aside'), (e, t) => { if (e.type === 'step' && e.step === 6) t.stop(); });
    const damaged = path.join(summary.run_dir, 'checkpoints', 'damaged');
    const names = async () => (await listCheckpoints(summary.run_dir)).map((c) => c.name);
    assert.deepEqual(await names(), ['step-00000002', 'step-00000004', 'step-00000006']);
    const resumeLogs = async () => {
      const logs: string[] = [];
      const t = await Trainer.resume(summary.run_dir, { cacheDir: null, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
      return { t, logs };
    };

    // only the newest's optimizer state is damaged: it is passed over, and its intact weights are kept aside
    const optimizerFile = path.join(summary.run_dir, 'checkpoints', 'step-00000006', 'optimizer.safetensors');
    fs.truncateSync(optimizerFile, 100);
    let { t, logs } = await resumeLogs();
    assert.ok(logs.some((m) => /resumed from checkpoint step-00000004/.test(m)), logs.join('\n'));
    assert.ok(logs.some((m) => /checkpoint step-00000006 was not usable and is set aside in .*damaged.step-00000006; its files are kept/.test(m)), logs.join('\n'));
    assert.deepEqual(await names(), ['step-00000002', 'step-00000004']);
    await loadCheckpoint(path.join(damaged, 'step-00000006'), { optimizer: false });
    t.stop();
    await t.run();

    // every checkpoint truncated: the run restarts from step 0, and none of them stays where a resume or the UI would pick it
    for (const c of await listCheckpoints(summary.run_dir)) fs.truncateSync(path.join(c.dir, 'model.safetensors'), 10);
    const before = await names();
    ({ t, logs } = await resumeLogs());
    assert.ok(logs.some((m) => /no valid checkpoint: the run starts again from step 0/.test(m)), logs.join('\n'));
    assert.deepEqual(await names(), [], 'nothing damaged left among the checkpoints');
    for (const name of before) assert.ok(fs.existsSync(path.join(damaged, name)), `${name} set aside`);
    const done = await t.run();
    assert.equal(done.status, 'completed');
    assert.deepEqual(await names(), ['step-00000008', 'step-00000010', 'step-00000012']);
  });

  it('resumes a run whose tokenizer.json was truncated, rebuilding the tokenizer from the run\'s data and config', async () => {
    const { summary } = await train(charGpt({ steps: 6, evalInterval: 100, checkpointInterval: 2, schedule: { warmupSteps: 1 } }), path.join(tmp, 'tokenizer'), (e, t) => { if (e.type === 'step' && e.step === 3) t.stop(); });
    const file = path.join(summary.run_dir, 'tokenizer.json');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.slice(0, 40));
    const logs: string[] = [];
    const resumed = await Trainer.resume(summary.run_dir, { cacheDir: null, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
    assert.ok(logs.some((m) => /tokenizer\.json.*set aside as tokenizer\.json\.damaged and rebuilt from the run's data/.test(m)), logs.join('\n'));
    assert.ok(logs.some((m) => /resumed from checkpoint step-00000003/.test(m)), logs.join('\n'));
    assert.equal((await resumed.run()).status, 'completed');
    assert.equal(fs.readFileSync(file, 'utf8'), original, 'the same tokenizer, rebuilt');
    assert.equal(fs.readFileSync(`${file}.damaged`, 'utf8').length, 40, 'the damaged file is kept');
  });

  it('leaves a killed run interrupted, not running, when its resume fails', async () => {
    const dir = path.join(tmp, 'failing-resume');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(tmp, 'small.txt'), path.join(dir, 'small.txt'));
    const runSpec = charGpt({ steps: 6, evalInterval: 100, checkpointInterval: 2, schedule: { warmupSteps: 1 } });
    const trainer = await Trainer.start(runSpec, path.join(dir, 'runs'), { baseDir: dir, cacheDir: null, onEvent: (e) => { if (e.type === 'step' && e.step === 3) trainer.stop(); } });
    const { run_dir: runDir } = await trainer.run();
    const runJson = path.join(runDir, 'run.json');
    fs.writeFileSync(runJson, JSON.stringify({ ...JSON.parse(fs.readFileSync(runJson, 'utf8')), status: 'running' })); // as a SIGKILL leaves it
    fs.rmSync(path.join(dir, 'small.txt'));
    await assert.rejects(Trainer.resume(runDir, { cacheDir: null }), /small\.txt/);
    assert.equal((await readRunJson(runDir)).status, 'interrupted');
  });

  it('refuses next-sentence prediction on a split of one document, where every pair would be a true one', async () => {
    const spec: RunSpec = {
      name: 'one document',
      dataset: DatasetConfig.parse({ source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { minChars: 0 } }),
      tokenizer: TokenizerConfig.parse({ kind: 'wordpiece', vocabSize: 300 }),
      model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 1, dFF: 64 },
      pretrain: PretrainConfig.parse({ objective: 'mlm-nsp', steps: 2, batchSize: 2, schedule: { warmupSteps: 1 } }),
    };
    await assert.rejects(Trainer.start(spec, path.join(tmp, 'one-doc'), { baseDir: tmp, cacheDir: null }),
      (e: Error & { code?: string }) => e.code === 'INVALID_DATASET' && /negative pairs from other documents, and the training split has 1/.test(e.message));
  });

  it('trains models with parameters the objective never touches, and leaves those parameters as they were', async () => {
    const bertMlm: RunSpec = {
      name: 'bert mlm only',
      dataset: DatasetConfig.parse({ source: { kind: 'brown', genres: ['humor'] }, validationFraction: 0.2 }),
      tokenizer: TokenizerConfig.parse({ kind: 'wordpiece', vocabSize: 600 }),
      model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 1, dFF: 64 },
      pretrain: PretrainConfig.parse({ objective: 'mlm', steps: 3, batchSize: 4, evalInterval: 3, evalBatches: 1, seed: 3, gradAccumSteps: 2, schedule: { warmupSteps: 1 } }),
    };
    const gptWithClassifier = charGpt({ steps: 3, evalInterval: 3, gradAccumSteps: 2, schedule: { warmupSteps: 1 } });
    gptWithClassifier.model = { ...gptWithClassifier.model, numLabels: 3 };
    const cases: [RunSpec, string[]][] = [
      [bertMlm, ['bert.pooler.dense.weight', 'cls.seq_relationship.weight']],
      [gptWithClassifier, ['score.weight']],
    ];
    for (const [spec, untouched] of cases) {
      const { summary } = await train({ ...spec, pretrain: { ...spec.pretrain, checkpointInterval: 1, keepCheckpoints: 10 } }, path.join(tmp, `untouched-${spec.model.arch}`));
      assert.equal(summary.status, 'completed', `${spec.name}: ${summary.error?.message}`);
      const [first, last] = [(await listCheckpoints(summary.run_dir))[0], await latestValidCheckpoint(summary.run_dir)];
      const a = await loadCheckpoint(first.dir);
      for (const n of untouched) assert.deepEqual(last!.params.get(n)!.data, a.params.get(n)!.data, `${spec.name}: ${n} has no gradient and stays`);
      assert.notDeepEqual(last!.params.get(spec.model.arch === 'bert' ? 'cls.predictions.bias' : 'ln_f.weight')!.data, a.params.get(spec.model.arch === 'bert' ? 'cls.predictions.bias' : 'ln_f.weight')!.data, `${spec.name}: trained parameters move`);
    }
  });
});
