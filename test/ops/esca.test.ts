// The native ESCA/ECA ops (native/ops/esca.cc) against independent references: the same math
// composed of ATen ops with libtorch's autograd (escaComposed/ecaComposed), and central finite
// differences in float64 for the input and both weights. Every comparison runs for contiguous
// NCHW input and for channels_last input (the CPU's NHWC kernels, kernels/esca_cpu_nhwc.h), and
// with both CPU builds of the kernels (AVX2 where the CPU has it; ECF_ESCA_PORTABLE=1 forces the
// portable one).
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native.js';
import { eca, ecaComposed, esca, escaComposed } from '../../lib/ops/esca.js';
import {
  getNumThreads,
  manualSeed,
  randn,
  scope,
  setNumThreads,
  tensor,
  type DType,
  type Tensor,
} from '../../lib/tensor/index.js';
import { withEnv } from '../helpers/env.js';

type Shape = [number, number, number, number];

/** ECA's k(C): t = int(|log2(C)/2 + 1/2|), k = t odd ? t : t + 1. */
function kOf(c: number): number {
  const t = Math.trunc(Math.abs(Math.log2(c) / 2 + 0.5));
  return t % 2 === 1 ? t : t + 1;
}

/** max|a − b| / max|b| (b is the reference). */
function relErr(a: Tensor, b: Tensor): number {
  const den = b.double().abs().max().item();
  return a.double().sub(b.double()).abs().max().item() / Math.max(den, 1e-300);
}

interface Params {
  x: Tensor;
  wca: Tensor;
  wsa: Tensor;
  go: Tensor;
}

function params(shape: Shape, dtype: DType, k = kOf(shape[1])): Params {
  const [, c] = shape;
  const x = randn(shape, { dtype, requiresGrad: true });
  const wca = randn([1, 1, k], { dtype, requiresGrad: true });
  // SA weights at about the default-init scale so that σ is not saturated.
  const wsa = randn([1, 2 * c, 3, 3], { dtype }).mul(1 / Math.sqrt(2 * c)).detach();
  wsa.requiresGrad = true;
  return { x, wca, wsa, go: randn(shape, { dtype }) };
}

type Op = 'esca' | 'eca';
type Layout = 'contiguous' | 'channelsLast';
const LAYOUTS: Layout[] = ['contiguous', 'channelsLast'];

/** Output and gradients (x, wca[, wsa]) of one implementation for the output gradient go. */
function run(op: Op, fused: boolean, p: Params, x: Tensor = p.x): Tensor[] {
  for (const t of [p.x, p.wca, p.wsa]) t.zeroGrad();
  const out =
    op === 'esca'
      ? (fused ? esca : escaComposed)(x, p.wca, p.wsa)
      : (fused ? eca : ecaComposed)(x, p.wca);
  out.backward(p.go);
  const grads = [p.x.grad!.clone(), p.wca.grad!.clone()];
  if (op === 'esca') grads.push(p.wsa.grad!.clone());
  return [out.detach(), ...grads];
}

/**
 * Params whose x (a leaf) and go have the given memory layout (same values as `p`): with
 * channels_last the op's own input gradient reaches x.grad, so its layout can be checked too.
 */
function inLayout(p: Params, layout: Layout): Params {
  if (layout === 'contiguous') return p;
  const x = p.x.detach().contiguous('channelsLast');
  x.requiresGrad = true;
  return { ...p, x, go: p.go.contiguous('channelsLast') };
}

/** Runs `f` with the portable CPU build of the kernels forced (ECF_ESCA_PORTABLE=1). */
function portable<T>(f: () => T): T {
  return withEnv('ECF_ESCA_PORTABLE', '1', f);
}

/**
 * Native op in `dtype` against the composed op evaluated in float64 on the same (rounded) inputs:
 * for float32 this measures the native op's own error, not the composed float32 op's.
 */
