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

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();
  readonly specs: ParamSpec[] = [];

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

  /** Every parameter whose name starts with `prefix`, by name. */
  withPrefix(prefix: string): Record<string, tf.Variable> {
    return Object.fromEntries([...this.vars].filter(([name]) => name.startsWith(prefix)));
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
  }
}

/** Spec helpers: matrices decay, vectors do not. */
export const weight = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'normal', decay: true });
export const bias = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'zeros', decay: false });
export const norm = (prefix: string, d: number): ParamSpec[] => [
  { name: `${prefix}.weight`, shape: [d], init: 'ones', decay: false },
  { name: `${prefix}.bias`, shape: [d], init: 'zeros', decay: false },
];
