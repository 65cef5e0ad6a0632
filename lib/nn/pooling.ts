/** Pooling layers (torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d). */
import { functional as F, scope, type Tensor } from '../tensor/index.js';
import { convOutSize } from './conv.js';
import { Module } from './module.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

function poolShape(cls: string, input: number[], k: [number, number], s: [number, number], p: [number, number]): number[] {
  if (input.length !== 4) throw new RangeError(`${cls}: expected input [N, C, H, W], got [${input.join(', ')}]`);
  return [input[0]!, input[1]!, convOutSize(input[2]!, k[0], s[0], p[0]), convOutSize(input[3]!, k[1], s[1], p[1])];
}

/**
 * Max over k×k windows (padding with −∞). `MaxPool2d(1, { stride: 2 })` is parameter-free subsampling.
 * `ceilMode` keeps a last, partial window (output ⌈(n + 2p − k)/s⌉ + 1, as PyTorch and Caffe).
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  constructor(kernelSize: Pair, o: { stride?: Pair; padding?: Pair; ceilMode?: boolean } = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? kernelSize);
    this.padding = pair(o.padding ?? 0);
    this.ceilMode = o.ceilMode ?? false;
  }
  forward(x: Tensor): Tensor {
    if (this.kernelSize[0] === 1 && this.kernelSize[1] === 1 && this.padding[0] === 0 && this.padding[1] === 0) {
      // a 1×1 window is subsampling: a strided view (the identity when the stride is 1)
      if (this.stride[0] === 1 && this.stride[1] === 1) return x;
      return scope(() => x.slice(2, 0, undefined, this.stride[0]).slice(3, 0, undefined, this.stride[1]));
    }
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode });
  }
  override traceShape(input: number[]): number[] {
    if (!this.ceilMode) return poolShape('MaxPool2d', input, this.kernelSize, this.stride, this.padding);
    if (input.length !== 4) throw new RangeError(`MaxPool2d: expected input [N, C, H, W], got [${input.join(', ')}]`);
    const ceil = (n: number, i: 0 | 1): number => {
      const [k, s, p] = [this.kernelSize[i], this.stride[i], this.padding[i]];
      let out = Math.ceil((n + 2 * p - k) / s) + 1;
      if ((out - 1) * s >= n + p) out--; // PyTorch: the last window must start inside the input or left padding
      return out;
    };
    return [input[0]!, input[1]!, ceil(input[2]!, 0), ceil(input[3]!, 1)];
  }
  override extraRepr(): string {
    return `kernel=${this.kernelSize.join('x')}, stride=${this.stride.join('x')}, padding=${this.padding.join('x')}${this.ceilMode ? ', ceil' : ''}`;
  }
}

/** Mean over k×k windows (padding counted as zeros by default, as PyTorch). */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly countIncludePad: boolean;
  constructor(kernelSize: Pair, o: { stride?: Pair; padding?: Pair; countIncludePad?: boolean } = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? kernelSize);
    this.padding = pair(o.padding ?? 0);
    this.countIncludePad = o.countIncludePad ?? true;
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }
  override traceShape(input: number[]): number[] {
    return poolShape('AvgPool2d', input, this.kernelSize, this.stride, this.padding);
  }
  override extraRepr(): string {
    return `kernel=${this.kernelSize.join('x')}, stride=${this.stride.join('x')}, padding=${this.padding.join('x')}`;
  }
}

/** Average pooling to a fixed output size (1 = global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];
  constructor(outputSize: Pair) {
    super();
    this.outputSize = pair(outputSize);
  }
  forward(x: Tensor): Tensor {
    if (this.outputSize[0] === 1 && this.outputSize[1] === 1) return x.mean([2, 3], true);
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override traceShape(input: number[]): number[] {
    if (input.length !== 4) throw new RangeError(`AdaptiveAvgPool2d: expected input [N, C, H, W], got [${input.join(', ')}]`);
    return [input[0]!, input[1]!, ...this.outputSize];
  }
}