function compare(op: Op, shape: Shape, dtype: DType, tol: number, k?: number, layout: Layout = 'contiguous'): void {
  scope(() => {
    const p = params(shape, dtype, k);
    const pl = inLayout(p, layout);
    const a = run(op, true, pl);
    if (layout === 'channelsLast' && shape[1] > 1 && shape[2] * shape[3] > 1) {
      expect(a[0]!.isContiguous('channelsLast'), 'out is channels_last').toBe(true);
      expect(a[1]!.isContiguous('channelsLast'), 'dx is channels_last').toBe(true);
    }
    const p64: Params = {
      x: p.x.detach().double(),
      wca: p.wca.detach().double(),
      wsa: p.wsa.detach().double(),
      go: p.go.double(),
    };
    for (const t of [p64.x, p64.wca, p64.wsa]) t.requiresGrad = true;
    const b = run(op, false, p64);
    const names = ['out', 'dx', 'dwca', 'dwsa'];
    a.forEach((t, i) => {
      expect(t.shape, names[i]).toEqual(b[i]!.shape);
      expect(t.dtype, names[i]).toBe(dtype);
      expect(b[i]!.dtype).toBe('float64');
      const e = relErr(t, b[i]!);
      if (!(e <= tol)) throw new Error(`${op} ${dtype} ${layout} [${shape}] ${names[i]}: relative error ${e} > ${tol}`);
    });
  });
}

// Deterministic "random" shapes (an LCG; vitest runs must be reproducible).
function randomShapes(count: number, seed: number): Shape[] {
  let s = seed;
  const next = (lo: number, hi: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + (s % (hi - lo + 1));
  };
  return Array.from({ length: count }, () => [next(1, 3), next(1, 40), next(1, 12), next(1, 12)] as Shape);
}

const SHAPES: Shape[] = [
  [1, 12, 7, 7], // batch 1, H = W = 7, C not a multiple of 8
  [2, 20, 5, 9], // odd H and W
  [3, 64, 7, 7], // k = 3
  [2, 128, 6, 5], // k = 5
  [2, 256, 4, 4],
  [1, 1, 1, 1], // degenerate: k(1) = 1, one pixel
  [2, 3, 1, 6], // a single row
  [2, 5, 8, 1], // a single column
  ...randomShapes(6, 7),
];

describe('native esca/eca vs the composed reference', () => {
  manualSeed(1234);
  it('kOf matches the ECA table (64 → 3, 128 → 5, 256 → 5, 512 → 5)', () => {
    expect([64, 128, 256, 512].map(kOf)).toEqual([3, 5, 5, 5]);
  });
  for (const layout of LAYOUTS) {
    for (const op of ['esca', 'eca'] as const) {
      it(`${op}, ${layout}: float64 forward and gradients within 1e-10`, () => {
        for (const s of SHAPES) compare(op, s, 'float64', 1e-10, undefined, layout);
      });
      it(`${op}, ${layout}: float32 forward and gradients within 1e-5 relative`, () => {
        for (const s of SHAPES) compare(op, s, 'float32', 1e-5, undefined, layout);
      });
      it(`${op}, ${layout}, portable build: float64 and float32`, () => {
        portable(() => {
          for (const s of SHAPES.slice(0, 5)) compare(op, s, 'float64', 1e-10, undefined, layout);
          for (const s of SHAPES.slice(0, 5)) compare(op, s, 'float32', 1e-5, undefined, layout);
        });
      });
    }
    it(`k = 7 and k = 1 channel kernels, ${layout}`, () => {
      compare('esca', [2, 16, 5, 5], 'float64', 1e-10, 7, layout);
      compare('esca', [2, 16, 5, 5], 'float64', 1e-10, 1, layout);
      compare('eca', [2, 16, 5, 5], 'float64', 1e-10, 7, layout);
    });
    it(`realistic stage shapes (IR stage 4, MobileFaceNet stage 3) in float32, ${layout}`, () => {
      compare('esca', [2, 512, 7, 7], 'float32', 1e-5, undefined, layout);
      compare('esca', [2, 64, 28, 28], 'float32', 1e-5, undefined, layout);
      portable(() => compare('esca', [2, 128, 14, 14], 'float32', 1e-5, undefined, layout));
    });
  }
  it('channels_last input with a contiguous output gradient', () => {
    scope(() => {
      const p = params([2, 24, 6, 7], 'float64');
      const a = run('esca', true, p, p.x.contiguous('channelsLast'));
      const b = run('esca', false, p);
      a.forEach((t, i) => expect(relErr(t, b[i]!)).toBeLessThan(1e-10));
    });
  });
  it('ties in the max pool (many equal values) follow the first-maximum rule in both layouts', () => {
    for (const layout of LAYOUTS) {
      scope(() => {
        const p = params([2, 16, 6, 6], 'float64');
        p.x = p.x.detach().relu().round();
        p.x.requiresGrad = true;
        const a = run('esca', true, inLayout(p, layout));
        const b = run('esca', false, p);
        a.forEach((t, i) => expect(relErr(t, b[i]!), `${layout} ${i}`).toBeLessThan(1e-10));
      });
    }
  });
});

