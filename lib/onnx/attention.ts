/**
 * ONNX emitters of the attention modules (lib/nn/attention/), in standard operators only (the
 * default domain, no custom ops), each the module's forward op for op:
 * - ECA: GlobalAveragePool → Reshape [N, 1, C] → Conv (1-d, k taps) → Sigmoid → Reshape [N, C, 1, 1] → Mul;
 * - ESCA: ECA, then AveragePool 3×3 (zero padding counted) and MaxPool 3×3 → Concat → Conv 2C → 1
 *   → Sigmoid → Mul;
 * - SE, CBAM, BAM: pooling, 1×1 convs or Gemm, BatchNormalization, Sigmoid, Mul;
 * - SK: the softmax over the branches written out (Max, Sub, Exp, Sum, Div), which means the same
 *   in every opset (Softmax's axis semantics changed in opset 13);
 * - SGE: Reshape into groups, ReduceSum/ReduceMean/ReduceSumSquare, Sqrt, Sigmoid.
 */
import { BAM, BAMChannelGate, BAMSpatialGate } from '../nn/attention/bam.js';
import { CBAM, CBAMChannelGate, CBAMSpatialConv, CBAMSpatialGate } from '../nn/attention/cbam.js';
import { ECA } from '../nn/attention/eca.js';
import { ESCA, SpatialAttention } from '../nn/attention/esca.js';
import { SE } from '../nn/attention/se.js';
import { SGE } from '../nn/attention/sge.js';
import { SK } from '../nn/attention/sk.js';
import { at, type EmitContext, type EmitterEntry, type Value } from './emit.js';

const mul = (cx: EmitContext, a: Value, b: Value, where: string): Value => ({ name: cx.g.node('Mul', [a.name, b.name], where), shape: a.shape.slice() });
const sigmoid = (cx: EmitContext, a: Value, where: string): Value => ({ name: cx.g.node('Sigmoid', [a.name], where), shape: a.shape.slice() });
const pooled = (x: Value): number[] => [x.shape[0]!, x.shape[1]!, 1, 1];

/** x · σ(conv1d_k(GAP(x))) with ECA's one shared kernel. */
function eca(m: ECA, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const c = m.channels;
  const gap = cx.g.node('GlobalAveragePool', [x.name], where);
  const seq = { name: cx.g.reshape(gap, [-1, 1, c], where), shape: [x.shape[0]!, 1, c] };
  const z = cx.emit(m.conv, seq);
  const gate = { name: cx.g.reshape(sigmoid(cx, z, where).name, [-1, c, 1, 1], where), shape: pooled(x) };
  return mul(cx, x, gate, where);
}

/** ESCA's spatial map σ(conv3×3([avgpool3(y), maxpool3(y)])) [N, 1, H, W]. */
function spatialAttention(m: SpatialAttention, y: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const window = { kernel_shape: { ints: [3, 3] }, strides: { ints: [1, 1] }, pads: { ints: [1, 1, 1, 1] } };
  const avg = cx.g.node('AveragePool', [y.name], where, { ...window, count_include_pad: { int: 1 } });
  const max = cx.g.node('MaxPool', [y.name], where, window);
  const both = { name: cx.g.node('Concat', [avg, max], where, { axis: { int: 1 } }), shape: [y.shape[0]!, 2 * m.channels, y.shape[2]!, y.shape[3]!] };
  return sigmoid(cx, cx.emit(m.conv, both), where);
}

/** ESCA(x) = y · SA(y), y = ECA(x). */
function esca(m: ESCA, x: Value, cx: EmitContext): Value {
  const y = cx.emit(m.ca, x);
  return mul(cx, y, cx.emit(m.sa, y), at(cx, m));
}

/** x · σ(fc2(ReLU(fc1(GAP(x))))). */
function se(m: SE, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const s = { name: cx.g.node('GlobalAveragePool', [x.name], where), shape: pooled(x) };
  const h = cx.emit(m.fc1, s);
  const e = cx.emit(m.fc2, { name: cx.g.node('Relu', [h.name], where), shape: h.shape });
  return mul(cx, x, sigmoid(cx, e, where), where);
}

/** x · σ(MLP(GAP(x)) + MLP(GMP(x))), the MLP's weights shared by both poolings. */
function cbamChannelGate(m: CBAMChannelGate, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const avg = cx.emit(m.mlp, { name: cx.g.node('GlobalAveragePool', [x.name], where), shape: pooled(x) });
  const max = cx.emit(m.mlp, { name: cx.g.node('GlobalMaxPool', [x.name], where), shape: pooled(x) });
  const sum = { name: cx.g.node('Add', [avg.name, max.name], where), shape: avg.shape };
  const gate = { name: cx.g.reshape(sigmoid(cx, sum, where).name, [-1, m.channels, 1, 1], where), shape: pooled(x) };
  return mul(cx, x, gate, where);
}

/** x · σ(BN(conv7×7([max_c(x), mean_c(x)]))). */
function cbamSpatialGate(m: CBAMSpatialGate, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const max = cx.g.reduce('ReduceMax', x.name, [1], where);
  const mean = cx.g.reduce('ReduceMean', x.name, [1], where);
  const both = { name: cx.g.node('Concat', [max, mean], where, { axis: { int: 1 } }), shape: [x.shape[0]!, 2, x.shape[2]!, x.shape[3]!] };
  return mul(cx, x, sigmoid(cx, cx.emit(m.spatial, both), where), where);
}

