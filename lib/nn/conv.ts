/** Convolution layers (torch.nn.Conv1d / Conv2d), with PyTorch's default initialisation. */
import { empty, functional as F, type Tensor } from '../tensor/index.js';
import { defaultLayerInit_ } from './layer-init.js';
import { Module } from './module.js';
import { checkInt } from '../check.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  /** Learnable bias (default true, as PyTorch). */
  bias?: boolean;
}

function checkChannels(cls: string, inC: number, outC: number, groups: number): void {
  for (const [n, v] of [['inChannels', inC], ['outChannels', outC], ['groups', groups]] as const) {
    checkInt(`${cls}: ${n}`, v, 1);
  }
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new RangeError(`${cls}: inChannels (${inC}) and outChannels (${outC}) must be divisible by groups (${groups})`);
  }
}

/** Output size of a convolution or pooling window along one dimension. */
export function convOutSize(size: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** 2-d convolution over [N, C, H, W]; weight [out, in/groups, kh, kw]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null = null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    o: Conv2dOptions = {},
  ) {
    super();
    this.groups = o.groups ?? 1;
    checkChannels('Conv2d', inChannels, outChannels, this.groups);
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels / this.groups, ...this.kernelSize]));
    if (o.bias ?? true) this.bias = this.registerParameter('bias', empty([outChannels]));
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override traceShape(input: number[]): number[] {
    if (input.length !== 4 || input[1] !== this.inChannels) {
      throw new RangeError(`Conv2d: expected input [N, ${this.inChannels}, H, W], got [${input.join(', ')}]`);
    }
    const h = convOutSize(input[2]!, this.kernelSize[0], this.stride[0], this.padding[0], this.dilation[0]);
    const w = convOutSize(input[3]!, this.kernelSize[1], this.stride[1], this.padding[1], this.dilation[1]);
    return [input[0]!, this.outChannels, h, w];
  }

  override macs(_input: number[], output: number[]): number {
    const outNumel = output.reduce((a, b) => a * b, 1);
    return outNumel * (this.inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel=${this.kernelSize.join('x')}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${this.stride.join('x')}`);
    if (this.padding.some((s) => s !== 0)) parts.push(`padding=${this.padding.join('x')}`);
    if (this.dilation.some((s) => s !== 1)) parts.push(`dilation=${this.dilation.join('x')}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** Options of {@link Conv1d}. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  /** Learnable bias (default true, as PyTorch). */
  bias?: boolean;
}

/** 1-d convolution over [N, C, L]; weight [out, in/groups, k]. */
export class Conv1d extends Module {
  weight: Tensor;
  bias: Tensor | null = null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    o: Conv1dOptions = {},
  ) {
    super();
    this.groups = o.groups ?? 1;
    checkChannels('Conv1d', inChannels, outChannels, this.groups);
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels / this.groups, kernelSize]));
    if (o.bias ?? true) this.bias = this.registerParameter('bias', empty([outChannels]));
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override traceShape(input: number[]): number[] {
    if (input.length !== 3 || input[1] !== this.inChannels) {
      throw new RangeError(`Conv1d: expected input [N, ${this.inChannels}, L], got [${input.join(', ')}]`);
    }
    return [input[0]!, this.outChannels, convOutSize(input[2]!, this.kernelSize, this.stride, this.padding, this.dilation)];
  }

  override macs(_input: number[], output: number[]): number {
    return output.reduce((a, b) => a * b, 1) * (this.inChannels / this.groups) * this.kernelSize;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=${this.kernelSize}, padding=${this.padding}${this.bias === null ? ', bias=false' : ''}`;
  }
}
