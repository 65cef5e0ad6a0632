/**
 * SK, selective kernel (Li et al. 2019) as a stride-1 C → C plug-in, M = 2 branches,
 * G = 32 groups, r = 16, L = 32:
 *   U_m = ReLU(BN(conv3×3(C→C, groups 32, dilation 1+m, padding 1+m)(x)))   (m = 1 is the "5×5" branch)
 *   z = ReLU(BN(conv1×1(C→d)(GAP(U_0 + U_1)))), d = max(C/16, 32)
 *   (a_0, a_1) = softmax over m of conv1×1(d→C)_m(z);  out = a_0·U_0 + a_1·U_1.
 * No biases. Names (no reference for the plug-in; chosen after pppLang/SKNet's layout):
 * `convs.{0,1}.0.weight` (conv), `convs.{0,1}.1.*` (BN), `fc.0.weight`, `fc.1.*`, `fcs.{0,1}.weight`.
 * Params 9C²/16 + 4C + 3·C·d + 2d.
 */
import { functional as F, scope, stack, type Tensor } from '../../tensor/index.js';
import { ReLU } from '../activation.js';
import { BatchNorm2d } from '../batchnorm.js';
import { ModuleList, Sequential } from '../container.js';
import { Conv2d } from '../conv.js';
import type { Tracer } from '../module.js';
import { Attention } from './base.js';

/** Selective kernel attention: branches of different receptive fields mixed by channel attention. */
export class SK extends Attention {
  readonly kind = 'sk' as const;
  convs: ModuleList<Sequential>;
  fc: Sequential;
  fcs: ModuleList<Conv2d>;
  readonly d: number;

  constructor(channels: number, readonly branches = 2, readonly groups = 32, readonly reduction = 16, readonly minDim = 32) {
    super(channels);
    if (channels % groups !== 0) throw new RangeError(`SK: channels (${channels}) must be divisible by groups (${groups})`);
    this.d = Math.max(Math.trunc(channels / reduction), minDim);
    this.convs = this.registerModule('convs', new ModuleList<Sequential>());
    for (let m = 0; m < branches; m++) {
      this.convs.append(
        new Sequential(
          new Conv2d(channels, channels, 3, { padding: 1 + m, dilation: 1 + m, groups, bias: false }),
          new BatchNorm2d(channels),
          new ReLU(),
        ),
      );
    }
    this.fc = this.registerModule('fc', new Sequential(new Conv2d(channels, this.d, 1, { bias: false }), new BatchNorm2d(this.d), new ReLU()));
    this.fcs = this.registerModule('fcs', new ModuleList<Conv2d>());
    for (let m = 0; m < branches; m++) this.fcs.append(new Conv2d(this.d, channels, 1, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    this.check(x.shape);
    return scope(() => {
      const u = [...this.convs].map((c) => c.forward(x));
      let sum = u[0]!;
      for (let m = 1; m < u.length; m++) sum = sum.add(u[m]!);
      const z = this.fc.forward(sum.mean([2, 3], true));
      const logits = stack([...this.fcs].map((f) => f.forward(z)), 0); // [M, N, C, 1, 1]
      const a = F.softmax(logits, 0);
      let out = u[0]!.mul(a.select(0, 0));
      for (let m = 1; m < u.length; m++) out = out.add(u[m]!.mul(a.select(0, m)));
      return out;
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    this.check(input);
    for (const c of this.convs) tracer.run(c, input);
    const z = tracer.run(this.fc, [input[0]!, this.channels, 1, 1]);
    for (const f of this.fcs) tracer.run(f, z);
    return input.slice();
  }
}
