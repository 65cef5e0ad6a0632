/**
 * ONNX emitters of the layers (lib/nn): eval-mode semantics — BatchNorm with its running
 * statistics, Dropout as the identity. BatchNorm stays a BatchNormalization node (not folded into
 * the convolution before it): docs/decisions/onnx.md.
 */
import { PReLU, ReLU, Sigmoid, Identity } from '../nn/activation.js';
import { BatchNorm } from '../nn/batchnorm.js';
import { Sequential } from '../nn/container.js';
import { Conv1d, Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import type { Module, Tracer } from '../nn/module.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../nn/pooling.js';
import { at, type EmitContext, type EmitterEntry, type Value } from './emit.js';

const noTracer: Tracer = {
  run() {
    throw new Error('ONNX export: a leaf layer traced a child');
  },
};

/** The output shape of a leaf layer on `x` (its own traceShape). */
export function shapeAfter(m: Module<any, any>, x: Value): number[] {
  return m.traceShape(x.shape, noTracer);
}

function conv2d(m: Conv2d, x: Value, cx: EmitContext): Value {
  const w = cx.tensor(m, m.weight, 'weight');
  const inputs = [x.name, w];
  if (m.bias) inputs.push(cx.tensor(m, m.bias, 'bias'));
  const [ph, pw] = m.padding;
  const name = cx.g.node('Conv', inputs, at(cx, m), {
    kernel_shape: { ints: [...m.kernelSize] },
    strides: { ints: [...m.stride] },
    pads: { ints: [ph, pw, ph, pw] },
    dilations: { ints: [...m.dilation] },
    group: { int: m.groups },
  });
  return { name, shape: shapeAfter(m, x) };
}

function conv1d(m: Conv1d, x: Value, cx: EmitContext): Value {
  const inputs = [x.name, cx.tensor(m, m.weight, 'weight')];
  if (m.bias) inputs.push(cx.tensor(m, m.bias, 'bias'));
  const name = cx.g.node('Conv', inputs, at(cx, m), {
    kernel_shape: { ints: [m.kernelSize] },
    strides: { ints: [m.stride] },
    pads: { ints: [m.padding, m.padding] },
    dilations: { ints: [m.dilation] },
    group: { int: m.groups },
  });
  return { name, shape: shapeAfter(m, x) };
}

/** BatchNormalization with the running statistics; a non-affine BatchNorm gets scale 1 and shift 0. */
function batchNorm(m: BatchNorm, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const c = m.numFeatures;
  const scale = m.weight ? cx.tensor(m, m.weight, 'weight') : cx.g.float(new Array<number>(c).fill(1), `${where}/unit_scale`, [c]);
  const shift = m.bias ? cx.tensor(m, m.bias, 'bias') : cx.g.float(new Array<number>(c).fill(0), `${where}/zero_shift`, [c]);
  const mean = cx.tensor(m, m.running_mean, 'running_mean');
  const variance = cx.tensor(m, m.running_var, 'running_var');
  const name = cx.g.node('BatchNormalization', [x.name, scale, shift, mean, variance], where, { epsilon: { float: m.eps } });
  return { name, shape: shapeAfter(m, x) };
}

/** PRelu: the slope [C] is stored as [C, 1, …] so that it broadcasts over the channel axis. */
function prelu(m: PReLU, x: Value, cx: EmitContext): Value {
  const dims = m.numChannels === 1 ? [1] : [m.numChannels, ...new Array<number>(x.shape.length - 2).fill(1)];
  const name = cx.g.node('PRelu', [x.name, cx.tensor(m, m.weight, 'weight', dims)], at(cx, m));
  return { name, shape: shapeAfter(m, x) };
}

const unary =
  (op: string) =>
  (m: Module<any, any>, x: Value, cx: EmitContext): Value => ({ name: cx.g.node(op, [x.name], at(cx, m)), shape: x.shape.slice() });

const identity = (_m: Module<any, any>, x: Value): Value => x;

function flatten(m: Flatten, x: Value, cx: EmitContext): Value {
  const shape = shapeAfter(m, x);
  const n = x.shape.length;
  const end = m.endDim < 0 ? m.endDim + n : m.endDim;
  if (m.startDim === 1 && end === n - 1) return { name: cx.g.node('Flatten', [x.name], at(cx, m), { axis: { int: 1 } }), shape };
  return { name: cx.g.reshape(x.name, [-1, ...shape.slice(1)], at(cx, m)), shape };
}

function linear(m: Linear, x: Value, cx: EmitContext): Value {
  if (x.shape.length !== 2) throw new Error(`ONNX export: Linear at '${cx.path(m)}' on a ${x.shape.length}-d input (only [N, features] exports)`);
  const b = m.bias ? cx.tensor(m, m.bias, 'bias') : null;
  const name = cx.g.gemm(x.name, cx.tensor(m, m.weight, 'weight'), b, m.outFeatures, at(cx, m));
  return { name, shape: shapeAfter(m, x) };
}

function maxPool(m: MaxPool2d, x: Value, cx: EmitContext): Value {
  const shape = shapeAfter(m, x);
  const [kh, kw] = m.kernelSize;
  const [ph, pw] = m.padding;
  // MaxPool2d(1, stride 1) is the identity (the IR shortcut of a stride-1 block)
  if (kh === 1 && kw === 1 && ph === 0 && pw === 0 && m.stride[0] === 1 && m.stride[1] === 1) return x;
  if (m.ceilMode && cx.g.opset < 10) throw new Error(`ONNX export: MaxPool2d at '${cx.path(m)}' uses ceil mode, which ONNX has from opset 10 (asked: ${cx.g.opset})`);
  const attrs = { kernel_shape: { ints: [kh, kw] }, strides: { ints: [...m.stride] }, pads: { ints: [ph, pw, ph, pw] } };
  const name = cx.g.node('MaxPool', [x.name], at(cx, m), m.ceilMode ? { ...attrs, ceil_mode: { int: 1 } } : attrs);
  return { name, shape };
}

function avgPool(m: AvgPool2d, x: Value, cx: EmitContext): Value {
  const [ph, pw] = m.padding;
  const name = cx.g.node('AveragePool', [x.name], at(cx, m), {
    kernel_shape: { ints: [...m.kernelSize] },
    strides: { ints: [...m.stride] },
    pads: { ints: [ph, pw, ph, pw] },
    count_include_pad: { int: m.countIncludePad ? 1 : 0 },
  });
  return { name, shape: shapeAfter(m, x) };
}

function adaptiveAvgPool(m: AdaptiveAvgPool2d, x: Value, cx: EmitContext): Value {
  if (m.outputSize[0] !== 1 || m.outputSize[1] !== 1) {
    throw new Error(`ONNX export: AdaptiveAvgPool2d at '${cx.path(m)}' to ${m.outputSize.join('×')} (only to 1×1, GlobalAveragePool, exports)`);
  }
  return { name: cx.g.node('GlobalAveragePool', [x.name], at(cx, m)), shape: shapeAfter(m, x) };
}

function sequential(m: Sequential, x: Value, cx: EmitContext): Value {
  let y = x;
  for (const layer of m) y = cx.emit(layer, y);
  return y;
}

/** The emitters of lib/nn's layers and containers. */
export const LAYER_EMITTERS: readonly EmitterEntry[] = [
  [Conv2d, conv2d],
  [Conv1d, conv1d],
  [BatchNorm, batchNorm],
  [PReLU, prelu],
  [ReLU, unary('Relu')],
  [Sigmoid, unary('Sigmoid')],
  [Identity, identity],
  [Dropout, identity],
  [Flatten, flatten],
  [Linear, linear],
  [MaxPool2d, maxPool],
  [AvgPool2d, avgPool],
  [AdaptiveAvgPool2d, adaptiveAvgPool],
  [Sequential, sequential],
];