describe('memory layouts', () => {
  manualSeed(99);
  for (const op of ['esca', 'eca'] as const) {
    it(`${op}: channels_last input gives the same values and keeps channels_last`, () => {
      scope(() => {
        const p = params([2, 12, 7, 5], 'float64');
        const xcl = p.x.contiguous('channelsLast');
        expect(xcl.isContiguous()).toBe(false);
        const out = op === 'esca' ? esca(xcl, p.wca, p.wsa) : eca(xcl, p.wca);
        expect(out.isContiguous('channelsLast')).toBe(true);
        const a = run(op, true, p, xcl);
        const b = run(op, false, p);
        a.forEach((t, i) => expect(relErr(t, b[i]!)).toBeLessThan(1e-10));
      });
    });
  }
  it('a non-contiguous view (H and W transposed) is handled', () => {
    scope(() => {
      const p = params([2, 10, 6, 4], 'float64');
      const xt = p.x.transpose(2, 3);
      p.go = p.go.transpose(2, 3).contiguous();
      const a = run('esca', true, p, xt);
      const b = run('esca', false, p, xt);
      a.forEach((t, i) => expect(relErr(t, b[i]!)).toBeLessThan(1e-10));
    });
  });
});

/** Loss L = Σ out·r as a float64 number. */
function loss(op: Op, x: Tensor, wca: Tensor, wsa: Tensor, r: Tensor): number {
  return scope(() => (op === 'esca' ? esca(x, wca, wsa) : eca(x, wca)).mul(r).sum().item());
}

/** Central differences of L with respect to every element of `which` (0 = x, 1 = wca, 2 = wsa). */
function numericGrad(op: Op, args: [Tensor, Tensor, Tensor], which: number, r: Tensor, h = 1e-6): Float64Array {
  const base = args[which]!;
  const data = Float64Array.from(base.toTypedArray() as Float64Array);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const at = (d: number): number => {
      data[i] = v + d;
      const t = tensor(data, { shape: base.shape });
      const a = [...args] as [Tensor, Tensor, Tensor];
      a[which] = t;
      const l = loss(op, a[0], a[1], a[2], r);
      t.dispose();
      return l;
    };
    out[i] = (at(h) - at(-h)) / (2 * h);
    data[i] = v;
  }
  return out;
}

describe('finite-difference gradients (float64)', () => {
  manualSeed(7);
  const cases: [Op, Shape, number, Layout][] = [
    ['esca', [1, 4, 3, 5], 3, 'contiguous'],
    ['esca', [2, 3, 4, 4], 3, 'contiguous'],
    ['esca', [1, 6, 5, 3], 5, 'contiguous'],
    ['eca', [2, 5, 3, 3], 3, 'contiguous'],
    ['esca', [1, 9, 4, 3], 3, 'channelsLast'],
    ['eca', [2, 9, 3, 3], 3, 'channelsLast'],
  ];
  for (const [op, shape, k, layout] of cases) {
    it(`${op} [${shape}] k=${k} ${layout}: x, caWeight${op === 'esca' ? ', saWeight' : ''}`, () => {
      scope(() => {
        const p = params(shape, 'float64', k);
        const r = randn(shape, { dtype: 'float64' });
        p.go = r;
        const analytic = run(op, true, inLayout(p, layout)).slice(1);
        const args: [Tensor, Tensor, Tensor] = [p.x.detach(), p.wca.detach(), p.wsa.detach()];
        analytic.forEach((g, which) => {
          const num = numericGrad(op, args, which, r);
          const ana = g.toTypedArray() as Float64Array;
          let maxAbs = 0;
          let maxErr = 0;
          for (let i = 0; i < num.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(num[i]!));
            maxErr = Math.max(maxErr, Math.abs(num[i]! - ana[i]!));
          }
          expect(maxAbs).toBeGreaterThan(1e-3); // the check is not vacuous
          expect(maxErr / maxAbs, ['x', 'caWeight', 'saWeight'][which]).toBeLessThan(1e-6);
        });
      });
    });
  }
});

