import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noGrad, randn, scope, tensor, type Tensor } from '../../lib/index.js';
import { ATTENTION_KINDS, attention, ecaKernelSize, profile, type AttentionKind, type Module } from '../../lib/nn/index.js';

interface Stats {
  sum: number;
  sumsq: number;
  weighted: number;
  picks: [number, number][];
}
interface Fixture {
  shape: number[];
  modules: Record<string, { keys: [string, number[]][]; params: number; train: Stats; eval: Stats }>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/models/attention.json', import.meta.url), 'utf8')) as Fixture;

/** The closed-form filler of make_attention.py. */
function fillValues(shape: number[], k: number, name: string): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sin(1.7 * i + 0.3 * k + 0.1);
    if (name.endsWith('running_var')) v[i] = 1 + 0.5 * s * s;
    else if (shape.length >= 2) v[i] = s * (1.5 / Math.sqrt(n / shape[0]!));
    else v[i] = name.endsWith('weight') ? 0.5 + 0.25 * s : 0.2 * s;
  }
  return v;
}
function fillModule(m: Module): void {
  const sd = new Map<string, Tensor>();
  let j = 0;
  for (const [k, t] of m.stateDict()) {
    if (k.endsWith('num_batches_tracked')) continue;
    sd.set(k, tensor(fillValues(t.shape, j++, k)).view(t.shape));
  }
  const r = m.loadStateDict(sd, { strict: false });
  expect(r.unexpectedKeys).toEqual([]);
  for (const t of sd.values()) t.dispose();
}
function inputOf(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(0.37 * i) * 1.3 + 0.2 * Math.cos(0.011 * i);
  return tensor(v).view(shape);
}
function checkStats(y: Tensor, s: Stats): void {
  const f = y.toTypedArray() as Float64Array;
  let sum = 0;
  let sumsq = 0;
  let weighted = 0;
  for (let i = 0; i < f.length; i++) {
    sum += f[i]!;
    sumsq += f[i]! * f[i]!;
    weighted += f[i]! * Math.cos(0.013 * i);
  }
  const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(b)));
  close(sum, s.sum);
  close(sumsq, s.sumsq);
  close(weighted, s.weighted);
  for (const [i, v] of s.picks) close(f[i]!, v);
}

const kinds = ATTENTION_KINDS.filter((k): k is Exclude<AttentionKind, 'none'> => k !== 'none');

describe('attention modules against independent PyTorch implementations (float64)', () => {
  for (const kind of kinds) {
    it(`${kind}: state_dict names/shapes, params, train- and eval-mode output`, () => {
      const ref = fixture.modules[kind]!;
      const m = attention(kind, fixture.shape[1]!)!;
      m.to('float64');
      expect([...m.stateDict()].map(([k, t]) => [k, t.shape])).toEqual(ref.keys);
      expect(m.numParameters()).toBe(ref.params);
      fillModule(m);
      const x = inputOf(fixture.shape);
      scope(() => {
        m.train();
        checkStats(m.forward(x), ref.train);
      });
      fillModule(m); // train mode moved the running statistics
      scope(() => {
        m.eval();
        checkStats(noGrad(() => m.forward(x)), ref.eval);
      });
      x.dispose();
      m.dispose();
    });
  }
});

// Spec backbones.md §3 table: per-module parameter counts for C = 64 / 128 / 256 / 512.
const PARAMS: Record<Exclude<AttentionKind, 'none'>, number[]> = {
  esca: [1155, 2309, 4613, 9221],
  eca: [3, 5, 5, 5],
  se: [512, 2048, 8192, 32768],
  cbam: [680, 2284, 8564, 33412],
  bam: [1173, 4457, 17361, 68513],
  sk: [8768, 22080, 62528, 198720],
  sge: [128, 128, 128, 128],
};

describe('attention parameter counts (spec §3 table)', () => {
  const cs = [64, 128, 256, 512];
  for (const kind of kinds) {
    it(`${kind}: C = 64/128/256/512`, () => {
      const got = cs.map((c) => {
        const m = attention(kind, c)!;
        const n = m.numParameters();
        m.dispose();
        return n;
      });
      expect(got).toEqual(PARAMS[kind]);
    });
  }
  it('ECA kernel size k(C): 64 → 3, 128/256/512 → 5', () => {
    expect([64, 128, 256, 512].map((c) => ecaKernelSize(c))).toEqual([3, 5, 5, 5]);
  });
  it('ESCA MACs = C·k + 18·C·H·W; CBAM counts its shared MLP twice', () => {
    const e = attention('esca', 128)!;
    expect(profile(e, [1, 128, 28, 28]).macs).toBe(128 * 5 + 18 * 128 * 28 * 28);
    const c = attention('cbam', 64)!;
    expect(profile(c, [1, 64, 28, 28]).macs).toBe(2 * 2 * 64 * 4 + 98 * 28 * 28);
    e.dispose();
    c.dispose();
  });
  it('attention("none") is null; unknown kinds are named in the error', () => {
    expect(attention('none', 64)).toBeNull();
    expect(() => attention('xyz' as AttentionKind, 64)).toThrow(/unknown kind "xyz"/);
  });
  it('shape errors name the module', () => {
    const m = attention('se', 64)!;
    expect(() => m.forward(randn([2, 32, 4, 4]))).toThrow(/SE\(64\): expected input \[N, 64, H, W\], got \[2, 32, 4, 4\]/);
    m.dispose();
  });
});
