import { describe, expect, it } from 'vitest';
import { MultiStepSchedule, scheduleProblems } from '../../lib/train/schedule.js';

describe('MultiStepSchedule', () => {
  it('gives the MS1MV2 recipe: 0.1, 0.01 at 10, 0.001 at 18, 1e-4 at 22 (24 epochs)', () => {
    const s = new MultiStepSchedule({ lr: 0.1, milestones: [10, 18, 22], epochs: 24 });
    const expected = (e: number) => 0.1 * 0.1 ** [10, 18, 22].filter((m) => m <= e).length;
    for (let e = 0; e < 24; e++) expect(s.epochLr(e)).toBeCloseTo(expected(e), 15);
    expect(s.epochLr(9)).toBeCloseTo(0.1, 15);
    expect(s.epochLr(10)).toBeCloseTo(0.01, 15);
    expect(s.epochLr(21)).toBeCloseTo(0.001, 15);
    expect(s.epochLr(22)).toBeCloseTo(1e-4, 15);
    expect(s.lrAt(5, 12345)).toBe(s.epochLr(5)); // no warm-up by default
  });

  it('gives the CASIA recipe (28/38/46 of 50)', () => {
    const s = new MultiStepSchedule({ lr: 0.1, milestones: [28, 38, 46], epochs: 50 });
    expect([0, 27, 28, 37, 38, 45, 46, 49].map((e) => s.epochLr(e))).toEqual(
      [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1 * 0.1],
    );
  });

  it('warms up linearly over the first steps', () => {
    const s = new MultiStepSchedule({ lr: 0.2, milestones: [2], epochs: 3, warmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map((k) => s.lrAt(0, k))).toEqual([0.05, 0.1, 0.15000000000000002, 0.2, 0.2, 0.2]);
    const t = new MultiStepSchedule({ lr: 1, milestones: [], epochs: 1, warmupSteps: 2, warmupStartFactor: 0.5 });
    expect(t.lrAt(0, 0)).toBeCloseTo(0.75, 15);
    expect(t.lrAt(0, 1)).toBe(1);
  });

  it('validates milestones and reports every problem', () => {
    const p = scheduleProblems({ lr: -1, milestones: [5, 3, 12, 1.5], epochs: 10 });
    expect(p).toEqual([
      'lr must be a finite number > 0, got -1',
      'milestones[1] must be greater than milestones[0] (5), got 3',
      'milestones[2] must be an epoch in [1, 9] (epochs = 10), got 12',
      'milestones[3] must be an epoch in [1, 9] (epochs = 10), got 1.5',
      'milestones[3] must be greater than milestones[2] (12), got 1.5',
    ]);
    expect(() => new MultiStepSchedule({ lr: 0.1, milestones: [0], epochs: 3 })).toThrow(/milestones\[0\] must be an epoch in \[1, 2\] \(epochs = 3\), got 0/);
  });
});
