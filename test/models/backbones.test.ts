import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualSeed, memory, noGrad, randn, scope, zeros } from '../../lib/index.js';
import { ATTENTION_KINDS, Attention, BatchNorm, Conv2d, Linear, weightDecayGroups, type AttentionKind } from '../../lib/nn/index.js';
import { backbone, backboneSpec, buildBackbone, parseBackboneSpec, type Arch } from '../../lib/models/index.js';
import { checkStats, fillModule, inputOf, type Stats } from './helpers.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/models/backbones.json', import.meta.url), 'utf8')) as {
  keys: Record<string, [string, number[]][]>;
  eval: Record<string, Stats & { batch: number }>;
};

// Parameters and MACs of every backbone × attention row (112×112, batch-1 MACs, 512-d output), as
// measured on the reference PyTorch modules.
const TABLE: [Arch, AttentionKind, number, number][] = [
  ['mobilefacenet', 'none', 1_200_512, 221_161_984],
  ['mobilefacenet', 'esca', 1_229_377, 229_184_960],
  ['mobilefacenet', 'eca', 1_200_577, 221_169_344],
  ['mobilefacenet', 'se', 1_223_552, 221_185_024],
  ['mobilefacenet', 'cbam', 1_226_752, 221_741_086],
  ['ir18', 'none', 24_016_512, 2_597_109_760],
  ['ir34', 'none', 34_126_528, 4_446_797_824],
  ['ir50', 'none', 43_573_952, 6_296_485_888],
  ['ir50', 'esca', 43_678_898, 6_328_577_088],
  ['ir50', 'eca', 43_574_066, 6_296_514_624],
  ['ir50', 'se', 43_796_672, 6_296_708_608],
  ['ir50', 'cbam', 43_805_260, 6_298_443_958],
  ['ir101', 'none', 65_128_768, 12_076_761_088],
  ['ir101', 'esca', 65_328_303, 12_139_586_240],
  ['ir101', 'eca', 65_129_007, 12_076_816_064],
  ['ir101', 'se', 65_500_992, 12_077_133_312],
  ['ir101', 'cbam', 65_517_656, 12_080_016_982],
  ['ir101', 'bam', 65_916_597, 12_160_944_480],
  ['ir101', 'sk', 67_914_112, 12_431_865_856],
  ['ir101', 'sge', 65_135_040, 12_076_761_088],
  ['ir152', 'none', 70_736_576, 12_307_972_096],
];

describe('parameters and MACs of every row', () => {
  for (const [arch, att, params, macs] of TABLE) {
    it(`${arch} + ${att}: ${params} params, ${macs} MACs`, () => {
      // PyTorch-default init: the counts do not depend on it and it is cheaper to build
      const m = buildBackbone({ ...backboneSpec({ arch, attention: att }), init: 'pytorch-default' });
      expect(m.numParameters()).toBe(params);
      const p = m.profile();
      expect(p.macs).toBe(macs);
      expect(p.params).toBe(params);
      expect(p.outputShape).toEqual([1, 512]);
      m.dispose();
    });
  }
  it('attention module counts: 15 in MobileFaceNet, 24 in IR_50, 49 in IR_101', () => {
    for (const [arch, n] of [['mobilefacenet', 15], ['ir50', 24], ['ir101', 49]] as const) {
      const m = buildBackbone({ ...backboneSpec({ arch, attention: 'eca' }), init: 'pytorch-default' });
      expect(m.modules().filter((x) => x instanceof Attention).length).toBe(n);
      m.dispose();
    }
  });
});

describe('state_dict names and shapes equal the reference layouts', () => {
  for (const [name, arch, att] of [
    ['ir50-esca', 'ir50', 'esca'],
    ['ir18-se', 'ir18', 'se'],
    ['mobilefacenet-esca', 'mobilefacenet', 'esca'],
  ] as const) {
    it(name, () => {
      const m = buildBackbone({ ...backboneSpec({ arch, attention: att }), init: 'pytorch-default' });
      expect([...m.stateDict()].map(([k, t]) => [k, t.shape])).toEqual(fixture.keys[name]);
      m.dispose();
    });
  }
  it('spot checks: IR attention at res_layer.5, shortcut forms, output layer, int64 counters', () => {
    const m = buildBackbone({ ...backboneSpec({ arch: 'ir50', attention: 'esca' }), init: 'pytorch-default' });
    const sd = m.stateDict();
    expect(sd.get('body.0.res_layer.5.ca.conv.weight')!.shape).toEqual([1, 1, 3]);
    expect(sd.get('body.3.res_layer.5.sa.conv.weight')!.shape).toEqual([1, 256, 3, 3]);
    expect(sd.get('body.23.res_layer.5.ca.conv.weight')!.shape).toEqual([1, 1, 5]);
    expect(sd.has('body.0.shortcut_layer.0.weight')).toBe(false); // MaxPool(1, 2) shortcut
    expect(sd.get('body.3.shortcut_layer.0.weight')!.shape).toEqual([128, 64, 1, 1]);
    expect(sd.get('output_layer.3.weight')!.shape).toEqual([512, 25088]);
    expect(sd.has('output_layer.4.weight')).toBe(false); // BatchNorm1d(affine = False)
    expect(sd.get('output_layer.4.num_batches_tracked')!.dtype).toBe('int64');
    m.dispose();
  });
});

