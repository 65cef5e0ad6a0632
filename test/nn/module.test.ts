import { describe, expect, it } from 'vitest';
import { memory, noGrad, randn, scope, tensor, zeros, type Tensor } from '../../lib/index.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  PReLU,
  Sequential,
  init,
  profile,
  summary,
  weightDecayGroups,
} from '../../lib/nn/index.js';

const arr = (t: Tensor): number[] => Array.from(t.toTypedArray() as Float32Array, Number);

class Block extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  act: PReLU;
  constructor() {
    super();
    this.conv = this.registerModule('conv', new Conv2d(3, 4, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(4));
    this.act = this.registerModule('act', new PReLU(4));
  }
  forward(x: Tensor): Tensor {
    return scope(() => this.act.forward(this.bn.forward(this.conv.forward(x))));
  }
  override traceShape(input: number[], tr: import('../../lib/nn/index.js').Tracer): number[] {
    return tr.run(this.act, tr.run(this.bn, tr.run(this.conv, input)));
  }
}

describe('Module', () => {
  it('names parameters, buffers and modules with dotted paths in registration order', () => {
    const net = new Sequential(new Block(), new Flatten(), new Linear(4 * 5 * 5, 2));
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      '0.conv.weight', '0.bn.weight', '0.bn.bias', '0.act.weight', '2.weight', '2.bias',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['0.bn.running_mean', '0.bn.running_var', '0.bn.num_batches_tracked']);
    expect([...net.stateDict().keys()]).toEqual([
      '0.conv.weight', '0.bn.weight', '0.bn.bias', '0.bn.running_mean', '0.bn.running_var', '0.bn.num_batches_tracked',
      '0.act.weight', '2.weight', '2.bias',
    ]);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', '0', '0.conv', '0.bn', '0.act', '1', '2']);
    expect(net.numParameters()).toBe(4 * 3 * 9 + 4 + 4 + 4 + 100 * 2 + 2);
    expect(net.stateDict().get('0.bn.num_batches_tracked')!.dtype).toBe('int64');
    const y = net.forward(randn([2, 3, 5, 5]));
    expect(y.shape).toEqual([2, 2]);
    net.dispose();
  });

  it('train()/eval() propagate to every descendant', () => {
    const net = new Sequential(new Block(), new Dropout(0.5));
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.at(0).training).toBe(true);
    net.dispose();
  });

  it('loadStateDict copies values and reports missing, unexpected and mis-shaped keys in one error', () => {
    const a = new Block();
    const b = new Block();
    b.loadStateDict(a.stateDict());
    expect(arr(b.conv.weight)).toEqual(arr(a.conv.weight));
    const sd = new Map(a.stateDict());
    sd.delete('bn.running_var');
    sd.set('extra.weight', zeros([1]));
    sd.set('act.weight', zeros([3]));
    let msg = '';
    try {
      b.loadStateDict(sd);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('missing keys (1): bn.running_var');
    expect(msg).toContain('unexpected keys (1): extra.weight');
    expect(msg).toContain('mis-shaped keys (1): act.weight: expected [4], got [3]');
    // nothing copied on error
    expect(arr(b.act.weight)).toEqual([0.25, 0.25, 0.25, 0.25]);
    sd.set('act.weight', zeros([4]));
    const r = b.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['bn.running_var'], unexpectedKeys: ['extra.weight'] });
    expect(arr(b.act.weight)).toEqual([0, 0, 0, 0]);
    // plain records work too
    b.loadStateDict(Object.fromEntries(a.stateDict()));
    a.dispose();
    b.dispose();
  });

  it('to(dtype) converts floating tensors in place, keeps int64 buffers, updates fields', () => {
    const b = new Block();
    const before = arr(b.conv.weight);
    b.to('float64');
    expect(b.conv.weight.dtype).toBe('float64');
    expect(b.conv.weight.requiresGrad).toBe(true);
    expect(b.conv.weight.isLeaf).toBe(true);
    expect(b.stateDict().get('conv.weight')).toBe(b.conv.weight);
    expect(b.bn.running_mean.dtype).toBe('float64');
    expect(b.bn.num_batches_tracked.dtype).toBe('int64');
    expect(arr(b.conv.weight)).toEqual(before);
    const y = b.forward(randn([2, 3, 4, 4], { dtype: 'float64' }));
    expect(y.dtype).toBe('float64');
    b.dispose();
  });

  it('parameters survive the scope they were created in; dispose() frees them', () => {
    const before = memory().tensors;
    const net = scope(() => new Block());
    expect(net.conv.weight.isDisposed).toBe(false);
    expect(memory().tensors).toBeGreaterThan(before);
    net.dispose();
    expect(net.conv.weight.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('zeroGrad drops gradients', () => {
    const b = new Block();
    b.forward(randn([2, 3, 4, 4])).sum().backward();
    expect(b.conv.weight.grad).not.toBeNull();
    b.zeroGrad();
    expect(b.conv.weight.grad).toBeNull();
    b.dispose();
  });
});

describe('BatchNorm', () => {
  it('BatchNorm2d: batch statistics in train mode, running stats update with momentum 0.1 (unbiased var)', () => {
    const bn = new BatchNorm2d(2);
    const data = Array.from({ length: 2 * 2 * 3 }, (_, i) => Math.sin(i * 1.3) * 2 + (i % 5));
    const x = tensor(data).view(2, 2, 3, 1);
    const y = bn.forward(x);
    // float64 reference
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 2; n++) for (let h = 0; h < 3; h++) vals.push(data[n * 6 + c * 3 + h]!);
      const mean = vals.reduce((a, b) => a + b, 0) / 6;
      const varB = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
      const varU = (varB * 6) / 5;
      expect(arr(bn.running_mean)[c]).toBeCloseTo(0.1 * mean, 5);
      expect(arr(bn.running_var)[c]).toBeCloseTo(0.9 + 0.1 * varU, 5);
      const yv = arr(y);
      for (let n = 0; n < 2; n++) {
        for (let h = 0; h < 3; h++) {
          expect(yv[n * 6 + c * 3 + h]).toBeCloseTo((data[n * 6 + c * 3 + h]! - mean) / Math.sqrt(varB + 1e-5), 4);
        }
      }
    }
    expect(bn.num_batches_tracked.item()).toBe(1);
    bn.eval();
    const rm = arr(bn.running_mean);
    const rv = arr(bn.running_var);
    const ye = arr(bn.forward(x));
    expect(ye[0]).toBeCloseTo((data[0]! - rm[0]!) / Math.sqrt(rv[0]! + 1e-5), 5);
    expect(bn.num_batches_tracked.item()).toBe(1);
    bn.dispose();
  });

  it('BatchNorm1d affine=false has no parameters and rejects wrong shapes with a clear error', () => {
    const bn = new BatchNorm1d(3, { affine: false });
    expect(bn.numParameters()).toBe(0);
    expect([...bn.stateDict().keys()]).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(() => bn.forward(zeros([2, 4]))).toThrow(/BatchNorm1d\(3\).*got \[2, 4\]/);
    expect(() => bn.forward(zeros([1, 3]))).toThrow(/more than 1 value per channel when training, got input \[1, 3\]/);
    bn.eval();
    expect(bn.forward(zeros([1, 3])).shape).toEqual([1, 3]);
    bn.dispose();
  });
});

