/**
 * Distillation as a task of the training loop: a smaller student learns from its teacher (the base run's
 * model at its checkpoint) on the teacher's data with the teacher's tokenizer. Per batch the loss is
 *
 *   soft · KL(teacher ‖ student) at temperature T (Hinton; ./distill.ts)
 * + hard · the base's objective (causal LM, MLM, MLM + NSP)
 * + cosine · mean over student layers of 1 − cos(proj(h_student_i), h_teacher_map(i))   (./distillLosses.ts)
 * + attention · mean over student layers of KL of the attention maps                    (./distillLosses.ts)
 *
 * with the layer map of ./student.ts (student layer i ↔ teacher layer ⌈(i+1)·Lt/Ls⌉ − 1) and a learned
 * projection per layer where the widths differ. For BERT the soft targets are taken at the masked positions
 * (DistilBERT's), for GPT at every position. The teacher runs without gradients, outside the differentiated
 * function. Evaluation is the objective alone, so a distilled student, the same student trained from
 * scratch (init 'random', weights soft = cosine = attention = 0) and the teacher compare on one figure.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { DistillConfig } from '../../common/compressConfig';
import { DISTILLATION_FILE, type DistillationFile } from '../../common/compressionFiles';
import { writeFileAtomic, jsonText } from '../../common/node/atomicWrite';
import type { Objective } from '../../common/pretrainConfig';
import type { CompressRunConfig } from '../../common/runConfig';
import { BERT } from '../models/bert/model';
import { GPT } from '../models/gpt/model';
import { crossEntropy } from '../models/layers';
import { createModel, type AnyModel } from '../models/registry';
import type { Batch, ForwardOptions } from '../models/types';
import type { DerivedTaskKind } from '../training/derivedTasks';
import { evaluate } from '../training/evaluate';
import { checkMemory } from '../training/memoryBudget';
import { IGNORE } from '../training/objectives';
import { toBatch, type HostBatch, type PreparedData } from '../training/pretrainData';
import { PretrainTask } from '../training/pretrainTask';
import type { Gradients } from '../training/trainStep';
import type { Rng } from '../util/random';
import { distillationLoss } from './distill';
import { attentionMapLoss, hiddenCosineLoss } from './distillLosses';
import { TRAINING_AID_PREFIX, addProjections, initFromTeacher, lossLayerOf, studentConfig } from './student';
import { openBaseData, openBaseModel } from './variantBase';

export type DistillRunConfig = CompressRunConfig & { compress: DistillConfig };

type Weights = DistillConfig['weights'];

/** The teacher's side of one batch: constants the student's loss compares with. */
interface TeacherTargets {
  logits: tf.Tensor2D | null; // [M, V] at the distilled rows
  hidden: tf.Tensor3D[]; // per student layer, the mapped teacher layer's output
  attentions: tf.Tensor4D[];
}

/** The rows of [B·T] the soft targets are taken at: BERT's masked positions, or null for every position (GPT). */
function distilledRows(model: AnyModel, h: HostBatch): number[] | null {
  if (!(model instanceof BERT)) return null;
  const rows: number[] = [];
  h.labels.forEach((l, i) => { if (l !== IGNORE) rows.push(i); });
  return rows;
}

/** LM logits [M, V] at `rows` of the hidden states [B, T, d] (null: all B·T rows). */
function logitsAt(model: AnyModel, hidden: tf.Tensor3D, rows: number[] | null): tf.Tensor2D {
  const [B, T, d] = hidden.shape;
  if (model instanceof GPT) return tf.reshape(model.lmLogits(hidden), [B * T, model.config.vocabSize]) as tf.Tensor2D;
  return (model as BERT).mlmLogitsRows(tf.gather(tf.reshape(hidden, [B * T, d]), tf.tensor1d(rows ?? [], 'int32')) as tf.Tensor2D);
}

/** The objective's loss from the distilled rows' logits (and, for mlm-nsp, the pooled hidden state). */
function hardLoss(model: AnyModel, logits: tf.Tensor2D, hidden: tf.Tensor3D, batch: Batch, h: HostBatch, rows: number[] | null, objective: Objective): tf.Scalar {
  if (model instanceof GPT) return crossEntropy(logits, tf.reshape(batch.labels!, [h.B * h.T]) as tf.Tensor1D);
  let loss = rows!.length ? crossEntropy(logits, tf.tensor1d(rows!.map((r) => h.labels[r]), 'int32')) : tf.scalar(0);
  if (objective === 'mlm-nsp' && batch.nextSentenceLabels) loss = tf.add(loss, crossEntropy((model as BERT).nspLogits(hidden), batch.nextSentenceLabels)) as tf.Scalar;
  return loss;
}