describe('dtypes, threads and autograd plumbing', () => {
  manualSeed(3);
  it('float16 and bfloat16 on CPU are computed in float32 and keep their dtype', () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      scope(() => {
        const p = params([2, 12, 5, 5], 'float32');
        const ref = esca(p.x, p.wca, p.wsa);
        const lo = esca(p.x.to(dtype), p.wca.to(dtype), p.wsa.to(dtype));
        expect(lo.dtype).toBe(dtype);
        expect(relErr(lo, ref)).toBeLessThan(2e-2);
      });
    }
  });
  it('every output and gradient element is written (buffers poisoned with NaN first)', () => {
    process.env.ECF_POISON_OUTPUTS = '1';
    try {
      for (const op of ['esca', 'eca'] as const) {
        for (const layout of LAYOUTS) {
          compare(op, [2, 20, 5, 7], 'float64', 1e-10, undefined, layout);
          compare(op, [1, 33, 3, 2], 'float32', 1e-5, undefined, layout);
        }
      }
    } finally {
      delete process.env.ECF_POISON_OUTPUTS;
    }
  });
  it('results do not depend on the thread count (fixed-order reductions)', () => {
    const before = getNumThreads();
    try {
      for (const layout of LAYOUTS) {
        scope(() => {
          const p = inLayout(params([3, 40, 9, 7], 'float32'), layout);
          setNumThreads(1);
          const a = run('esca', true, p);
          setNumThreads(2);
          const b = run('esca', true, p);
          a.forEach((t, i) => expect(t.sub(b[i]!).abs().max().item()).toBe(0));
        });
      }
    } finally {
      setNumThreads(before);
    }
  });
  it('weights that do not require grad, and inputs that do not, work', () => {
    scope(() => {
      const p = params([2, 8, 4, 4], 'float64');
      const wca = p.wca.detach();
      const wsa = p.wsa.detach();
      p.x.zeroGrad();
      esca(p.x, wca, wsa).backward(p.go);
      expect(p.x.grad).not.toBeNull();
      const o = esca(p.x.detach(), wca, wsa);
      expect(o.requiresGrad).toBe(false);
      expect(relErr(o, escaComposed(p.x.detach(), wca, wsa))).toBeLessThan(1e-12);
    });
  });
  it('an empty batch gives an empty output and zero weight gradients', () => {
    scope(() => {
      const p = params([0, 8, 4, 4], 'float64');
      const out = esca(p.x, p.wca, p.wsa);
      expect(out.shape).toEqual([0, 8, 4, 4]);
      out.sum().backward();
      expect(p.wsa.grad!.abs().max().item()).toBe(0);
      expect(p.wca.grad!.abs().max().item()).toBe(0);
    });
  });
});

describe('errors', () => {
  const x = randn([2, 8, 5, 5]);
  const wca = randn([1, 1, 3]);
  const wsa = randn([1, 16, 3, 3]);
  it('the TypeScript layer names the argument and the expected shape', () => {
    expect(() => esca(randn([8, 5, 5]), wca, wsa)).toThrow(/esca: input must be \[N, C, H, W\], got \[8, 5, 5\]/);
    expect(() => esca(x, randn([1, 1, 2]), wsa)).toThrow(/channel-attention weight must be \[1, 1, k\] with odd k/);
    expect(() => esca(x, wca, randn([1, 8, 3, 3]))).toThrow(/spatial-attention weight must be \[1, 16, 3, 3\]/);
    expect(() => eca(x, randn([3]))).toThrow(/eca: channel-attention weight/);
    expect(() => esca(x, wca, null as unknown as Tensor)).toThrow(/argument 'saWeight' must be a Tensor/);
  });
  it('the native op checks shapes, dtypes and devices itself', () => {
    expect(() => native.esca(randn([2, 8, 5]).handle, wca.handle, wsa.handle)).toThrow(
      /esca: input must be \[N, C, H, W\], got shape \[2, 8, 5\]/,
    );
    expect(() => native.esca(x.handle, wca.handle, randn([1, 16, 3, 2]).handle)).toThrow(
      /esca: spatial-attention weight must be \[1, 16, 3, 3\] for C = 8, got shape \[1, 16, 3, 2\]/,
    );
    expect(() => native.eca(x.handle, randn([1, 1, 4]).handle)).toThrow(/eca: channel-attention weight must be/);
    expect(() => native.esca(x.handle, wca.double().handle, wsa.handle)).toThrow(
      /esca: channel-attention weight dtype Double differs from the input dtype Float/,
    );
    expect(() => native.eca(x.long().handle, wca.handle)).toThrow(/eca: input must be a floating-point tensor/);
    expect(() => native.esca(randn([2, 0, 5, 5]).handle, wca.handle, randn([1, 0, 3, 3]).handle)).toThrow(
      /esca: input must have C, H, W > 0/,
    );
  });
});
