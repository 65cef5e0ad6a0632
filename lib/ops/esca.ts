/**
 * ESCA and ECA as functions of tensors (the modules in lib/nn/attention/ hold the weights).
 *
 *   ECA(x)  = x · σ(conv1d_k(GAP(x)))                     (channel attention, weight [1,1,k])
 *   SA(y)   = σ(conv3x3([avgpool3(y), maxpool3(y)]))      (spatial attention, weight [1,2C,3,3])
 *   ESCA(x) = y · SA(y),  y = ECA(x)
 *
 * `esca`/`eca` are the ops the models call: native fused kernels (native/ops/esca.cc) with their own
 * hand-written backward, on CPU (float32/float64; float16/bfloat16 computed in float32) and CUDA
 * (float32/float16/bfloat16). `escaComposed`/`ecaComposed` are the same math composed of ATen ops:
 * the reference the native ops are tested and benchmarked against.
 */
import { native } from '../native.js';
import { cat, functional as F, scope, type Tensor } from '../tensor/index.js';
import { handleOf, wrap } from '../tensor/tensor.js';

function checkEca(x: Tensor, caWeight: Tensor, fn: string): void {
  if (x.ndim !== 4) throw new RangeError(`${fn}: input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  const w = caWeight.shape;
  if (w.length !== 3 || w[0] !== 1 || w[1] !== 1 || w[2]! % 2 !== 1) {
    throw new RangeError(`${fn}: channel-attention weight must be [1, 1, k] with odd k, got [${w.join(', ')}]`);
  }
}

/**
 * Mixed precision: a float16/bfloat16 input (as autocast makes the convolution before the block)
 * with float32 weights runs with the weights cast to the input's dtype, as autocast casts a
 * convolution's weight; the cast is differentiable, so gradients reach the float32 weights.
 * Returns null when the weight needs no cast. Other dtype mismatches reach the native check.
 */
function castForInput(x: Tensor, w: Tensor): Tensor | null {
  const low = x.dtype === 'float16' || x.dtype === 'bfloat16';
  return low && w.dtype === 'float32' ? w.to(x.dtype) : null;
}

/**
 * ECA's channel gate σ(conv1d_k(GAP(x))) [N, C] of `x` [N, C, H, W], by composition of ATen ops:
 * the reference's half, and the gate itself for inspection (a float32 weight is cast to a
 * float16/bfloat16 input's dtype, as in {@link eca}).
 */
export function channelAttentionGate(x: Tensor, caWeight: Tensor): Tensor {
  const [n, c] = x.shape as [number, number, number, number];
  const k = caWeight.size(2);
  return scope(() => F.conv1d(x.mean([2, 3]).view(n, 1, c), castForInput(x, caWeight) ?? caWeight, null, { padding: (k - 1) / 2 }).sigmoid().view(n, c));
}

/** ECA by composition of ATen ops (reference). */
export function ecaComposed(x: Tensor, caWeight: Tensor): Tensor {
  checkEca(x, caWeight, 'eca');
  const [n, c] = x.shape as [number, number, number, number];
  return scope(() => x.mul(channelAttentionGate(x, caWeight).view(n, c, 1, 1)));
}

function checkEsca(x: Tensor, caWeight: Tensor, saWeight: Tensor): void {
  checkEca(x, caWeight, 'esca');
  const c = x.size(1);
  const s = saWeight.shape;
  if (s.length !== 4 || s[0] !== 1 || s[1] !== 2 * c || s[2] !== 3 || s[3] !== 3) {
    throw new RangeError(`esca: spatial-attention weight must be [1, ${2 * c}, 3, 3], got [${s.join(', ')}]`);
  }
}

/**
 * ESCA's spatial attention map σ(conv3×3([avgpool3(y), maxpool3(y)])) [N, 1, H, W] of `y` (the ECA
 * output), by composition of ATen ops: the reference's half, and the map itself for inspection
 * (weights cast for a float16/bfloat16 `y` as in {@link esca}).
 */
export function spatialAttentionMap(y: Tensor, saWeight: Tensor): Tensor {
  return scope(() => {
    const avg = F.avgPool2d(y, 3, { stride: 1, padding: 1, countIncludePad: true });
    const max = F.maxPool2d(y, 3, { stride: 1, padding: 1 });
    return F.conv2d(cat([avg, max], 1), castForInput(y, saWeight) ?? saWeight, null, { padding: 1 }).sigmoid();
  });
}

/** ESCA by composition of ATen ops (reference). */
export function escaComposed(x: Tensor, caWeight: Tensor, saWeight: Tensor): Tensor {
  checkEsca(x, caWeight, saWeight);
  return scope(() => {
    const y = ecaComposed(x, caWeight);
    return y.mul(spatialAttentionMap(y, saWeight));
  });
}

/**
 * ECA attention (Wang et al. 2020), the op models call: `x · σ(conv1d_k(GAP(x)))`, fused native kernel.
 * @param x input [N, C, H, W] (any memory layout; channels_last runs the NHWC kernels, CPU and CUDA, with
 *   no conversion, and the output and the input gradient keep it)
 * @param caWeight channel-attention conv1d weight [1, 1, k], k odd, same dtype and device as x (float32
 *   weights with a float16/bfloat16 input are cast to the input's dtype, differentiably)
 * @returns a new tensor [N, C, H, W], differentiable in x and caWeight
 */
export function eca(x: Tensor, caWeight: Tensor): Tensor {
  const xh = handleOf(x, 'x');
  const wh = handleOf(caWeight, 'caWeight');
  checkEca(x, caWeight, 'eca');
  const wc = castForInput(x, caWeight);
  try {
    return wrap(native.eca(xh, wc ? wc.handle : wh));
  } finally {
    wc?.dispose();
  }
}

/**
 * ESCA attention (the paper's module), the op models call: `y · σ(conv3x3([avgpool3(y), maxpool3(y)]))` with
 * `y = eca(x)`, fused native kernel with its own backward.
 * @param x input [N, C, H, W] (any memory layout; channels_last runs the NHWC kernels, CPU and CUDA, with
 *   no conversion, and the output and the input gradient keep it)
 * @param caWeight channel-attention conv1d weight [1, 1, k], k odd
 * @param saWeight spatial-attention conv weight [1, 2C, 3, 3] (avg-pooled maps first, then max-pooled);
 *   float32 weights with a float16/bfloat16 input are cast to the input's dtype, differentiably
 * @returns a new tensor [N, C, H, W], differentiable in x, caWeight and saWeight
 */
export function esca(x: Tensor, caWeight: Tensor, saWeight: Tensor): Tensor {
  const xh = handleOf(x, 'x');
  const ch = handleOf(caWeight, 'caWeight');
  const sh = handleOf(saWeight, 'saWeight');
  checkEsca(x, caWeight, saWeight);
  const cc = castForInput(x, caWeight);
  const sc = castForInput(x, saWeight);
  try {
    return wrap(native.esca(xh, cc ? cc.handle : ch, sc ? sc.handle : sh));
  } finally {
    cc?.dispose();
    sc?.dispose();
  }
}
