/**
 * Named parameters of a model. Names and layouts are those of the Hugging Face checkpoints
 * (GPT-2 `Conv1D` weights [in, out]; BERT `nn.Linear` weights [out, in]), so export writes them as they are.
 */
import * as tf from '@tensorflow/tfjs-core';

export type Init = 'normal' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** AdamW weight decay applies to matrices only, never to biases and norms */
  decay: boolean;
}

/**
 * How the forward pass sees a weight, when something stands between the stored variable and its use: a LoRA
 * adapter adds its low-rank product, quantization-aware training fake-quantizes it, pruning multiplies it by
 * a mask. It is called inside the forward pass, so its gradients reach the variables it reads.
 */
export type WeightView = (name: string, stored: tf.Variable) => tf.Tensor;

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();
  readonly specs: ParamSpec[] = [];
  private view: WeightView | null = null;

  /** Creates every parameter; `seed` makes initialisation repeat exactly (the values are drawn in JS on every backend). */
  constructor(specs: ParamSpec[], initStd: number, seed: number) {
    specs.forEach((spec, i) => {
      if (this.vars.has(spec.name)) throw new Error(`duplicate parameter name ${spec.name}`);
      const value = tf.tidy(() => spec.init === 'zeros' ? tf.zeros(spec.shape)
        : spec.init === 'ones' ? tf.ones(spec.shape)
          : tf.randomNormal(spec.shape, 0, initStd, 'float32', seed * 7919 + i));
      this.vars.set(spec.name, tf.variable(value, true, `${spec.name}#${seed}_${Math.random().toString(36).slice(2)}`));
      value.dispose();
      this.specs.push(spec);
    });
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`the model has no parameter named '${name}'`);
    return v;
  }

  /** The weight as the forward pass uses it: the stored variable, seen through the view when one is set. */
  read(name: string): tf.Tensor {
    const v = this.get(name);
    return this.view ? this.view(name, v) : v;
  }

  /** Sets (or with null, removes) the view every forward pass reads the weights through; see WeightView. */
  setView(view: WeightView | null): void {
    this.view = view;
  }

  /**
   * Adds a parameter that the architecture does not declare — a LoRA adapter's A and B, a distillation
   * projection — so that the optimizer, checkpoints and histograms treat it like any other. The store owns
   * `value` from now on.
   */
  add(spec: ParamSpec, value: tf.Variable): void {
    if (this.vars.has(spec.name)) throw new Error(`duplicate parameter name ${spec.name}`);
    if (JSON.stringify(value.shape) !== JSON.stringify(spec.shape)) throw new Error(`parameter '${spec.name}' is declared [${spec.shape}] but its value is [${value.shape}]`);
    this.vars.set(spec.name, value);
    this.specs.push(spec);
  }

  /** Removes and frees a parameter added with `add` (an adapter taken off); the architecture's own stay. */
  remove(name: string): void {
    const v = this.get(name);
    v.dispose();
    this.vars.delete(name);
    this.specs.splice(this.specs.findIndex((s) => s.name === name), 1);
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  get names(): string[] {
    return [...this.vars.keys()];
  }

  get variables(): Map<string, tf.Variable> {
    return this.vars;
  }

  /** Total number of scalars. */
  get count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Every parameter whose name starts with `prefix`, by name, as the forward pass sees it (see read). */
  withPrefix(prefix: string): Record<string, tf.Tensor> {
    return Object.fromEntries([...this.vars.keys()].filter((name) => name.startsWith(prefix)).map((name) => [name, this.read(name)]));
  }

  /** Overwrites a parameter; the shape must match (a mismatch names the parameter and both shapes). */
  assign(name: string, value: tf.Tensor): void {
    const v = this.get(name);
    if (JSON.stringify(v.shape) !== JSON.stringify(value.shape)) {
      throw new Error(`parameter '${name}' has shape [${v.shape}], the value given has [${value.shape}]`);
    }
    v.assign(value);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.specs.length = 0;
    this.view = null;
  }
}

/** Spec helpers: matrices decay, vectors do not. */
export const weight = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'normal', decay: true });
export const bias = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'zeros', decay: false });
export const norm = (prefix: string, d: number): ParamSpec[] => [
  { name: `${prefix}.weight`, shape: [d], init: 'ones', decay: false },
  { name: `${prefix}.bias`, shape: [d], init: 'zeros', decay: false },
];
