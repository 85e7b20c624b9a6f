/**
 * Knowledge distillation loss (Hinton et al. 2015): the KL divergence from the teacher's softened
 * distribution to the student's, KL(softmax(t/T) ‖ softmax(s/T)), averaged over rows ("batchmean") and
 * scaled by T² so that its gradients keep their size as the temperature changes.
 * Equals torch's F.kl_div(F.log_softmax(s/T), F.softmax(t/T), reduction='batchmean') · T².
 * Reference: ../shared/reference/gen_golden.py `compression`.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * student and teacher logits [..., V] → scalar. Leading axes are flattened, so for an LM's [B, T, V] the
 * mean is over all B·T positions (torch's batchmean would divide by B alone). The teacher is a constant:
 * compute its logits outside the function being differentiated.
 */
export function distillationLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`distillationLoss: temperature ${temperature} must be > 0`);
  if (studentLogits.shape.join() !== teacherLogits.shape.join()) {
    throw new Error(`distillationLoss: student logits [${studentLogits.shape}] and teacher logits [${teacherLogits.shape}] must have the same shape (same vocabulary)`);
  }
  return tf.tidy(() => {
    const V = studentLogits.shape[studentLogits.rank - 1];
    const rows = studentLogits.size / V;
    const logQ = tf.logSoftmax(tf.reshape(tf.div(studentLogits, temperature), [rows, V])); // [N, V] student
    const logP = tf.logSoftmax(tf.reshape(tf.div(teacherLogits, temperature), [rows, V])); // [N, V] teacher
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ))); // Σ p (log p − log q); p log p from log p: no log 0
    return tf.mul(kl, (temperature * temperature) / rows) as tf.Scalar;
  });
}
