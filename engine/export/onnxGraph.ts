/**
 * A small builder of ONNX graphs over `onnx-proto` (ONNX's own protobuf definitions): nodes with
 * generated output names, initializers from typed arrays, and the model wrapper. The graphs of
 * ./onnxModels.ts read top-down through it, one line per operator.
 *
 * Opset 17 (LayerNormalization) with IR version 8: the newest that Debian's python3-onnx (1.12) checks and
 * that transformers.js' onnxruntime and onnxruntime-node both run; ≥ 14 as masked attention needs.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type OnnxModel = InstanceType<typeof onnx.ModelProto>;

export const OPSET = 17;
const IR_VERSION = 8;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

type Attr = number | number[] | string | { float: number };
type Typed = Float32Array | Int8Array | BigInt64Array;

const dataTypeOf = (a: Typed): number => (a instanceof Float32Array ? DT.FLOAT : a instanceof Int8Array ? DT.INT8 : DT.INT64);

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: AT.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: AT.INT, i: v });
}

/** A dynamic-shape tensor of the graph's signature: dims are numbers or symbolic names ('batch_size'). */
export interface GraphIO { name: string; type: 'float32' | 'int64'; dims: (number | string)[] }

function valueInfo(io: GraphIO) {
  return onnx.ValueInfoProto.create({
    name: io.name,
    type: { tensorType: { elemType: io.type === 'float32' ? DT.FLOAT : DT.INT64, shape: { dim: io.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A node of `type`; returns its single output's name (outputs > 1: their names in order). */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(type, inputs, 1, attrs)[0];
  }

  opN(type: string, inputs: string[], outputs: number, attrs: Record<string, Attr> = {}): string[] {
    const id = this.counter++;
    const out = Array.from({ length: outputs }, (_, i) => `${type}_${id}${outputs > 1 ? `_${i}` : ''}`);
    this.nodes.push(onnx.NodeProto.create({
      opType: type, name: `${type}_${id}`, input: inputs, output: out,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    }));
    return out;
  }

  /** Gives `x` the graph-level name `name` (an output's), through an Identity node. */
  alias(x: string, name: string): string {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `Identity_${name}`, input: [x], output: [name] }));
    return name;
  }

  /** An initializer (a weight or a constant); its name is returned, and a name given twice is a bug. */
  tensor(name: string, dims: number[], data: Typed): string {
    if (this.names.has(name)) throw new Error(`onnx: initializer '${name}' added twice`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`onnx: initializer '${name}' has dims [${dims}] but ${data.length} values`);
    this.names.add(name);
    this.initializers.push(onnx.TensorProto.create({
      name, dims, dataType: dataTypeOf(data), rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    }));
    return name;
  }

  /** A float scalar constant, shared by name. */
  scalar(value: number): string {
    const name = `const_f_${value}`;
    return this.names.has(name) ? name : this.tensor(name, [], new Float32Array([value]));
  }

  /** An int64 constant (a shape, axes, an index), shared by name; `scalar` gives it rank 0. */
  ints(values: number[], scalar = false): string {
    const name = `const_i${scalar ? 's' : ''}_${values.join('_').replace(/-/g, 'm')}`;
    return this.names.has(name) ? name : this.tensor(name, scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  model(inputs: GraphIO[], outputs: GraphIO[], doc: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'transformer-workbench',
      docString: doc,
      graph: {
        name: 'main', node: this.nodes, initializer: this.initializers,
        input: inputs.map(valueInfo), output: outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
