/**
 * Learning-rate schedule of the paper's recipe (CurricularFace's train.py): multi-step decay set at the start of
 * each epoch, `lr = base × gamma^{#{milestones ≤ epoch}}` (0-based epochs), with an optional
 * linear warm-up over the first steps (off by default, as in the reference code; the paper is silent).
 */
import { intProblem, numberProblem } from '../check.js';

/** Schedule parameters. */
export interface ScheduleOptions {
  /** Base learning rate (0.1 in the paper). */
  lr: number;
  /** Epochs (0-based) at whose start the LR is multiplied by `gamma`; strictly increasing, each in [1, epochs). */
  milestones: number[];
  /** Total number of epochs. */
  epochs: number;
  /** Decay factor at each milestone (0.1). */
  gamma?: number;
  /** Linear warm-up over this many optimizer steps (0 = none). */
  warmupSteps?: number;
  /** LR factor at the first warm-up step (the ramp goes linearly from here to 1). Default 0. */
  warmupStartFactor?: number;
}

/**
 * The milestone rule (the one home of it: the schedule and the training config both use it): each
 * milestone an epoch in [1, epochs − 1], the list strictly increasing.
 */
export function milestoneProblems(milestones: readonly number[], epochs: number): string[] {
  const out: string[] = [];
  milestones.forEach((m, i) => {
    if (!Number.isSafeInteger(m) || m < 1 || m >= epochs) out.push(`milestones[${i}] must be an epoch in [1, ${epochs - 1}] (epochs = ${epochs}), got ${m}`);
    if (i > 0 && !(m > milestones[i - 1]!)) out.push(`milestones[${i}] must be greater than milestones[${i - 1}] (${milestones[i - 1]}), got ${m}`);
  });
  return out;
}

/** Returns every problem of a schedule (empty when valid). */
export function scheduleProblems(o: ScheduleOptions): string[] {
  const out = [
    numberProblem('lr', o.lr, { above: 0 }),
    intProblem('epochs', o.epochs, 1),
    numberProblem('gamma', o.gamma ?? 0.1, { above: 0, max: 1 }),
    intProblem('warmupSteps', o.warmupSteps ?? 0, 0),
    numberProblem('warmupStartFactor', o.warmupStartFactor ?? 0, { min: 0, max: 1 }),
  ].filter((p) => p !== null);
  return Number.isSafeInteger(o.epochs) ? [...out, ...milestoneProblems(o.milestones, o.epochs)] : out;
}

/** Multi-step LR per epoch with optional linear warm-up per step. */
export class MultiStepSchedule {
  readonly lr: number;
  readonly milestones: readonly number[];
  readonly epochs: number;
  readonly gamma: number;
  readonly warmupSteps: number;
  readonly warmupStartFactor: number;

  constructor(o: ScheduleOptions) {
    const problems = scheduleProblems(o);
    if (problems.length) throw new RangeError(`invalid LR schedule:\n  - ${problems.join('\n  - ')}`);
    this.lr = o.lr;
    this.milestones = [...o.milestones];
    this.epochs = o.epochs;
    this.gamma = o.gamma ?? 0.1;
    this.warmupSteps = o.warmupSteps ?? 0;
    this.warmupStartFactor = o.warmupStartFactor ?? 0;
  }

  /** LR of epoch `epoch` (0-based) after warm-up: base × gamma^{#milestones ≤ epoch}. */
  epochLr(epoch: number): number {
    let k = 0;
    for (const m of this.milestones) if (m <= epoch) k++;
    return this.lr * Math.pow(this.gamma, k);
  }

  /**
   * LR for optimizer step `step` (0-based, global) in epoch `epoch`: the epoch's LR times the
   * warm-up factor `start + (1 − start)·(step+1)/warmupSteps` while `step < warmupSteps`.
   */
  lrAt(epoch: number, step: number): number {
    const base = this.epochLr(epoch);
    if (step < this.warmupSteps) {
      const f = this.warmupStartFactor + (1 - this.warmupStartFactor) * ((step + 1) / this.warmupSteps);
      return base * f;
    }
    return base;
  }
}
