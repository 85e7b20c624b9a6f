/**
 * `npm run bench:distill-prune -- TEACHER_RUN_DIR`: the distillation and head-pruning claims of the
 * compression issue, measured on one trained run in one process on one backend:
 *  - a student of half the layers distilled from the run (the default distill config) against the same
 *    student trained from scratch (init 'random', hard loss only), the same steps, data and seed: their
 *    validation losses beside the teacher's, on the teacher's held-out batches;
 *  - a quarter of the heads removed (gradient importance) and fine-tuned: parameters, validation loss before
 *    and after, and forward latency of the base and the pruned model, interleaved on the same input.
 * The last line printed is one JSON object.
 *
 *   npm run bench:distill-prune -- RUN_DIR [--steps N] [--prune-steps N] [--backend NAME] [--out DIR] [--rounds N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { BackendRequest } from '../../common/backends';
import { selectBackend } from '../backends/select';
import { loadRunModel } from '../runs/loadRunModel';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';
import { prepareBaseData } from '../training/baseData';
import { evaluate } from '../training/evaluate';
import { toBatch } from '../training/pretrainData';
import { interleavedLatency } from '../compression/latency';
import { configOf } from '../compression/pruneHeads';
import { modelStats } from '../../common/modelStats';
import { PRUNING_FILE, type HeadPruningFile } from '../../common/compressionFiles';
import { TOKENIZER_FILE } from '../../common/node/runFiles';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '300' }, 'prune-steps': { type: 'string', default: '100' }, backend: { type: 'string', default: 'auto' }, out: { type: 'string' }, rounds: { type: 'string', default: '15' } },
});
if (!positionals[0]) throw new Error('give the teacher run folder: npm run bench:distill-prune -- RUN_DIR');
const teacherDir = path.resolve(positionals[0]);
const backend = await selectBackend(BackendRequest.parse(values.backend));
const out = path.resolve(values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wb-distill-prune-')));
const steps = Number(values.steps);
const loop = { steps, evalInterval: steps, checkpointInterval: steps };

async function derive(name: string, settings: object) {
  const config = await resolveDerivedRun({ task: 'compress', baseRunDir: teacherDir, baseCheckpoint: 'last', settings });
  const t0 = performance.now();
  const trainer = await Trainer.startDerived(config, out, name, { backend: backend.name });
  const summary = await trainer.run();
  if (summary.status !== 'completed') throw new Error(`${name}: ${JSON.stringify(summary.error)}`);
  console.log(`${name}: ${summary.run_dir}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return summary.run_dir;
}

/** The teacher's held-out batches (and one for latency): every model is measured on the same ones. */
const held = await prepareBaseData(teacherDir, { batchSize: 12, evalBatches: 20, seed: 1, tokenizerFile: path.join(teacherDir, TOKENIZER_FILE), cacheDir: null });

/** Validation loss of a run's last checkpoint on the teacher's held-out batches. */
async function valLoss(runDir: string) {
  const rm = await loadRunModel(runDir);
  try {
    return { loss: (await evaluate(rm.model, held.data.validation, held.objective)).loss, parameters: rm.model.params.count, layers: rm.model.config.nLayers, heads: rm.model.config.nHeads };
  } finally {
    rm.model.dispose();
  }
}

const distilled = await derive('distilled', { method: 'distill', loop });
const scratch = await derive('scratch', { method: 'distill', init: 'random', weights: { soft: 0, cosine: 0, attention: 0, hard: 1 }, loop });
const pruneSteps = Number(values['prune-steps']);
const pruned = await derive('heads-pruned', { method: 'prune', kind: 'heads', headShare: 0.25, importance: 'gradient', loop: { steps: pruneSteps, evalInterval: pruneSteps, checkpointInterval: pruneSteps } });

const teacher = await valLoss(teacherDir);
const student = await valLoss(distilled);
const baseline = await valLoss(scratch);
const prunedVal = await valLoss(pruned);
const cut = JSON.parse(fs.readFileSync(path.join(pruned, PRUNING_FILE), 'utf8')) as HeadPruningFile;

// latency: the teacher and the pruned model, interleaved, on one held-out batch
const a = await loadRunModel(teacherDir);
const b = await loadRunModel(pruned);
const batch = toBatch(held.data.validation[0]);
const [la, lb] = interleavedLatency([a.model, b.model], batch, Number(values.rounds), 3);
tf.dispose(Object.values(batch));
held.data.close();
const teacherFlops = modelStats(configOf(a.model.config)).forwardFlopsPerToken;
const prunedFlops = modelStats(configOf(b.model.config)).forwardFlopsPerToken;
a.model.dispose();
b.model.dispose();

console.log(`teacher ${teacher.layers} layers: val loss ${teacher.loss.toFixed(4)}; distilled student ${student.layers} layers: ${student.loss.toFixed(4)}; same student from scratch: ${baseline.loss.toFixed(4)} (${steps} steps each)`);
console.log(`heads ${teacher.heads} → ${prunedVal.heads} per layer: parameters ${teacher.parameters} → ${prunedVal.parameters}; val loss ${teacher.loss.toFixed(4)} → ${cut.afterCut.val.loss.toFixed(4)} after the cut → ${prunedVal.loss.toFixed(4)} after ${pruneSteps} fine-tune steps; forward ${la.medianMs.toFixed(2)} → ${lb.medianMs.toFixed(2)} ms median, ${la.minMs.toFixed(2)} → ${lb.minMs.toFixed(2)} ms fastest (${values.rounds} interleaved rounds, batch ${batch.inputIds.shape.join('×')}, ${backend.name})`);
console.log(JSON.stringify({
  backend: backend.name, threads: backend.threads ?? null, steps, prune_steps: pruneSteps, runs: { teacher: teacherDir, distilled, scratch, pruned },
  distill: { teacher_val_loss: teacher.loss, student_val_loss: student.loss, scratch_val_loss: baseline.loss, teacher_parameters: teacher.parameters, student_parameters: student.parameters },
  prune_heads: { parameters: [teacher.parameters, prunedVal.parameters], val_loss_base: teacher.loss, val_loss_after_cut: cut.afterCut.val.loss, val_loss_after_finetune: prunedVal.loss, latency_ms: [la.medianMs, lb.medianMs], latency_ratio: lb.medianMs / la.medianMs, latency_min_ms: [la.minMs, lb.minMs], latency_min_ratio: lb.minMs / la.minMs,
    forward_flops_per_token: [teacherFlops, prunedFlops], importance: cut.importance.scores, removed: cut.removed },
}));
