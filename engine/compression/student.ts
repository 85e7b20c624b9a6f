/**
 * A distillation student: the teacher's config with the student's shape (common/compressConfig.ts
 * StudentShape; default half the layers), initialised DistilBERT's way from every other teacher layer where
 * the shapes allow, and the layer map its intermediate losses use.
 *
 * Layer maps, for a student of Ls layers and a teacher of Lt:
 *  - initialisation: student layer i starts as teacher layer ⌊i·Lt/Ls⌋ (half the layers: 0, 2, 4, …, DistilBERT's);
 *  - hidden-state and attention losses: student layer i learns from teacher layer ⌈(i+1)·Lt/Ls⌉ − 1 (half:
 *    1, 3, 5, …), so the student's last layer always answers to the teacher's last.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StudentShape } from '../../common/compressConfig';
import { ModelConfig } from '../../common/modelConfig';
import { invalidConfig } from '../../common/zodIssues';
import type { AnyModel } from '../models/registry';

/** The student's config: a field of `shape` left out is the teacher's; nLayers defaults to half the teacher's (at least 1). */
export function studentConfig(teacher: ModelConfig, shape: StudentShape): ModelConfig {
  const reshaped = shape.dModel !== undefined || shape.nHeads !== undefined;
  const { headDim, ...rest } = teacher;
  const r = ModelConfig.safeParse({
    ...rest,
    // a pruned teacher's explicit head width holds for its own width and head count only
    ...(headDim !== undefined && !reshaped ? { headDim } : {}),
    nLayers: shape.nLayers ?? Math.max(1, Math.floor(teacher.nLayers / 2)),
    ...(shape.dModel !== undefined ? { dModel: shape.dModel } : {}),
    ...(shape.nHeads !== undefined ? { nHeads: shape.nHeads } : {}),
    ...(shape.dFF !== undefined ? { dFF: shape.dFF } : {}),
  });
  if (!r.success) throw invalidConfig(r.error, ['compress', 'student']);
  return r.data;
}

/** The teacher layer student layer i starts from. */
export const initLayerOf = (i: number, studentLayers: number, teacherLayers: number): number => Math.floor((i * teacherLayers) / studentLayers);

/** The teacher layer whose output (hidden state, attention) student layer i learns. */
export const lossLayerOf = (i: number, studentLayers: number, teacherLayers: number): number => Math.ceil(((i + 1) * teacherLayers) / studentLayers) - 1;

const LAYER = /^(h|bert\.encoder\.layer)\.(\d+)\./;

export interface StudentInit {
  /** parameters copied from the teacher */
  copied: number;
  /** parameters left at their random initialisation, with the reason (a shape the teacher does not have) */
  random: string[];
  /** student layer → the teacher layer it was copied from */
  layers: number[];
}

/**
 * Copies into `student` every teacher weight of the same name and shape — embeddings, final norms and heads
 * directly, layer i's weights from teacher layer initLayerOf(i) — and leaves the rest random.
 */
export function initFromTeacher(student: AnyModel, teacher: AnyModel): StudentInit {
  const Ls = student.config.nLayers;
  const Lt = teacher.config.nLayers;
  const out: StudentInit = { copied: 0, random: [], layers: Array.from({ length: Ls }, (_, i) => initLayerOf(i, Ls, Lt)) };
  for (const name of student.params.names) {
    const from = name.replace(LAYER, (_, prefix: string, i: string) => `${prefix}.${out.layers[Number(i)]}.`);
    const target = student.params.get(name);
    const source = teacher.params.has(from) ? teacher.params.get(from) : null;
    if (source && source.shape.join() === target.shape.join()) {
      target.assign(source);
      out.copied += 1;
    } else {
      out.random.push(source ? `${name} ([${target.shape}] in the student, [${source.shape}] in the teacher)` : `${name} (the teacher has no ${from})`);
    }
  }
  return out;
}

/** A parameter the distillation adds to the student for its training only (a hidden-state projection); not part of the model it makes. */
export const TRAINING_AID_PREFIX = 'distill.';

/** The projection of student layer i's hidden state to the teacher's width. */
export const projectionName = (i: number): string => `${TRAINING_AID_PREFIX}proj.${i}.weight`;

/** Adds a [dStudent, dTeacher] projection per student layer (seeded), for the hidden-state loss where the widths differ. */
export function addProjections(student: AnyModel, teacherWidth: number, seed: number): string[] {
  const ds = student.config.dModel;
  return Array.from({ length: student.config.nLayers }, (_, i) => {
    const name = projectionName(i);
    const value = tf.tidy(() => tf.randomNormal([ds, teacherWidth], 0, 1 / Math.sqrt(ds), 'float32', seed * 31 + i));
    student.params.add({ name, shape: [ds, teacherWidth], init: 'normal', decay: true }, tf.variable(value, true, `${name}#${Math.random().toString(36).slice(2)}`));
    value.dispose();
    return name;
  });
}

/** A checkpoint's tensors without the training aids: what opening the run's model (loadRunModel) restores. */
export function dropTrainingAids(params: Map<string, unknown>): void {
  for (const name of [...params.keys()]) if (name.startsWith(TRAINING_AID_PREFIX)) params.delete(name);
}
