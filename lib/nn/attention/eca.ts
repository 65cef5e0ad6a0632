/**
 * ECA (Wang et al. 2020), the channel half of ESCA:
 * out = x · σ(conv1d_k(GAP(x))), one 1-D kernel of size k(C) shared by all channels, zero padding,
 * no bias. k(C) = t if t is odd else t + 1, t = int(|log2(C)/2 + 1/2|): 64 → 3, 128/256/512 → 5.
 * Params k, MACs C·k. Name `conv.weight` [1, 1, k]. Init: PyTorch's Conv1d default
 * U(−1/√k, 1/√k); backbone init loops leave it alone (CurricularFace's loop does not touch Conv1d either).
 */
import type { Tensor } from '../../tensor/index.js';
import { eca } from '../../ops/esca.js';
import { Conv1d } from '../conv.js';
import type { Tracer } from '../module.js';
import { Attention } from './base.js';
import { checkInt } from '../../check.js';

/** The ECA kernel size for C channels (γ = 2, b = 1). */
export function ecaKernelSize(channels: number, gamma = 2, b = 1): number {
  const t = Math.trunc(Math.abs(Math.log2(channels) / gamma + b / gamma));
  return t % 2 === 1 ? t : t + 1;
}

/** ECA, efficient channel attention: x · σ(conv1d_k(GAP(x))), k adapted to the channel count. */
export class ECA extends Attention {
  readonly kind = 'eca' as const;
  conv: Conv1d;

  constructor(channels: number, kernelSize = ecaKernelSize(channels)) {
    super(channels);
    if (checkInt('ECA: kernelSize', kernelSize, 1) % 2 === 0) throw new RangeError(`ECA: kernelSize must be odd, got ${kernelSize}`);
    this.conv = this.registerModule('conv', new Conv1d(1, 1, kernelSize, { padding: (kernelSize - 1) / 2, bias: false }));
  }

  override get excludeFromBackboneInit(): boolean {
    return true;
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    return eca(x, this.conv.weight);
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    tracer.run(this.conv, [input[0]!, 1, this.channels]);
    return input.slice();
  }
}