describe('init', () => {
  it('kaimingNormal_ fan_out relu has std sqrt(2 / (C_out·k·k))', () => {
    const w = zeros([256, 16, 3, 3]);
    init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
    const std = w.std().item();
    expect(std).toBeCloseTo(Math.sqrt(2 / (256 * 9)), 3);
    expect(w.requiresGrad).toBe(false);
  });
  it('PyTorch default conv init is U(-1/sqrt(fan_in), 1/sqrt(fan_in))', () => {
    const c = new Conv2d(16, 64, 3);
    // float32 weights: the bound itself is rounded to float32 before sampling
    const bound = Math.fround(1 / Math.sqrt(16 * 9));
    expect(c.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(c.weight.abs().max().item()).toBeGreaterThan(bound * 0.95);
    expect(c.bias!.abs().max().item()).toBeLessThanOrEqual(bound);
    c.dispose();
  });
  it('xavierUniform_ bound', () => {
    const w = zeros([100, 300]);
    init.xavierUniform_(w);
    const b = Math.fround(Math.sqrt(6 / 400));
    expect(w.abs().max().item()).toBeLessThanOrEqual(b);
    expect(w.abs().max().item()).toBeGreaterThan(0.95 * b);
  });
});

describe('summary and param groups', () => {
  it('counts Conv/Linear MACs and parameters', () => {
    const net = new Sequential(new Block(), new MaxPool2d(1, { stride: 2 }), new Flatten(), new Linear(4 * 3 * 3, 2));
    const p = profile(net, [1, 3, 5, 5]);
    expect(p.outputShape).toEqual([1, 2]);
    expect(p.macs).toBe(5 * 5 * 4 * 3 * 9 + 36 * 2);
    expect(p.params).toBe(net.numParameters());
    expect(p.rows.map((r) => r.name)).toEqual(['0.conv', '0.bn', '0.act', '1', '2', '3']);
    expect(p.rows[1]!.outputShape).toEqual([1, 4, 5, 5]);
    const text = summary(net, [1, 3, 5, 5], { print: false });
    expect(text).toContain('MACs: 2,772');
    // traced shapes equal real ones
    const y = noGrad(() => net.eval().forward(randn([1, 3, 5, 5])));
    expect(y.shape).toEqual(p.outputShape);
    net.dispose();
  });

  it('weightDecayGroups: BN affine in noDecay, everything else (PReLU, conv, linear bias) in decay, each once', () => {
    const net = new Sequential(new Block(), new Flatten(), new Linear(4, 2));
    const g = weightDecayGroups(net);
    expect(g.noDecayNames).toEqual(['0.bn.weight', '0.bn.bias']);
    expect(g.decayNames).toEqual(['0.conv.weight', '0.act.weight', '2.weight', '2.bias']);
    expect(g.decay.length + g.noDecay.length).toBe(net.parameters().length);
    net.dispose();
  });
});
