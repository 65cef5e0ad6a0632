import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noGrad, randn, scope } from '../../lib/index.js';
import { ATTENTION_KINDS, attention, profile, type AttentionKind } from '../../lib/nn/index.js';
import { ecaKernelSize } from '../../lib/nn/attention/eca.js';
import { checkStats, fillModule, inputOf, type Stats } from '../models/helpers.js';

interface Fixture {
  shape: number[];
  modules: Record<string, { keys: [string, number[]][]; params: number; train: Stats; eval: Stats }>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/models/attention.json', import.meta.url), 'utf8')) as Fixture;

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

// Per-module parameter counts for C = 64 / 128 / 256 / 512, from each module's reference code.
const PARAMS: Record<Exclude<AttentionKind, 'none'>, number[]> = {
  esca: [1155, 2309, 4613, 9221],
  eca: [3, 5, 5, 5],
  se: [512, 2048, 8192, 32768],
  cbam: [680, 2284, 8564, 33412],
  bam: [1173, 4457, 17361, 68513],
  sk: [8768, 22080, 62528, 198720],
  sge: [128, 128, 128, 128],
};

describe('attention parameter counts (the reference modules\' counts)', () => {
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