export class DistillTask extends PretrainTask {
  /** the last step's loss parts, averaged over its micro-batches, logged with the step */
  private parts: Record<string, number> = {};

  constructor(student: AnyModel, private readonly teacher: AnyModel, data: PreparedData, objective: Objective, tokensPerStep: number, seed: number,
    private readonly weights: Weights, private readonly temperature: number, private readonly projections: string[] | null) {
    super(student, data, objective, tokensPerStep, seed);
  }

  private get usesTeacher(): boolean {
    const w = this.weights;
    return w.soft > 0 || w.cosine > 0 || w.attention > 0;
  }

  /** student layer i's teacher layer */
  private teacherLayer(i: number): number {
    return lossLayerOf(i, this.model.config.nLayers, this.teacher.config.nLayers);
  }

  private teacherTargets(batch: Batch, rows: number[] | null): TeacherTargets {
    const w = this.weights;
    return tf.tidy((): never => {
      const r = this.teacher.forward(batch, { returnHiddenStates: w.cosine > 0, returnAttentions: w.attention > 0 });
      const pick = <T>(all: T[] | undefined): T[] => (all ? Array.from({ length: this.model.config.nLayers }, (_, i) => all[this.teacherLayer(i)]) : []);
      const out: TeacherTargets = { logits: w.soft > 0 ? logitsAt(this.teacher, r.hidden, rows) : null, hidden: pick(r.hiddenStates), attentions: pick(r.attentions) };
      return out as never; // a container of tensors (null where a term is off), kept past the tidy
    });
  }

  /** The weighted loss of one batch and its named parts (host numbers, for the log). */
  private studentLoss(batch: Batch, h: HostBatch, rows: number[] | null, t: TeacherTargets, opts: ForwardOptions, parts: Record<string, number>): tf.Scalar {
    const w = this.weights;
    const s = this.model.forward(batch, { ...opts, returnHiddenStates: w.cosine > 0, returnAttentions: w.attention > 0, attentionGrads: w.attention > 0 });
    const logits = logitsAt(this.model, s.hidden, rows);
    const terms: [string, number, () => tf.Scalar][] = [
      ['hard', w.hard, () => hardLoss(this.model, logits, s.hidden, batch, h, rows, this.objective)],
      ['soft', w.soft, () => (logits.shape[0] ? distillationLoss(logits, t.logits!, this.temperature) : tf.scalar(0))],
      ['cosine', w.cosine, () => tf.mean(tf.stack(s.hiddenStates!.map((hs, i) => hiddenCosineLoss(this.project(hs, i), t.hidden[i], batch.attentionMask)))) as tf.Scalar],
      ['attention', w.attention, () => tf.mean(tf.stack(s.attentions!.map((a, i) => attentionMapLoss(a, t.attentions[i], batch.attentionMask)))) as tf.Scalar],
    ];
    let total: tf.Scalar = tf.scalar(0);
    for (const [name, weight, term] of terms) {
      if (!(weight > 0)) continue;
      const v = term();
      parts[name] = (parts[name] ?? 0) + v.dataSync()[0];
      total = tf.add(total, tf.mul(v, weight));
    }
    if (s.auxLoss && this.model.config.moe) total = tf.add(total, tf.mul(s.auxLoss, this.model.config.moe.auxLossWeight));
    return total;
  }

  /** Student layer i's hidden states in the teacher's width: through its learned projection where the widths differ. */
  private project(hs: tf.Tensor3D, i: number): tf.Tensor3D {
    if (!this.projections) return hs;
    const [B, T, d] = hs.shape;
    const p = this.model.params.read(this.projections[i]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(tf.reshape(hs, [B * T, d]), p), [B, T, p.shape[1]]);
  }

