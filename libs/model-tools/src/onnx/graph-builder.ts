import { onnx } from 'onnx-proto';

/** ONNX opset the exporter targets (ReduceSum takes axes as an input, ReduceMax as an attribute). */
export const OPSET = 17;

/** A float attribute; plain numbers are written as INT attributes. */
export class FloatAttr {
  constructor(readonly value: number) {}
}

export type AttrValue = number | number[] | string | FloatAttr;

/** A dimension: a fixed size or a symbolic name such as 'N'. */
export type Dim = number | string;

export type ElementType = 'float' | 'int64' | 'bool';

const ELEMENT_TYPES: Record<ElementType, onnx.TensorProto.DataType> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.INT, i: value };
}

function valueInfo(name: string, dims: Dim[], type: ElementType): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Accumulates nodes, initializers, inputs and outputs of one ONNX graph, with unique tensor names. */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly scalarCache = new Map<string, string>();

  /** A fresh tensor name starting with `hint`. */
  name(hint: string): string {
    let candidate = hint;
    for (let i = 1; this.used.has(candidate); i++) candidate = `${hint}_${i}`;
    this.used.add(candidate);
    return candidate;
  }

  input(name: string, dims: Dim[], type: ElementType = 'float'): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  /** Exposes `tensor` as graph output `name` (through Identity when the names differ). */
  output(tensor: string, name: string, dims: Dim[], type: ElementType = 'float'): void {
    if (tensor !== name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', input: [tensor], output: [name], name });
    }
    this.outputs.push(valueInfo(name, dims, type));
  }

  /** A float constant stored as an initializer. */
  floats(hint: string, data: Float32Array, dims: number[]): string {
    const name = this.name(hint);
    this.initializers.push({
      name,
      dims,
      dataType: ELEMENT_TYPES.float,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** An int64 constant (shapes, pads, axes, indices). */
  ints(hint: string, values: number[], dims: number[] = [values.length]): string {
    const key = `i:${dims.join(',')}:${values.join(',')}`;
    const cached = this.scalarCache.get(key);
    if (cached) return cached;
    const name = this.name(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims,
      dataType: ELEMENT_TYPES.int64,
      rawData: new Uint8Array(data.buffer),
    });
    this.scalarCache.set(key, name);
    return name;
  }

  /** A float scalar constant, shared between uses. */
  scalar(value: number): string {
    const key = `f:${value}`;
    const cached = this.scalarCache.get(key);
    if (cached) return cached;
    const name = this.floats(`const_${String(value).replace(/[^0-9a-z]/gi, '_')}`, Float32Array.of(value), []);
    this.scalarCache.set(key, name);
    return name;
  }

  /** Adds one node writing the given (already reserved) output names. */
  emit(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): void {
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: outputs[0],
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
  }

  /** Adds one node with fresh output names and returns them. */
  nodeN(
    opType: string,
    inputs: string[],
    outputCount: number,
    hint: string,
    attrs: Record<string, AttrValue> = {},
  ): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.name(outputCount === 1 ? hint : `${hint}_${i}`));
    this.emit(opType, inputs, outputs, attrs);
    return outputs;
  }

  /** Adds one single-output node and returns its output name. */
  node(opType: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}): string {
    return this.nodeN(opType, inputs, 1, hint, attrs)[0];
  }

  /** Serialises the graph as an ONNX model (protobuf bytes). */
  encode(graphName: string, docString = '', metadata: Record<string, string> = {}): Uint8Array {
    const model: onnx.IModelProto = {
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      irVersion: 8,
      producerName: 'xray-bodypart',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
