/**
 * What every architecture shares: its named parameters, the few layer helpers that read them by name, the
 * mixture-of-experts feed-forward, and the checks on its input. Each architecture (gpt/, bert/) extends it
 * with its own parameter list, forward pass and heads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import { dropout, layerNorm } from './layers';
import type { ForwardOptions } from './types';
import { moeFeedForward, moeParamsFromNamed } from './moe';
import { ParamStore, type ParamSpec } from './params';

/**
 * How a projection sees its input, when something stands before it: an int8 model's activation
 * quantization (engine/compression/fakeQuant.ts). `site` is the projection's name (its weight's without
 * `.weight`); BERT's fused query|key|value projection is the query's.
 */
export type ActivationView = (site: string, x: tf.Tensor2D) => tf.Tensor2D;

/** What a forward pass tells an adapter: whether it trains (adapter dropout) and its dropout seed. */
export interface AdapterPass {
  training: boolean;
  dropoutSeed?: number;
}

/**
 * Something that adds to a linear layer's output from the layer's input (a LoRA adapter's (alpha/r)·B A
 * dropout(x)): a weight view cannot, since it never sees x. It returns [N, out] to add, or null for a module
 * it leaves alone.
 */
export type LinearAdapter = (module: string, x: tf.Tensor2D, pass: AdapterPass) => tf.Tensor2D | null;

/** A forward pass's dropout, carrying the pass for the adapters of the layers it is handed to. */
export type Dropper = (<T extends tf.Tensor>(x: T) => T) & { readonly pass: AdapterPass };

const INFERENCE: AdapterPass = { training: false };

export abstract class TransformerBase {
  readonly params: ParamStore;
  /** called by every linear layer of the stack (engine/finetune/lora/attach.ts sets it); null: none */
  linearAdapter: LinearAdapter | null = null;
  /** set by whoever opens the model as int8 (engine/runs/loadRunModel.ts) or trains it so (QAT); null: inputs as they are */
  activationView: ActivationView | null = null;

  protected constructor(readonly config: ResolvedModelConfig, specs: ParamSpec[], seed: number) {
    this.params = new ParamStore(specs, config.initStd, seed);
  }

  get variables(): Map<string, tf.Variable> {
    return this.params.variables;
  }

  /** A weight as this forward pass uses it: through the store's view (LoRA, fake quantization, a pruning mask) when one is set. */
  protected p<R extends tf.Rank = tf.Rank>(name: string): tf.Tensor<R> {
    return this.params.read(name) as tf.Tensor<R>;
  }

  /** A projection's input as it uses it: through the activation view when one is set. */
  protected input(site: string, x: tf.Tensor2D): tf.Tensor2D {
    return this.activationView ? this.activationView(site, x) : x;
  }

  /** LayerNorm with the parameters `${name}.weight` and `${name}.bias`. */
  protected ln(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return layerNorm(x, this.p(`${name}.weight`), this.p(`${name}.bias`), this.config.layerNormEps);
  }

  /** The mixture-of-experts block under `prefix` on rows x [N, d]: its output [N, d] and load-balancing loss. */
  protected moe(x: tf.Tensor2D, prefix: string): { y: tf.Tensor2D; auxLoss: tf.Scalar } {
    const c = this.config;
    const r = moeFeedForward(x, moeParamsFromNamed(this.params.withPrefix(`${prefix}.`), prefix, c.moe!.experts), { topK: c.moe!.topK, activation: c.activation });
    return { y: r.y as tf.Tensor2D, auxLoss: r.auxLoss };
  }

  /**
   * The dropout of one forward pass: identity unless training with dropout > 0. With opts.dropoutSeed each
   * call gets its own seed in order, so the same step draws the same masks again (after a resume too).
   */
  protected dropper(opts: ForwardOptions): Dropper {
    const training = opts.training ?? false;
    const base = opts.dropoutSeed;
    let call = 0;
    const drop = <T extends tf.Tensor>(x: T) => dropout(x, this.config.dropout, training, base === undefined ? undefined : base * 4099 + call++) as T;
    return Object.assign(drop, { pass: { training, ...(base === undefined ? {} : { dropoutSeed: base }) } });
  }

  /**
   * y [N, out] of the linear layer(s) `modules` on x [N, in], plus what the adapter adds to each. Several
   * modules are one fused projection of equal parts (BERT's q|k|v), their outputs side by side.
   */
  protected adapted(y: tf.Tensor2D, x: tf.Tensor2D, modules: string[], drop?: Dropper): tf.Tensor2D {
    const hook = this.linearAdapter;
    if (!hook) return y;
    const deltas = modules.map((m) => hook(m, x, drop?.pass ?? INFERENCE));
    if (deltas.every((d) => d === null)) return y;
    const [N, out] = y.shape;
    const part = out / modules.length;
    return tf.add(y, deltas.length === 1 ? deltas[0]! : tf.concat(deltas.map((d) => d ?? tf.zeros([N, part])), 1)) as tf.Tensor2D;
  }

  /** [B, T] of the batch, refused when T exceeds the context. */
  protected batchShape(inputIds: tf.Tensor2D): [number, number] {
    const [B, T] = inputIds.shape;
    if (T > this.config.contextLength) throw new Error(`sequence length ${T} exceeds contextLength ${this.config.contextLength}; shorten the input or raise contextLength`);
    return [B, T];
  }

  dispose(): void {
    this.params.dispose();
  }
}
