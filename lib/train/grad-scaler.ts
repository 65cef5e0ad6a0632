/**
 * Dynamic loss scaling for float16 training (PyTorch's `torch.cuda.amp.GradScaler` rule): the
 * loss is multiplied by `scale` before backward so that small float16 gradients do not flush to
 * zero; before the optimizer step the gradients are divided by it again. A step whose gradients
 * overflowed (inf/NaN) is skipped and the scale halved; after `growthInterval` good steps in a
 * row it doubles. Disabled (fp32, bf16), every method is the identity and every step is taken.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkInt, checkNumber } from '../check.js';

/** Options of {@link GradScaler}. */
export interface GradScalerOptions {
  /** Default true; false: no scaling, no overflow check. */
  enabled?: boolean;
  /** The starting scale (default 65536 = 2¹⁶, PyTorch's). */
  initScale?: number;
  /** Good steps in a row before the scale doubles (default 2000, PyTorch's). */
  growthInterval?: number;
}

/** What a checkpoint keeps of a scaler. */
export interface GradScalerState {
  scale: number;
  goodSteps: number;
}

/** Something that steps parameters from their gradients (the SGD optimizer). */
export interface Steppable {
  step(): void;
}

/** Dynamic loss scaling for float16 training (see the file comment). */
export class GradScaler {
  readonly enabled: boolean;
  readonly growthInterval: number;
  #scale: number;
  #goodSteps = 0;

  constructor(options: GradScalerOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.growthInterval = checkInt('GradScaler: growthInterval', options.growthInterval ?? 2000, 1);
    this.#scale = this.enabled ? checkNumber('GradScaler: initScale', options.initScale ?? 65536, { above: 0 }) : 1;
  }

  /** The current scale (1 when disabled). */
  get scale(): number {
    return this.#scale;
  }

  /** The loss to call `backward()` on: `loss · scale` (the loss itself when disabled). */
  scaleLoss(loss: Tensor): Tensor {
    return this.enabled ? loss.mul(this.#scale) : loss;
  }

  /**
   * Unscales the gradients of `params` in place, steps `optimizer` unless some gradient overflowed,
   * and updates the scale. Returns whether the step was taken.
   */
  step(optimizer: Steppable, params: Tensor[]): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const overflow = native.unscaleGrads(
      params.map((p) => p.handle),
      1 / this.#scale,
    );
    if (overflow) {
      this.#scale /= 2;
      this.#goodSteps = 0;
      return false;
    }
    optimizer.step();
    if (++this.#goodSteps >= this.growthInterval) {
      this.#scale *= 2;
      this.#goodSteps = 0;
    }
    return true;
  }

  stateDict(): GradScalerState {
    return { scale: this.#scale, goodSteps: this.#goodSteps };
  }

  loadStateDict(s: GradScalerState): void {
    if (!this.enabled) return;
    checkNumber('GradScaler.loadStateDict: scale', s.scale, { above: 0 });
    this.#scale = s.scale;
    this.#goodSteps = s.goodSteps;
  }
}