function cbamSpatialConv(m: CBAMSpatialConv, x: Value, cx: EmitContext): Value {
  return cx.emit(m.bn, cx.emit(m.conv, x));
}

function cbam(m: CBAM, x: Value, cx: EmitContext): Value {
  return cx.emit(m.SpatialGate, cx.emit(m.ChannelGate, x));
}

/** Mc(x) [N, C, 1, 1]: the gate_c MLP on GAP(x). */
function bamChannelGate(m: BAMChannelGate, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const mc = cx.emit(m.gate_c, { name: cx.g.node('GlobalAveragePool', [x.name], where), shape: pooled(x) });
  return { name: cx.g.reshape(mc.name, [-1, m.channels, 1, 1], where), shape: pooled(x) };
}

function bamSpatialGate(m: BAMSpatialGate, x: Value, cx: EmitContext): Value {
  return cx.emit(m.gate_s, x);
}

/** x · (1 + σ(Mc(x) · Ms(x))). */
function bam(m: BAM, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const mc = cx.emit(m.channel_att, x);
  const ms = cx.emit(m.spatial_att, x);
  const prod = { name: cx.g.node('Mul', [mc.name, ms.name], where), shape: x.shape.slice() };
  const one = cx.g.float([1], `${where}/one`);
  const att = { name: cx.g.node('Add', [sigmoid(cx, prod, where).name, one], where), shape: x.shape.slice() };
  return mul(cx, x, att, where);
}

/** Σ_m a_m·U_m with (a_m) = softmax over the branches of fcs_m(fc(GAP(Σ_m U_m))). */
function sk(m: SK, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const u = [...m.convs].map((branch) => cx.emit(branch, x));
  const add = (a: string, b: string): string => cx.g.node('Add', [a, b], where);
  const sum = u.slice(1).reduce((acc, v) => add(acc, v.name), u[0]!.name);
  const z = cx.emit(m.fc, { name: cx.g.node('GlobalAveragePool', [sum], where), shape: pooled(x) });
  const logits = [...m.fcs].map((f) => cx.emit(f, z).name);
  const max = cx.g.node('Max', logits, where);
  const exps = logits.map((l) => cx.g.node('Exp', [cx.g.node('Sub', [l, max], where)], where));
  const total = cx.g.node('Sum', exps, where);
  const weighted = u.map((v, i) => cx.g.node('Mul', [v.name, cx.g.node('Div', [exps[i]!, total], where)], where));
  return { name: weighted.slice(1).reduce(add, weighted[0]!), shape: x.shape.slice() };
}

/** Per group g of C/G channels: x_g · σ(γ_g·norm(Σ_c x_g · GAP(x_g)) + β_g), norm over H·W with the unbiased std. */
function sge(m: SGE, x: Value, cx: EmitContext): Value {
  const where = at(cx, m);
  const [, c, h, w] = x.shape as [number, number, number, number];
  const g = m.groups;
  const xg = cx.g.reshape(x.name, [-1, c / g, h, w], where);
  const gap = cx.g.node('GlobalAveragePool', [xg], where);
  const xn = cx.g.reduce('ReduceSum', cx.g.node('Mul', [xg, gap], where), [1], where);
  const t = cx.g.reshape(xn, [-1, h * w], where);
  const centred = cx.g.node('Sub', [t, cx.g.reduce('ReduceMean', t, [1], where)], where);
  const variance = cx.g.node('Div', [cx.g.reduce('ReduceSumSquare', centred, [1], where), cx.g.float([h * w - 1], `${where}/n_minus_1`)], where);
  const std = cx.g.node('Add', [cx.g.node('Sqrt', [variance], where), cx.g.float([1e-5], `${where}/eps`)], where);
  const norm = cx.g.reshape(cx.g.node('Div', [centred, std], where), [-1, g, h, w], where);
  const affine = cx.g.node('Add', [cx.g.node('Mul', [norm, cx.tensor(m, m.weight, 'weight')], where), cx.tensor(m, m.bias, 'bias')], where);
  const gate = cx.g.node('Sigmoid', [cx.g.reshape(affine, [-1, 1, h, w], where)], where);
  return { name: cx.g.reshape(cx.g.node('Mul', [xg, gate], where), [-1, c, h, w], where), shape: x.shape.slice() };
}

/** The emitters of the attention modules and their parts. */
export const ATTENTION_EMITTERS: readonly EmitterEntry[] = [
  [ECA, eca],
  [SpatialAttention, spatialAttention],
  [ESCA, esca],
  [SE, se],
  [CBAMChannelGate, cbamChannelGate],
  [CBAMSpatialGate, cbamSpatialGate],
  [CBAMSpatialConv, cbamSpatialConv],
  [CBAM, cbam],
  [BAMChannelGate, bamChannelGate],
  [BAMSpatialGate, bamSpatialGate],
  [BAM, bam],
  [SK, sk],
  [SGE, sge],
];
