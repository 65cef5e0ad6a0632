import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memory, scope, tensor, Tensor } from '../../lib/tensor/index.js';
import { native } from '../../lib/native.js';
import { SGD } from '../../lib/train/sgd.js';

interface Fixture {
  shapes: number[][];
  init: number[][];
  grads: number[][][];
  runs: { name: string; lr: number; momentum: number; dampening: number; nesterov: boolean; after: number[][][] }[];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/train/sgd_torch.json', import.meta.url), 'utf8')) as Fixture;

/** float64 reference of torch.optim.SGD's rule. */
function reference(
  p: number[],
  bufIn: number[] | null,
  g: number[],
  o: { lr: number; momentum: number; dampening: number; nesterov: boolean; wd: number },
): { p: number[]; buf: number[] | null } {
  const d = g.map((gi, i) => gi + o.wd * p[i]!);
  let buf: number[] | null = bufIn;
  let step = d;
  if (o.momentum !== 0) {
    buf = bufIn === null ? d.slice() : bufIn.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]!);
    step = o.nesterov ? d.map((di, i) => di + o.momentum * buf![i]!) : buf;
  }
  return { p: p.map((pi, i) => pi - o.lr * step[i]!), buf };
}

function setGrad(p: Tensor, g: number[] | null): void {
  if (g === null) {
    native.clearGrad(p.handle);
    return;
  }
  scope(() => {
    p.grad = tensor(g).reshape(p.shape);
  });
}

function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as Float32Array);
}

describe('SGD (native fused step)', () => {
  for (const run of fx.runs) {
    it(`matches torch.optim.SGD and the float64 rule: ${run.name}`, () => {
      const params = fx.init.map((v, i) => tensor(v).reshape(fx.shapes[i]!).requiresGrad_(true));
      const opt = new SGD(
        [
          { params: [params[0]!, params[2]!], weightDecay: 5e-4, name: 'decay' },
          { params: [params[1]!], weightDecay: 0, name: 'no_decay' },
        ],
        { lr: run.lr, momentum: run.momentum, dampening: run.dampening, nesterov: run.nesterov },
      );
      const wds = [5e-4, 0, 5e-4];
      let ref = fx.init.map((v) => v.slice());
      let bufs: (number[] | null)[] = [null, null, null];
      fx.grads.forEach((step, k) => {
        step.forEach((g, i) => setGrad(params[i]!, k === 0 && i === 1 ? null : g));
        opt.step();
        ref = ref.map((p, i) => {
          if (k === 0 && i === 1) return p;
          const r = reference(p, bufs[i]!, step[i]!, { ...run, wd: wds[i]! });
          bufs[i] = r.buf;
          return r.p;
        });
        params.forEach((p, i) => {
          const got = values(p);
          const torchVals = run.after[k]![i]!;
          got.forEach((v, j) => {
            expect(Math.abs(v - torchVals[j]!)).toBeLessThan(1e-6);
            expect(Math.abs(v - ref[i]![j]!)).toBeLessThan(2e-6);
          });
        });
      });
      opt.dispose();
      params.forEach((p) => p.dispose());
    });
  }

  it('zeroGrad clears gradients, setLr changes the step, stateDict round-trips and memory stays flat', () => {
    const p = tensor([1, 2, 3]).requiresGrad_(true);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    setGrad(p, [1, 1, 1]);
    opt.step();
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    opt.setLr(0.01);
    expect(opt.lr).toBe(0.01);
    const state = opt.stateDict();
    expect(values(state.momentumBuffers[0]!)).toEqual([1, 1, 1]);
    const q = tensor([1, 2, 3]).requiresGrad_(true);
    const opt2 = new SGD([q], { lr: 0.5, momentum: 0.9 });
    opt2.loadStateDict(state);
    state.momentumBuffers.forEach((b) => b?.dispose());
    expect(opt2.lr).toBe(0.01);
    expect(opt2.steps).toBe(1);
    // next step with a restored buffer: buf = 0.9·1 + 2 = 2.9, q = q − 0.01·2.9
    setGrad(q, [2, 2, 2]);
    opt2.step();
    values(q).forEach((v, i) => expect(v).toBeCloseTo(i + 1 - 0.029, 6));
    // a loop of steps does not grow the number of live tensors
    const before = memory().tensors;
    for (let k = 0; k < 20; k++) {
      setGrad(q, [1, 1, 1]);
      opt2.step();
      opt2.zeroGrad();
    }
    expect(memory().tensors).toBe(before);
    opt.dispose();
    opt2.dispose();
    p.dispose();
    q.dispose();
  });

  it('rejects impossible hyper-parameters and mismatched states with clear errors', () => {
    const p = tensor([1, 2]).requiresGrad_(true);
    expect(() => new SGD([p], { lr: -1 })).toThrow(/lr must be/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov requires momentum > 0/);
    expect(() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 })).toThrow(/appears twice/);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    expect(() => opt.loadStateDict({ groups: [], momentumBuffers: [], steps: 0 })).toThrow(/0 param groups/);
    expect(() => native.sgdStep([p.handle], [], [0], 0.1, 0.9)).toThrow(/same length/);
    p.dispose();
  });
});
