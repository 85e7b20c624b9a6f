/**
 * Cross-check of `npm run test:cross` (needs Debian's python3-torch; not part of `npm test`): the PyTorch project
 * of `workbench export-torch`, trained by PyTorch, against the workbench's engine and against itself.
 *  - one process, float32, from the exported initial weights and the ported sampler: every step's training loss
 *    and every validation loss within 1e-4 relative of the engine's run of the same experiment (a character GPT
 *    with gradient accumulation, and a WordPiece BERT with MLM + NSP);
 *  - torchrun with 2 processes (gloo, CPU), DDP and ZeRO-1, on the same global batch: the same curve as one process
 *    within float32 reduction noise (1e-5), and ZeRO-1's consolidated AdamW state equal to DDP's;
 *  - the run folder PyTorch wrote is a workbench run: `workbench runs` lists it, loadRunModel opens its checkpoints
 *    (sizes and SHA-256 checked, optimizer moments for every parameter), `workbench attention` and `workbench export`
 *    work on it, and the independent reader ../shared/reference/read_tfevents.py reads its TensorBoard scalars.
 *
 *   node --import tsx --test engine/torchExport/torchExport.cross.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listRuns } from '../../common/node/runFiles';
import { PretrainRunSpec, parseRunConfig, type PretrainRunSpecInput } from '../../common/runConfig';
import { exportBundle } from '../export/exportBundle';
import { loadCheckpoint } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { readMetrics, type MetricsRecord } from '../runs/metricsLog';
import { decodeSafetensors } from '../runs/safetensors';
import { useBackend } from '../testing';
import { Trainer } from '../training/trainer';
import { exportTorchProject } from './exportTorch';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const SHAKESPEARE = path.resolve(root, '../shared/data/tinyshakespeare.txt');
const READ_TFEVENTS = path.resolve(root, '../shared/reference/read_tfevents.py');

const dataset = { source: { kind: 'file', path: 'small.txt', unit: 'paragraph' }, split: 'tail', validationFraction: 0.1, cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } } as const;
/** The examples, and variants for the options model.py ports (positions, activations, epsilon; plain MLM's windows and its unused NSP head under DDP). */
const SPECS: Record<string, PretrainRunSpecInput> = {
  gpt: {
    name: 'char gpt', dataset, tokenizer: { kind: 'char' },
    model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 },
    pretrain: { steps: 10, batchSize: 4, gradAccumSteps: 2, evalInterval: 5, evalBatches: 2, checkpointInterval: 5, seed: 3, schedule: { warmupSteps: 2 } },
  },
  bert: {
    name: 'wordpiece bert', dataset, tokenizer: { kind: 'wordpiece', vocabSize: 300 },
    model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dFF: 64 },
    pretrain: { objective: 'mlm-nsp', steps: 8, batchSize: 4, evalInterval: 4, evalBatches: 2, checkpointInterval: 4, seed: 5, schedule: { warmupSteps: 2 } },
  },
  'gpt, RoPE, erf gelu, eps 1e-3': {
    name: 'rope gpt', dataset, tokenizer: { kind: 'char' },
    model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, positional: 'rope', ropeBase: 500, activation: 'gelu', layerNormEps: 1e-3 },
    pretrain: { steps: 4, batchSize: 4, evalInterval: 4, evalBatches: 2, seed: 7, schedule: { kind: 'linear', warmupSteps: 1 } },
  },
  'bert, MLM, sinusoidal, gelu_new': {
    name: 'mlm bert', dataset, tokenizer: { kind: 'wordpiece', vocabSize: 300 },
    model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dFF: 64, positional: 'sinusoidal', activation: 'gelu_new' },
    pretrain: { objective: 'mlm', steps: 4, batchSize: 4, evalInterval: 2, evalBatches: 2, seed: 9, schedule: { warmupSteps: 1 } },
  },
};
/** the cases whose torchrun runs are compared as well (the variants' distributed paths are those of their architecture, but plain MLM's unused head) */
const DISTRIBUTED = new Set(['gpt', 'bert', 'bert, MLM, sinusoidal, gelu_new']);
/** the cases whose run folders are opened (a Hugging Face bundle holds learned positions only) */
const EXAMPLES = new Set(['gpt', 'bert']);