  override gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients {
    const params = [...this.model.variables];
    const vars = params.map(([, v]) => v);
    const parts: Record<string, number> = {};
    const sum: Record<string, tf.Tensor> = {};
    let loss = 0;
    for (let i = 0; i < microBatches; i++) {
      const h = this.data.trainBatch(rng);
      const batch = toBatch(h);
      const rows = distilledRows(this.model, h);
      const t: TeacherTargets = this.usesTeacher ? this.teacherTargets(batch, rows) : { logits: null, hidden: [], attentions: [] };
      try {
        const { value, grads } = tf.variableGrads(() => this.studentLoss(batch, h, rows, t, { training: true, dropoutSeed: dropoutSeed + i }, parts), vars);
        loss += value.dataSync()[0];
        value.dispose();
        for (const [name, v] of params) {
          const g = grads[v.name];
          if (!g) continue;
          if (sum[name]) {
            const next = tf.add(sum[name], g);
            tf.dispose([sum[name], g]);
            sum[name] = next;
          } else sum[name] = g;
        }
      } finally {
        tf.dispose([...Object.values(batch), t.logits, ...t.hidden, ...t.attentions].filter((x): x is tf.Tensor => x !== null && x !== undefined));
      }
    }
    if (microBatches > 1) for (const name of Object.keys(sum)) { const m = tf.div(sum[name], microBatches); sum[name].dispose(); sum[name] = m; }
    this.parts = Object.fromEntries(Object.entries(parts).map(([k, v]) => [`distill/${k}`, v / microBatches]));
    return { loss: loss / microBatches, grads: sum };
  }

  afterStep(): Record<string, number> {
    return this.parts;
  }

  override dispose(): void {
    super.dispose();
    this.teacher.dispose();
  }
}

export const distillKind: DerivedTaskKind<DistillRunConfig> = {
  async modelOf(config, base) {
    return studentConfig(base, config.compress.student);
  },
  loop: (config) => config.compress.loop,
  async prepare(config, ctx) {
    const { loop, weights, temperature } = config.compress;
    const teacher = await openBaseModel(config, 'a distilled student learns from it (on resume too)');
    let student: AnyModel | undefined;
    let data: PreparedData | undefined;
    try {
      const bd = await openBaseData(config, loop, ctx);
      data = bd.data;
      checkMemory(config.model, loop.batchSize, bd.seqLen, ctx.backend);
      student = createModel(config.model, loop.seed);
      const init = config.compress.init === 'teacher-layers' && !ctx.resuming ? initFromTeacher(student, teacher.model) : null;
      if (init?.random.length) ctx.onEvent?.({ type: 'log', level: 'info', message: `the student starts from teacher layers ${init.layers.join(', ')}; ${init.random.length} weight(s) of other shapes start at random: ${init.random.slice(0, 3).join('; ')}${init.random.length > 3 ? '; …' : ''}` });
      const widthsDiffer = student.config.dModel !== teacher.model.config.dModel;
      const projections = widthsDiffer && weights.cosine > 0 ? addProjections(student, teacher.model.config.dModel, loop.seed) : null;
      if (!ctx.resuming) await describeDistillation(ctx.run.dir, teacher.model, student, bd.data, bd.objective, init, config);
      const tokensPerStep = loop.batchSize * bd.data.validation[0].T * loop.gradAccumSteps;
      return new DistillTask(student, teacher.model, bd.data, bd.objective, tokensPerStep, loop.seed, weights, temperature, projections);
    } catch (err) {
      student?.dispose();
      data?.close();
      teacher.model.dispose();
      throw err;
    }
  },
};

/** distillation.json: the teacher's validation figures and size beside the student's, and how the student started. */
async function describeDistillation(runDir: string, teacher: AnyModel, student: AnyModel, data: PreparedData, objective: Objective, init: ReturnType<typeof initFromTeacher> | null, config: DistillRunConfig): Promise<void> {
  const val = await evaluate(teacher, data.validation, objective);
  const studentParams = student.params.names.filter((n) => !n.startsWith(TRAINING_AID_PREFIX)).reduce((n, name) => n + student.params.get(name).size, 0);
  const file: DistillationFile = {
    teacher: { runDir: config.base.runDir, checkpoint: config.base.checkpoint, parameters: teacher.params.count, nLayers: teacher.config.nLayers, val },
    student: { parameters: studentParams, nLayers: student.config.nLayers, init: config.compress.init, ...(init ? { initLayers: init.layers, copied: init.copied, random: init.random } : {}) },
    layerMap: Array.from({ length: student.config.nLayers }, (_, i) => lossLayerOf(i, student.config.nLayers, teacher.config.nLayers)),
    weights: config.compress.weights, temperature: config.compress.temperature,
  };
  await writeFileAtomic(path.join(runDir, DISTILLATION_FILE), jsonText(file));
}
