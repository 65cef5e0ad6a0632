import { describe, expect, it } from 'vitest';
import { scope, tensor, type Tensor } from '../../lib/tensor/index.js';
import { GradScaler } from '../../lib/train/grad-scaler.js';

/** A parameter with a gradient, and an optimizer that counts its steps. */
function param(grad: number[]): Tensor {
  const p = tensor(grad.map(() => 1)).requiresGrad_(true);
  scope(() => {
    p.grad = tensor(grad);
  });
  return p;
}
const counter = () => ({ steps: 0, step() { this.steps++; } });
const gradOf = (p: Tensor) => Array.from(p.grad!.toTypedArray() as Float32Array);

describe('GradScaler', () => {
  it('scales the loss, unscales the gradients and steps', () => {
    const s = new GradScaler({ initScale: 4 });
    const loss = tensor(1.5);
    const scaled = s.scaleLoss(loss);
    expect(scaled.item()).toBe(6);
    const p = param([4, 8]);
    const opt = counter();
    expect(s.step(opt, [p])).toBe(true);
    expect(opt.steps).toBe(1);
    expect(gradOf(p)).toEqual([1, 2]);
    expect(s.scale).toBe(4);
    for (const t of [loss, scaled, p]) t.dispose();
  });

  it('skips the step and halves the scale on an overflow; doubles after growthInterval good steps', () => {
    const s = new GradScaler({ initScale: 8, growthInterval: 3 });
    const opt = counter();
    const bad = param([Infinity, 1]);
    expect(s.step(opt, [bad])).toBe(false);
    expect(opt.steps).toBe(0);
    expect(s.stateDict()).toEqual({ scale: 4, goodSteps: 0 });
    const good = param([1, 1]);
    s.step(opt, [good]);
    s.step(opt, [good]);
    expect(s.stateDict()).toEqual({ scale: 4, goodSteps: 2 });
    s.step(opt, [good]);
    expect(s.stateDict()).toEqual({ scale: 8, goodSteps: 0 });
    expect(opt.steps).toBe(3);
    const again = new GradScaler({ initScale: 1, growthInterval: 3 });
    again.loadStateDict({ scale: 4, goodSteps: 2 });
    expect(again.scale).toBe(4);
    bad.dispose();
    good.dispose();
  });

  it('disabled, is the identity and always steps', () => {
    const s = new GradScaler({ enabled: false, initScale: 1024 });
    expect(s.scale).toBe(1);
    const loss = tensor(2);
    expect(s.scaleLoss(loss)).toBe(loss);
    const p = param([Infinity, 3]);
    const opt = counter();
    expect(s.step(opt, [p])).toBe(true);
    expect(opt.steps).toBe(1);
    expect(gradOf(p)).toEqual([Infinity, 3]); // untouched
    loss.dispose();
    p.dispose();
  });

  it('rejects a scale that is not a positive finite number', () => {
    expect(() => new GradScaler({ initScale: 0 })).toThrow(/initScale must be a finite number > 0/);
    expect(() => new GradScaler({ growthInterval: 0.5 })).toThrow(/growthInterval must be a positive integer/);
  });
});