let tmp: string;
before(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`${PYTHON} cannot import torch and numpy (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); test:cross needs Debian's python3-torch`);
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-export-cross-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 30_000));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The engine's run of the spec, to the end; its folder. */
async function engineRun(spec: PretrainRunSpecInput, runsDir: string): Promise<string> {
  const trainer = await Trainer.start(spec, runsDir, { baseDir: tmp, cacheDir: null });
  const summary = await trainer.run();
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  return summary.run_dir;
}

/** Runs the exported project: `python3 train.py`, or `bash launch.sh` with `processes` processes; the run folder. */
function torchRun(project: string, runsDir: string, id: string, processes: number, args: string[] = []): string {
  const [cmd, argv] = processes === 1 ? [PYTHON, [path.join(project, 'train.py')]] : ['bash', [path.join(project, 'launch.sh')]];
  const r = spawnSync(cmd, [...argv, '--out', runsDir, '--run-id', id, ...args], {
    encoding: 'utf8', env: { ...process.env, PYTHON, NPROC_PER_NODE: String(processes) }, timeout: 300_000,
  });
  assert.equal(r.status, 0, `${cmd} ${argv.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return path.join(runsDir, id);
}

/** Scalars by step, the training line and the evaluation line of a step merged. */
async function curves(runDir: string): Promise<Map<number, Record<string, number>>> {
  const { records, problems } = await readMetrics(runDir);
  assert.deepEqual(problems, []);
  const byStep = new Map<number, Record<string, number>>();
  for (const r of records as MetricsRecord[]) byStep.set(r.step, { ...byStep.get(r.step), ...r.scalars });
  return byStep;
}

/** The largest relative difference of `tag` over the steps, which both runs must log at the same steps. */
function maxRelDiff(a: Map<number, Record<string, number>>, b: Map<number, Record<string, number>>, tag: string): number {
  const steps = [...a.keys()].filter((s) => tag in a.get(s)!);
  assert.ok(steps.length > 0, `no ${tag} logged`);
  assert.deepEqual(steps, [...b.keys()].filter((s) => tag in b.get(s)!), `${tag} is logged at other steps`);
  return Math.max(...steps.map((s) => Math.abs(a.get(s)![tag] - b.get(s)![tag]) / Math.abs(b.get(s)![tag])));
}

for (const [name, input] of Object.entries(SPECS)) {
  describe(`export-torch, ${name}`, () => {
    const spec = PretrainRunSpec.parse(input);
    const arch = spec.model.arch;
    const slug = name.replace(/[^a-z0-9]+/gi, '-');
    let project: string;
    let engine: Map<number, Record<string, number>>;
    let single: string;
    const runsDir = () => path.join(tmp, `${slug}.runs`);

    before(async () => {
      engine = await curves(await engineRun(spec, path.join(tmp, `${slug}-engine.runs`)));
      project = (await exportTorchProject(spec, path.join(tmp, `${slug}-project`), { baseDir: tmp, cacheDir: null })).outDir;
      single = torchRun(project, runsDir(), 'single', 1);
    });

    it('one process trains the engine\'s curve from the same weights and batches (float32, within 1e-4)', async () => {
      const torch = await curves(single);
      assert.equal(Math.max(...torch.keys()), spec.pretrain.steps);
      for (const tag of ['train/loss', 'val/loss', 'train/eval_loss', 'train/lr']) {
        const d = maxRelDiff(torch, engine, tag);
        console.log(`${name} ${tag}: PyTorch vs engine, max relative difference ${d.toExponential(2)}`);
        assert.ok(d < 1e-4, `${tag} differs by ${d} relative`);
      }
      if (spec.pretrain.objective === 'mlm-nsp') assert.ok(maxRelDiff(torch, engine, 'val/nsp_accuracy') === 0, 'NSP accuracy differs: the batches differ');
      // the engine's per-step scalars are all there (attention statistics are the engine's own probe)
      const engineTags = Object.keys(engine.get(spec.pretrain.steps)!).filter((t) => !t.startsWith('attn_'));
      assert.deepEqual(engineTags.filter((t) => !(t in torch.get(spec.pretrain.steps)!)), []);
    });

    if (DISTRIBUTED.has(name)) it('torchrun with 2 processes (gloo): DDP and ZeRO-1 match one process on the same global batch', async () => {
      const one = await curves(single);
      const ddpRun = torchRun(project, runsDir(), 'ddp', 2);
      const zeroRun = torchRun(project, runsDir(), 'zero1', 2, ['--zero1']);
      const [ddp, zero] = [await curves(ddpRun), await curves(zeroRun)];
      for (const tag of ['train/loss', 'val/loss']) {
        const [dd, dz] = [maxRelDiff(ddp, one, tag), maxRelDiff(zero, ddp, tag)];
        console.log(`${name} ${tag}: DDP×2 vs 1 process ${dd.toExponential(2)}, ZeRO-1×2 vs DDP×2 ${dz.toExponential(2)}`);
        assert.ok(dd < 1e-5 && dz < 1e-5, `${tag}: DDP differs by ${dd}, ZeRO-1 by ${dz}`);
      }
      const moments = (run: string) => decodeSafetensors(fs.readFileSync(path.join(run, 'checkpoints', `step-${String(spec.pretrain.steps).padStart(8, '0')}`, 'optimizer.safetensors'))).tensors;
      const [md, mz] = [moments(ddpRun), moments(zeroRun)];
      for (const [name, t] of md) {
        const z = mz.get(name)!.data;
        const scale = Math.max(1e-12, ...Array.from(t.data, Math.abs));
        const err = Math.max(...Array.from(t.data, (x, i) => Math.abs(x - z[i]))) / scale;
        assert.ok(err < 1e-4, `ZeRO-1's consolidated ${name} differs from DDP's by ${err} relative`);
      }
      const config = parseRunConfig(JSON.parse(fs.readFileSync(path.join(zeroRun, 'run.json'), 'utf8')).config, 'run.json');
      assert.deepEqual(config.task === 'pretrain' && config.trainedBy && [config.trainedBy.engine, config.trainedBy.strategy, config.trainedBy.processes], ['pytorch', 'zero1', 2]);
    });

    if (name === 'gpt') it('train.py refuses what it cannot do here, saying how to do it instead', () => {
      const refusal = (args: string[]) => spawnSync(PYTHON, [path.join(project, 'train.py'), ...args], { encoding: 'utf8' });
      for (const [args, message] of [
        [[], /the following arguments are required: --out/],
        [['--out', runsDir(), '--zero1'], /--zero1 shards state across processes, and this is one; start it with launch\.sh/],
        [['--out', runsDir(), '--precision', 'fp16', '--device', 'cpu'], /--precision fp16 needs CUDA .* use --precision bf16 or fp32/],
        [['--out', runsDir(), '--fsdp', '--device', 'cpu'], /--fsdp needs CUDA GPUs .* use --zero1/],
      ] as const) {
        const r = refusal([...args]);
        assert.notEqual(r.status, 0, args.join(' '));
        assert.match(r.stderr, message);
      }
    });

    if (EXAMPLES.has(name)) it('the run folder PyTorch wrote opens in the workbench: runs, loadRunModel, attention, export, TensorBoard', async () => {
      const listed = await listRuns(runsDir());
      assert.ok(listed.some((r) => r.id === 'single' && r.ok && r.run.status === 'completed' && r.run.step === spec.pretrain.steps), JSON.stringify(listed));
      const ck = await loadCheckpoint(path.join(single, 'checkpoints', `step-${String(spec.pretrain.steps).padStart(8, '0')}`));
      assert.ok(ck.optimizer && Object.keys(ck.optimizer.m).length === ck.params.size, 'every parameter has its AdamW moments');
      const rm = await loadRunModel(single, 'best');
      rm.model.dispose();
      const text = arch === 'gpt' ? 'To be, or not' : 'to be or not to be';
      const att = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), 'attention', single, '--out', path.join(tmp, `${slug}-attention`), '--text', text], { encoding: 'utf8' });
      assert.equal(att.status, 0, att.stderr);
      const bundle = await exportBundle(single, 'last', path.join(tmp, `${slug}-bundle`));
      assert.ok(bundle.report.ok);
      const events = fs.readdirSync(single).find((f) => f.startsWith('events.out.tfevents.'))!;
      const r = spawnSync(PYTHON, [READ_TFEVENTS, path.join(single, events)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const tb = JSON.parse(r.stdout) as { file_version: string; scalars: Record<string, [number, number][]> };
      const metrics = await curves(single);
      assert.equal(tb.file_version, 'brain.Event:2');
      assert.deepEqual(tb.scalars['train/loss'].map(([s]) => s), [...metrics.keys()]);
      for (const [s, v] of tb.scalars['val/loss']) assert.ok(Math.abs(v - metrics.get(s)!['val/loss']) <= 1e-6 * Math.abs(v), `val/loss at ${s}`);
    });
  });
}
