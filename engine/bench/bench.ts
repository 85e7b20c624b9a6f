/**
 * `npm run bench`: training steps of the reference model of ../shared/reference/torch_baseline.py
 * (GPT-2 style, 4 layers, 4 heads, width 128, block 64, batch 12, character vocabulary of 65) on every
 * backend present, and PyTorch's run of the same recipe on the same machine in the same run.
 * The last line printed is one JSON object: backend, threads, tokens_per_s, pytorch_tokens_per_s, ratio.
 *
 *   npm run bench -- [--backend NAME[,NAME]] [--steps N] [--pytorch-iters N] [--threads N] [--profile] [--no-pytorch]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, type BackendInfo } from '../../common/backends';
import { MODEL_PRESETS } from '../../common/modelConfig';
import { availableBackends, selectBackend } from '../backends/select';
import { createModel } from '../models/registry';
import { AdamW } from '../training/adamw';
import { trainStep } from '../training/trainStep';
import { Rng } from '../util/random';
import { runPytorchBaseline } from './pytorch';
import { printProfile, profileStep } from './profile';

const BLOCK = 64;
const BATCH = 12;
const DATA = path.resolve(process.cwd(), '../shared/data/tinyshakespeare.txt');

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string' },
    'pytorch-iters': { type: 'string', default: '300' },
    threads: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-pytorch': { type: 'boolean', default: false },
  },
});

/** Token ids of the corpus at character level, as the baseline builds them; random ids when it is absent. */
function loadCorpus(): { ids: Int32Array; vocab: number; source: string } {
  if (!fs.existsSync(DATA)) {
    const rng = new Rng(7);
    return { ids: Int32Array.from({ length: 100_000 }, () => rng.int(65)), vocab: 65, source: 'random ids (corpus not found)' };
  }
  const text = fs.readFileSync(DATA, 'utf8');
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  return { ids: Int32Array.from(text, (c) => index.get(c)!), vocab: chars.length, source: DATA };
}

function sampleBatch(ids: Int32Array, rng: Rng) {
  const x = new Int32Array(BATCH * BLOCK);
  const y = new Int32Array(BATCH * BLOCK);
  for (let b = 0; b < BATCH; b++) {
    const at = rng.int(ids.length - BLOCK - 1);
    x.set(ids.subarray(at, at + BLOCK), b * BLOCK);
    y.set(ids.subarray(at + 1, at + 1 + BLOCK), b * BLOCK);
  }
  return { inputIds: tf.tensor2d(x, [BATCH, BLOCK], 'int32'), labels: tf.tensor2d(y, [BATCH, BLOCK], 'int32') };
}

interface BackendResult { backend: BackendInfo; tokens_per_s: number; ms_per_step: number; steps: number; final_loss: number; tensors_leaked: number }

async function benchBackend(name: BackendName, corpus: ReturnType<typeof loadCorpus>): Promise<BackendResult> {
  const info = await selectBackend(name, args.threads ? { threads: Number(args.threads) } : {});
  // the plain-JS backend is ~100x slower: a few steps say enough about it
  const steps = Number(args.steps ?? (name === 'cpu' ? 3 : 40));
  const warmup = name === 'cpu' ? 1 : 5;
  const model = createModel({ ...MODEL_PRESETS['gpt-char-small'], vocabSize: corpus.vocab }, 1337);
  const opt = new AdamW(Object.fromEntries(model.variables), { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
  const rng = new Rng(1337);
  let loss = NaN;
  const run = () => {
    const batch = sampleBatch(corpus.ids, rng);
    loss = trainStep(model, opt, batch, { lr: 1e-3, clipNorm: 1 }).loss;
    tf.dispose(Object.values(batch));
  };
  for (let i = 0; i < warmup; i++) run();
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run();
  const seconds = (performance.now() - t0) / 1000;
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (args.profile) printProfile(info, await profileStep(run));
  opt.dispose();
  model.dispose();
  return { backend: info, tokens_per_s: (steps * BATCH * BLOCK) / seconds, ms_per_step: (1000 * seconds) / steps, steps, final_loss: loss, tensors_leaked: leaked };
}

async function main(): Promise<void> {
  const present = await availableBackends();
  const wanted = args.backend ? args.backend.split(',').map((b) => BackendName.parse(b.trim())) : present;
  const corpus = loadCorpus();
  console.log(`reference model: 4 layers, 4 heads, width 128, block ${BLOCK}, batch ${BATCH}, vocab ${corpus.vocab}; data: ${corpus.source}`);
  const results: BackendResult[] = [];
  for (const name of wanted) {
    if (!present.includes(name)) {
      console.log(`${name}: not installed, skipped`);
      continue;
    }
    const r = await benchBackend(name, corpus);
    results.push(r);
    console.log(`${name} (${r.backend.package} ${r.backend.version}, ${r.backend.threads} thread(s)${r.backend.simd ? ', SIMD' : ''}): ` +
      `${r.tokens_per_s.toFixed(0)} tokens/s, ${r.ms_per_step.toFixed(1)} ms/step over ${r.steps} steps, loss ${r.final_loss.toFixed(3)}, tensors leaked ${r.tensors_leaked}`);
  }
  if (results.length === 0) throw new Error('no backend could be benchmarked');
  const best = results.reduce((a, b) => (b.tokens_per_s > a.tokens_per_s ? b : a));

  let pytorch: number | null = null;
  let pytorchNote: string | undefined;
  if (!args['no-pytorch']) {
    console.log(`PyTorch: torch_baseline.py, ${args['pytorch-iters']} iterations, 1 thread …`);
    const py = await runPytorchBaseline({ iters: Number(args['pytorch-iters']), threads: 1 });
    if (py.ok) {
      pytorch = py.tokens_per_s;
      console.log(`PyTorch (${py.engine}): ${py.tokens_per_s.toFixed(0)} tokens/s`);
    } else {
      pytorchNote = py.reason;
      console.log(`PyTorch not measured: ${py.reason}`);
    }
  }
  console.log(JSON.stringify({
    backend: best.backend.name,
    backend_version: best.backend.version,
    device: best.backend.device,
    threads: best.backend.threads,
    tokens_per_s: Math.round(best.tokens_per_s),
    ms_per_step: Number(best.ms_per_step.toFixed(1)),
    pytorch_tokens_per_s: pytorch === null ? null : Math.round(pytorch),
    ratio: pytorch === null ? null : Number((best.tokens_per_s / pytorch).toFixed(3)),
    ...(pytorchNote ? { pytorch_note: pytorchNote } : {}),
    backends: Object.fromEntries(results.map((r) => [r.backend.name, Math.round(r.tokens_per_s)])),
  }));
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