describe('forward', () => {
  // one test per network (and below per attention kind): each full-size forward takes seconds,
  // and the loops over them came near the test timeout on a loaded machine
  it.each([
    ['mobilefacenet-esca', 'mobilefacenet'],
    ['ir18-esca', 'ir18'],
  ] as const)('%s equals the independent PyTorch reference (eval, float64)', (name, arch) => {
    const ref = fixture.eval[name]!;
    const m = buildBackbone({ ...backboneSpec({ arch, attention: 'esca' }), init: 'pytorch-default' });
    m.to('float64');
    fillModule(m);
    m.eval();
    scope(() => {
      const y = noGrad(() => m.forward(inputOf([ref.batch, 3, 112, 112])));
      expect(y.shape).toEqual([ref.batch, 512]);
      checkStats(y, ref, 1e-9);
    });
    m.dispose();
  });

  it.each([...ATTENTION_KINDS])('MobileFaceNet + %s attention: [2,3,112,112] → [2,512] in train and eval mode', (att) => {
    manualSeed(1);
    const m = backbone({ arch: 'mobilefacenet', attention: att });
    scope(() => {
      const x = randn([2, 3, 112, 112]);
      expect(noGrad(() => m.forward(x)).shape).toEqual([2, 512]);
      m.eval();
      const ye = noGrad(() => m.forward(x));
      expect(ye.shape).toEqual([2, 512]);
      expect(ye.isfinite().all().item()).toBe(1);
    });
    m.dispose();
  });

  it('every attention kind in a small IR: backward reaches every parameter and nothing leaks', () => {
    manualSeed(2);
    for (const att of ATTENTION_KINDS) {
      const spec = {
        ...backboneSpec({ arch: 'ir18', attention: att }),
        inputSize: 16,
        stages: [
          { channels: 64, blocks: 1, stride: 2 },
          { channels: 128, blocks: 2, stride: 2 },
        ],
        head: { dropout: 0.4, embeddingSize: 32, bnAffine: false },
      };
      const m = buildBackbone(spec);
      const before = memory().tensors;
      scope(() => {
        const y = m.forward(randn([3, 3, 16, 16]));
        y.square().mean().backward();
        const missing = m.namedParameters().filter(([, p]) => p.grad === null).map(([n]) => n);
        expect(missing).toEqual([]);
      });
      expect(memory().tensors).toBe(before);
      m.zeroGrad();
      m.dispose();
    }
  });

  it('IR_50 + ESCA: [2,3,112,112] → [2,512] in train mode, then eval', () => {
    const m = backbone({ arch: 'ir50', attention: 'esca' });
    scope(() => {
      const x = randn([2, 3, 112, 112]);
      const y = noGrad(() => m.forward(x));
      expect(y.shape).toEqual([2, 512]);
      m.eval();
      expect(noGrad(() => m.forward(x)).shape).toEqual([2, 512]);
    });
    m.dispose();
  });

  it('rejects a wrong input shape with the expected shape in the message', () => {
    const m = backbone({ arch: 'mobilefacenet' });
    expect(() => m.forward(zeros([1, 3, 96, 96]))).toThrow(/mobilefacenet: expected input \[N, 3, 112, 112\], got \[1, 3, 96, 96\]/);
    m.dispose();
  });
});

