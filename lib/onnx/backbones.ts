/**
 * ONNX emitters of the backbones and their blocks: the CurricularFace IR layout, MobileFaceNet and
 * insightface's iresnet layout (lib/models). Each follows its module's forward: residual branch +
 * shortcut for the IR blocks, expand → depthwise → project [→ attention] [+ x] for MobileFaceNet.
 */
import { IRBackbone, BottleneckIR } from '../models/ir.js';
import { ConvBlock, DepthWise, MobileFaceNet, ResidualStage } from '../models/mobilefacenet.js';
import { IBasicBlock, InsightfaceIResNet } from '../models/insightface-iresnet.js';
import { at, type EmitContext, type EmitterEntry, type Value } from './emit.js';

function add(cx: EmitContext, a: Value, b: Value, where: string): Value {
  if (a.shape.join() !== b.shape.join()) throw new Error(`ONNX export: '${where}' adds [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  return { name: cx.g.node('Add', [a.name, b.name], where), shape: a.shape.slice() };
}

/** res_layer(x) + shortcut_layer(x). */
function bottleneckIR(m: BottleneckIR, x: Value, cx: EmitContext): Value {
  return add(cx, cx.emit(m.res_layer, x), cx.emit(m.shortcut_layer, x), at(cx, m));
}

function irBackbone(m: IRBackbone, x: Value, cx: EmitContext): Value {
  return cx.emit(m.output_layer, cx.emit(m.body, cx.emit(m.input_layer, x)));
}

function convBlock(m: ConvBlock, x: Value, cx: EmitContext): Value {
  const y = cx.emit(m.bn, cx.emit(m.conv, x));
  return m.prelu ? cx.emit(m.prelu, y) : y;
}

function depthWise(m: DepthWise, x: Value, cx: EmitContext): Value {
  let y = cx.emit(m.project, cx.emit(m.conv_dw, cx.emit(m.conv, x)));
  if (m.attention) y = cx.emit(m.attention, y);
  return m.residual ? add(cx, y, x, at(cx, m)) : y;
}

function residualStage(m: ResidualStage, x: Value, cx: EmitContext): Value {
  return cx.emit(m.model, x);
}

/** The children in registration order, which is MobileFaceNet's forward order (conv1 … bn). */
function mobileFaceNet(m: MobileFaceNet, x: Value, cx: EmitContext): Value {
  let y = x;
  for (const child of m.children()) y = cx.emit(child, y);
  return y;
}

/** bn3(conv2(prelu(bn2(conv1(bn1(x)))))) + downsample(x) (or x). */
function iBasicBlock(m: IBasicBlock, x: Value, cx: EmitContext): Value {
  let y = x;
  for (const l of [m.bn1, m.conv1, m.bn2, m.prelu, m.conv2, m.bn3]) y = cx.emit(l, y);
  return add(cx, y, m.downsample ? cx.emit(m.downsample, x) : x, at(cx, m));
}

/** conv1 → bn1 → prelu → layers → bn2 → flatten → dropout → fc → features. */
function iresnet(m: InsightfaceIResNet, x: Value, cx: EmitContext): Value {
  let y = cx.emit(m.prelu, cx.emit(m.bn1, cx.emit(m.conv1, x)));
  for (const l of m.layers) y = cx.emit(l, y);
  y = cx.emit(m.bn2, y);
  const flat = { name: cx.g.node('Flatten', [y.name], at(cx, m), { axis: { int: 1 } }), shape: [y.shape[0]!, y.shape.slice(1).reduce((a, b) => a * b, 1)] };
  return cx.emit(m.features, cx.emit(m.fc, cx.emit(m.dropout, flat)));
}

/** The emitters of the backbones and their blocks. */
export const BACKBONE_EMITTERS: readonly EmitterEntry[] = [
  [BottleneckIR, bottleneckIR],
  [IRBackbone, irBackbone],
  [ConvBlock, convBlock],
  [DepthWise, depthWise],
  [ResidualStage, residualStage],
  [MobileFaceNet, mobileFaceNet],
  [IBasicBlock, iBasicBlock],
  [InsightfaceIResNet, iresnet],
];
