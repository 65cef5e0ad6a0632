/**
 * `OnnxGraph`: builds an ONNX graph node by node for one opset, with the weights as named
 * initializers. The emitters (layers.ts, attention.ts, backbones.ts) call it; it knows where the
 * operators they use changed between opsets (the axes of the Reduce ops became an input, Gemm's
 * bias became optional) and emits the form the chosen opset defines.
 */
import { scope, type Tensor } from '../tensor/index.js';
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from './proto.js';
import { checkInt } from '../check.js';

/** The lowest opset the exporter writes: every operator it uses has its present meaning from 7 on (docs/decisions/onnx.md). */
export const MIN_OPSET = 7;
/** The highest opset the exporter writes (checked with onnx 1.23 and ONNX Runtime 1.30). */
export const MAX_OPSET = 21;
/** The default opset. */
export const DEFAULT_OPSET = 17;

/** Throws a RangeError unless `opset` is one the exporter writes. */
export function checkOpset(opset: number): void {
  checkInt('ONNX export: opset', opset, MIN_OPSET, MAX_OPSET);
}

/** An attribute value: an integer, a float, integers, floats or a string, tagged with its type. */
export type Attr = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

/** A weight of the graph: its name, shape and float32 values (read when the file is written). */
export interface Weight {
  name: string;
  dims: number[];
  /** Copies the values out of the tensor, as float32 (called once, when the file is written). */
  read(): Float32Array;
}

function attribute(name: string, a: Attr): AttributeProto {
  if ('int' in a) return { name, type: AttributeType.INT, i: a.int };
  if ('float' in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: a.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.string) };
}

/** Graph under construction: nodes in topological order, weights and small constants. */
export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly weights: Weight[] = [];
  /** Small constants (shapes, axes, 1.0): always inline in the model file. */
  readonly constants: TensorProto[] = [];
  #names = new Set<string>();
  #weightOf = new Map<string, Tensor>();

  constructor(readonly opset: number) {
    checkOpset(opset);
  }

  /** `hint`, or `hint_1`, `hint_2`, … when taken: a fresh value name. */
  fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.#names.has(name); i++) name = `${hint}_${i}`;
    this.#names.add(name);
    return name;
  }

  /** Reserves a name given from outside (the graph input), so no node output takes it. */
  reserve(name: string): string {
    if (this.#names.has(name)) throw new Error(`ONNX export: the name '${name}' is taken`);
    this.#names.add(name);
    return name;
  }

  /**
   * Adds a node and returns the name of its (first) output. `at` names the node (the module path
   * and the op: `body.0.res_layer.1/Conv`); outputs are named after it.
   */
  node(op: string, inputs: string[], at: string, attrs: Record<string, Attr> = {}): string {
    return this.nodeN(op, inputs, at, 1, attrs)[0]!;
  }

  /** A node with `n` outputs. */
  nodeN(op: string, inputs: string[], at: string, n: number, attrs: Record<string, Attr> = {}): string[] {
    const name = this.fresh(`${at}/${op}`);
    const outputs = n === 1 ? [name] : Array.from({ length: n }, (_, i) => this.fresh(`${name}:${i}`));
    this.nodes.push({
      name,
      op_type: op,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /**
   * A module's tensor as a float32 initializer named `name` (its state-dict name), optionally
   * with another shape of the same values (PReLU's slope [C] as [C, 1, 1]). The same tensor under
   * the same name is added once (CBAM's MLP runs on two poolings).
   */
  weight(name: string, t: Tensor, dims: number[] = t.shape): string {
    const known = this.#weightOf.get(name);
    if (known !== undefined) {
      if (known !== t) throw new Error(`ONNX export: two different tensors are named '${name}'`);
      return name;
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (dims.reduce((a, b) => a * b, 1) !== numel) throw new Error(`ONNX export: ${name} [${t.shape.join(', ')}] cannot be stored as [${dims.join(', ')}]`);
    this.reserve(name);
    this.#weightOf.set(name, t);
    this.weights.push({
      name,
      dims: [...dims],
      read: () => scope(() => t.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray()) as Float32Array,
    });
    return name;
  }

  /** An int64 constant (a shape or axes), inline. */
  int64(values: number[], hint: string, dims: number[] = [values.length]): string {
    const name = this.fresh(hint);
    const raw = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
    this.constants.push({ name, dims, data_type: DataType.INT64, raw_data: raw });
    return name;
  }

  /** A float32 constant, inline (a scalar by default). */
  float(values: number[], hint: string, dims: number[] = []): string {
    const name = this.fresh(hint);
    this.constants.push({ name, dims, data_type: DataType.FLOAT, raw_data: new Uint8Array(new Float32Array(values).buffer) });
    return name;
  }

  // ------------------------------------------------------------ ops whose form depends on the opset

  /**
   * ReduceMean/ReduceMax/ReduceSum/ReduceSumSquare over `axes`: the axes are an attribute up to
   * opset 17 (ReduceSum: 12) and an input from opset 18 (ReduceSum: 13).
   */
  reduce(op: 'ReduceMean' | 'ReduceMax' | 'ReduceSum' | 'ReduceSumSquare', x: string, axes: number[], at: string, keepdims = true): string {
    const axesAsInput = this.opset >= (op === 'ReduceSum' ? 13 : 18);
    if (axesAsInput) return this.node(op, [x, this.int64(axes, `${at}/axes`)], at, { keepdims: { int: keepdims ? 1 : 0 } });
    return this.node(op, [x], at, { axes: { ints: axes }, keepdims: { int: keepdims ? 1 : 0 } });
  }

  /** x · wᵀ (+ b): Gemm with transB; below opset 11 Gemm needs its C input, so a zero bias stands in. */
  gemm(x: string, w: string, b: string | null, outFeatures: number, at: string): string {
    const c = b ?? (this.opset < 11 ? this.float(new Array<number>(outFeatures).fill(0), `${at}/zero_bias`, [outFeatures]) : null);
    return this.node('Gemm', c === null ? [x, w] : [x, w, c], at, { transB: { int: 1 } });
  }

  /** Reshape to `shape` (one entry may be −1: the batch). */
  reshape(x: string, shape: number[], at: string): string {
    return this.node('Reshape', [x, this.int64(shape, `${at}/shape`)], at);
  }
}

/** The IR version that goes with an opset (ONNX's versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}
