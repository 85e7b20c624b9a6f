/**
 * AdamW with decoupled weight decay, step for step as torch.optim.AdamW (Loshchilov & Hutter):
 *
 *   θ ← θ·(1 − lr·λ)                         only for parameters with decay on (matrices; not biases, norms)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * Updates are applied in place to the tf.Variables (assign inside tf.tidy), so a training step leaks no
 * tensor. The state (step, m, v) round-trips through exportState / importState for checkpoints.
 * Unlike torch, the bias correction uses one optimizer-wide step: identical whenever every parameter
 * receives a gradient at every step, as in our models. A parameter missing from `grads` is skipped
 * for that step (no decay either), as torch skips parameters whose .grad is None.
 * Reference: ../shared/reference/gen_golden.py `optim`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamwUpdate } from '../backends/fusedOps';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** nanoGPT's rule: decay every parameter of rank ≥ 2 (weights, embeddings), none of rank < 2 (biases, LayerNorm). */
export const decayMatricesOnly = (_name: string, v: tf.Variable): boolean => v.rank >= 2;

export interface SerializedTensor { shape: number[]; data: Float32Array }

/** What a checkpoint stores: plain data, no tensors. */
export interface AdamWState {
  step: number;
  m: Record<string, SerializedTensor>;
  v: Record<string, SerializedTensor>;
}

interface Slot { variable: tf.Variable; decay: boolean; m: tf.Variable; v: tf.Variable }

export class AdamW {
  readonly config: AdamWConfig;
  private readonly slots = new Map<string, Slot>();
  private t = 0;

  /**
   * @param params the trainable variables by name
   * @param decay which of them get weight decay; default decayMatricesOnly
   */
  constructor(params: Record<string, tf.Variable>, config: Partial<AdamWConfig> = {}, decay: (name: string, v: tf.Variable) => boolean = decayMatricesOnly) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    const { lr, beta1, beta2, eps, weightDecay } = this.config;
    if (!(lr >= 0)) throw new Error(`AdamW: lr ${lr} must be ≥ 0`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`AdamW: beta1 ${beta1} must be in [0, 1)`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`AdamW: beta2 ${beta2} must be in [0, 1)`);
    if (!(eps >= 0)) throw new Error(`AdamW: eps ${eps} must be ≥ 0`);
    if (!(weightDecay >= 0)) throw new Error(`AdamW: weightDecay ${weightDecay} must be ≥ 0`);
    for (const [name, variable] of Object.entries(params)) {
      if (variable.dtype !== 'float32') throw new Error(`AdamW: parameter '${name}' is ${variable.dtype}; only float32 parameters can be trained`);
    }
    // tidy frees the zerosLike temporaries; the variables share their buffers and outlive it
    tf.tidy(() => {
      for (const [name, variable] of Object.entries(params)) {
        this.slots.set(name, {
          variable,
          decay: decay(name, variable),
          m: tf.variable(tf.zerosLike(variable), false),
          v: tf.variable(tf.zerosLike(variable), false),
        });
      }
    });
  }

  /** Steps taken so far (torch's state['step']). */
  get stepCount(): number { return this.t; }

  /** Whether a parameter gets weight decay. */
  decays(name: string): boolean { return this.slot(name).decay; }

  /**
   * One step with these gradients (keyed like the params) at learning rate lr (default config.lr, so a
   * schedule passes its value here). The gradients stay the caller's to dispose.
   */
  step(grads: Record<string, tf.Tensor>, lr = this.config.lr): void {
    for (const name of Object.keys(grads)) this.slot(name); // unknown names fail before any update
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const s = this.slots.get(name)!;
        if (g.shape.join() !== s.variable.shape.join()) {
          throw new Error(`AdamW: gradient of '${name}' is [${g.shape}] but the parameter is [${s.variable.shape}]`);
        }
        // one fused kernel on wasm, the same arithmetic as tfjs ops elsewhere (engine/backends/fusedOps.ts)
        const next = adamwUpdate(s.variable, g, s.m, s.v, { lr, beta1, beta2, eps, weightDecay: s.decay ? weightDecay : 0, step: this.t });
        s.m.assign(next.m);
        s.v.assign(next.v);
        s.variable.assign(next.param);
      }
    });
  }

  /** A copy of the state as plain arrays, for a checkpoint. */
  async exportState(): Promise<AdamWState> {
    const state: AdamWState = { step: this.t, m: {}, v: {} };
    for (const [name, s] of this.slots) {
      state.m[name] = { shape: s.m.shape.slice(), data: (await s.m.data()) as Float32Array };
      state.v[name] = { shape: s.v.shape.slice(), data: (await s.v.data()) as Float32Array };
    }
    return state;
  }

  /** Restores a state made by exportState; every parameter of this optimizer must be present with its shape. */
  importState(state: AdamWState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`AdamW state: step ${state.step} must be a non-negative integer`);
    const checked: [Slot, SerializedTensor, SerializedTensor][] = [];
    for (const [name, s] of this.slots) {
      const m = state.m[name];
      const v = state.v[name];
      if (!m || !v) throw new Error(`AdamW state has no moments for parameter '${name}'; was the checkpoint written by a model with other parameters?`);
      for (const [what, t] of [['m', m], ['v', v]] as const) {
        if (t.shape.join() !== s.variable.shape.join() || t.data.length !== s.variable.size) {
          throw new Error(`AdamW state: ${what} of '${name}' is [${t.shape}] but the parameter is [${s.variable.shape}]`);
        }
      }
      checked.push([s, m, v]);
    }
    for (const [s, m, v] of checked) {
      tf.tidy(() => {
        s.m.assign(tf.tensor(m.data, s.variable.shape, 'float32'));
        s.v.assign(tf.tensor(v.data, s.variable.shape, 'float32'));
      });
    }
    this.t = state.step;
  }

  /** Frees the moment buffers (not the parameters). */
  dispose(): void {
    for (const s of this.slots.values()) { s.m.dispose(); s.v.dispose(); }
    this.slots.clear();
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (!s) throw new Error(`AdamW: no parameter named '${name}'; pass it to the constructor to train it`);
    return s;
  }
}