describe('initialisation (CurricularFace\'s Kaiming loop; attention convs keep their own)', () => {
  it('IR: kaiming fan_out for backbone convs and the Linear; BN 1/0; ESCA convs keep PyTorch defaults', () => {
    manualSeed(3);
    const m = backbone({ arch: 'ir18', attention: 'esca' });
    const sd = m.stateDict();
    const std = (k: string) => sd.get(k)!.std().item();
    expect(std('body.4.res_layer.1.weight')).toBeCloseTo(Math.sqrt(2 / (256 * 9)), 3);
    expect(std('output_layer.3.weight')).toBeCloseTo(Math.sqrt(2 / 512), 3);
    expect(sd.get('output_layer.3.bias')!.abs().max().item()).toBe(0);
    expect(sd.get('body.2.res_layer.0.weight')!.min().item()).toBe(1);
    // SA conv: U(−1/√(18C), 1/√(18C)), C = 128 here; kaiming fan_out would give std 0.47
    const sa = sd.get('body.2.res_layer.5.sa.conv.weight')!;
    const b = 1 / Math.sqrt(18 * 128);
    expect(sa.abs().max().item()).toBeLessThanOrEqual(b);
    expect(sa.std().item()).toBeCloseTo(b / Math.sqrt(3), 3);
    const ca = sd.get('body.2.res_layer.5.ca.conv.weight')!;
    expect(ca.abs().max().item()).toBeLessThanOrEqual(1 / Math.sqrt(5));
    m.dispose();
  });
  it('CBAM spatial-gate BN scale starts at 0; SE convs get the kaiming loop', () => {
    const c = backbone({ arch: 'mobilefacenet', attention: 'cbam' });
    expect(c.stateDict().get('conv_23.attention.SpatialGate.spatial.bn.weight')!.item()).toBe(0);
    c.dispose();
  });
});

describe('weight-decay groups (docs/decisions/train.md T5)', () => {
  it('IR_18 + CBAM: BN affine params (attention BN included) without decay, the rest with; each exactly once', () => {
    const m = buildBackbone({ ...backboneSpec({ arch: 'ir18', attention: 'cbam' }), init: 'pytorch-default' });
    const g = weightDecayGroups(m);
    const all = m.namedParameters().map(([n]) => n);
    expect([...g.decayNames, ...g.noDecayNames].sort()).toEqual([...all].sort());
    const owner = new Map<string, unknown>();
    for (const [prefix, mod] of m.namedModules()) for (const [n] of mod.namedParameters(false)) owner.set(prefix ? `${prefix}.${n}` : n, mod);
    for (const n of g.noDecayNames) expect(owner.get(n)).toBeInstanceOf(BatchNorm);
    for (const n of g.decayNames) expect(owner.get(n)).not.toBeInstanceOf(BatchNorm);
    expect(g.decayNames).toContain('input_layer.2.weight'); // PReLU
    expect(g.decayNames).toContain('output_layer.3.bias'); // Linear bias
    expect(g.decayNames).toContain('body.0.res_layer.5.ChannelGate.mlp.1.weight');
    expect(g.noDecayNames).toContain('body.0.res_layer.5.SpatialGate.spatial.bn.weight');
    expect(owner.get('body.0.res_layer.1.weight')).toBeInstanceOf(Conv2d);
    expect(owner.get('output_layer.3.weight')).toBeInstanceOf(Linear);
    m.dispose();
  });
});

describe('specs', () => {
  it('presets are plain JSON that round-trips through parseBackboneSpec and builds the same model', () => {
    const spec = backboneSpec({ arch: 'mobilefacenet', attention: 'eca', embeddingSize: 128 });
    const again = parseBackboneSpec(JSON.parse(JSON.stringify(spec)));
    expect(again).toEqual(spec);
    const m = buildBackbone(again);
    expect(m.profile().outputShape).toEqual([1, 128]);
    m.dispose();
  });
  it('a user-written IR variant (narrower, 2 stages) builds and traces', () => {
    const m = buildBackbone({
      block: 'ir',
      name: 'tiny',
      inputChannels: 3,
      inputSize: 32,
      stem: { channels: 8 },
      stages: [
        { channels: 8, blocks: 1, stride: 2 },
        { channels: 16, blocks: 2, stride: 2 },
      ],
      head: { dropout: 0, embeddingSize: 10, bnAffine: true },
      attention: 'esca',
      init: 'kaiming',
    });
    const y = scope(() => m.forward(randn([2, 3, 32, 32])));
    expect(y.shape).toEqual([2, 10]);
    expect(m.profile().outputShape).toEqual([1, 10]);
    m.dispose();
  });
  it('invalid specs name the field', () => {
    expect(() => parseBackboneSpec({ ...backboneSpec({ arch: 'ir18' }), attention: 'foo' })).toThrow(/attention/);
    expect(() => parseBackboneSpec({ ...backboneSpec({ arch: 'ir18' }), stages: [{ channels: 0, blocks: 1, stride: 2 }] })).toThrow(/stages\.0\.channels/);
    expect(() => backbone({ arch: 'ir99' as Arch })).toThrow(/unknown arch "ir99"/);
  });
});
