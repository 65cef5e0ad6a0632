/** The base class and kinds of the attention modules (ESCA, ECA, SE, CBAM, BAM, SK, SGE). */
import type { Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';

import type { AttentionKind } from './kinds.js';
import { checkInt } from '../../check.js';

export { ATTENTION_KINDS, type AttentionKind } from './kinds.js';

/** An attention module on `channels` channels: [N, C, H, W] → [N, C, H, W]. */
export abstract class Attention extends Module {
  abstract readonly kind: Exclude<AttentionKind, 'none'>;

  constructor(readonly channels: number) {
    super();
    checkInt(`${new.target.name}: channels`, channels, 1);
  }

  /**
   * True when a backbone's Kaiming init loop must leave this module's layers at their own
   * initialisation (ESCA/ECA: PyTorch's default init of their convs; docs/decisions/models.md).
   */
  get excludeFromBackboneInit(): boolean {
    return false;
  }

  /** Called by a backbone after its init loop (e.g. CBAM zeroes its spatial-gate BN scale). */
  afterBackboneInit(): void {}

  /** Throws a RangeError naming the module unless `x` is [N, channels, H, W]. */
  protected check(shape: number[]): void {
    if (shape.length !== 4 || shape[1] !== this.channels) {
      throw new RangeError(`${this.constructor.name}(${this.channels}): expected input [N, ${this.channels}, H, W], got [${shape.join(', ')}]`);
    }
  }

  abstract override forward(x: Tensor): Tensor;
}
