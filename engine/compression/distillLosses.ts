/**
 * The intermediate-layer distillation losses beside Hinton's soft targets (./distill.ts): a hidden-state
 * cosine loss (DistilBERT's, on every mapped layer rather than the last only) and an attention-map loss
 * (TinyBERT / MiniLM style, as a KL divergence of each query's attention distribution). Teacher tensors
 * are constants: compute them outside the function being differentiated.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Keeps log p finite where a probability is exactly 0 (a causal mask's future keys); p·log p is then 0, as it should be. */
const EPS = 1e-12;

/** Per-row weights [B·T] from a padding mask [B, T] (1 = token), or all ones; and their sum. */
function rowWeights(B: number, T: number, mask?: tf.Tensor2D): { w: tf.Tensor1D; n: tf.Scalar } {
  const w = mask ? tf.reshape(tf.cast(mask, 'float32'), [B * T]) as tf.Tensor1D : tf.ones([B * T]) as tf.Tensor1D;
  return { w, n: tf.maximum(tf.sum(w), 1) as tf.Scalar };
}

/**
 * Mean over real positions of 1 − cos(student, teacher), each [B, T, d] (the student's already projected to
 * the teacher's width where they differ). `mask` [B, T]: 1 = token, 0 = padding (not counted).
 */
export function hiddenCosineLoss(student: tf.Tensor3D, teacher: tf.Tensor3D, mask?: tf.Tensor2D): tf.Scalar {
  if (student.shape.join() !== teacher.shape.join()) throw new Error(`hiddenCosineLoss: student [${student.shape}] and teacher [${teacher.shape}] hidden states must have the same shape (project the student's to the teacher's width)`);
  return tf.tidy(() => {
    const [B, T, d] = student.shape;
    const s = tf.reshape(student, [B * T, d]);
    const t = tf.reshape(teacher, [B * T, d]);
    const cos = tf.div(tf.sum(tf.mul(s, t), 1), tf.maximum(tf.mul(tf.norm(s, 2, 1), tf.norm(t, 2, 1)), 1e-8)); // [B·T]
    const { w, n } = rowWeights(B, T, mask);
    return tf.div(tf.sum(tf.mul(tf.sub(1, cos), w)), n) as tf.Scalar;
  });
}

/**
 * Mean over heads and real queries of KL(teacher row ‖ student row) of attention maps [B, H, T, T]. With
 * equal head counts head h is matched to head h; otherwise both maps are first averaged over their heads
 * (a distribution still), so any student width can learn where the teacher looks.
 */
export function attentionMapLoss(student: tf.Tensor4D, teacher: tf.Tensor4D, mask?: tf.Tensor2D): tf.Scalar {
  const [B, Hs, T] = student.shape;
  const [Bt, , Tt] = teacher.shape;
  if (B !== Bt || T !== Tt) throw new Error(`attentionMapLoss: student maps [${student.shape}] and teacher maps [${teacher.shape}] must cover the same batch and positions`);
  return tf.tidy(() => {
    const same = Hs === teacher.shape[1];
    const s = same ? student : tf.mean(student, 1, true);
    const t = same ? teacher : tf.mean(teacher, 1, true);
    const H = s.shape[1] as number;
    const kl = tf.sum(tf.mul(t, tf.sub(tf.log(tf.add(t, EPS)), tf.log(tf.add(s, EPS)))), 3); // [B, H, T]
    const { w, n } = rowWeights(B, T, mask);
    const perQuery = tf.sum(tf.reshape(tf.transpose(kl, [0, 2, 1]), [B * T, H]), 1); // [B·T], summed over heads
    return tf.div(tf.sum(tf.mul(perQuery, w)), tf.mul(n, H)) as tf.Scalar;
  });
}
