/**
 * Learning-rate schedule of the paper's recipe (spec §3.1): multi-step decay set at the start of
 * each epoch, `lr = base × gamma^{#{milestones ≤ epoch}}` (0-based epochs), with an optional
 * linear warm-up over the first steps (off by default, spec D8).
 */

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

/** Returns every problem of a schedule (empty when valid). */
export function scheduleProblems(o: ScheduleOptions): string[] {
  const out: string[] = [];
  if (!Number.isFinite(o.lr) || o.lr <= 0) out.push(`lr must be a positive number (got ${o.lr})`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) out.push(`epochs must be a positive integer (got ${o.epochs})`);
  const g = o.gamma ?? 0.1;
  if (!Number.isFinite(g) || g <= 0 || g > 1) out.push(`gamma must be in (0, 1] (got ${g})`);
  const w = o.warmupSteps ?? 0;
  if (!Number.isInteger(w) || w < 0) out.push(`warmupSteps must be a non-negative integer (got ${w})`);
  const f = o.warmupStartFactor ?? 0;
  if (!Number.isFinite(f) || f < 0 || f > 1) out.push(`warmupStartFactor must be in [0, 1] (got ${f})`);
  o.milestones.forEach((m, i) => {
    if (!Number.isInteger(m)) out.push(`milestones[${i}] must be an integer epoch (got ${m})`);
    else if (m < 1 || (Number.isInteger(o.epochs) && m >= o.epochs)) out.push(`milestones[${i}] = ${m} must lie in [1, ${o.epochs - 1}] (epochs = ${o.epochs})`);
    if (i > 0 && !(m > o.milestones[i - 1]!)) out.push(`milestones must be strictly increasing (milestones[${i - 1}] = ${o.milestones[i - 1]}, milestones[${i}] = ${m})`);
  });
  return out;
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
