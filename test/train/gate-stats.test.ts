import { describe, expect, it } from 'vitest';
import { models } from '../../lib/index.js';
import { ESCA, escaBlocks } from '../../lib/nn/attention/esca.js';
import { eca, esca } from '../../lib/ops/esca.js';
import { manualSeed, noGrad, randn, scope, type Tensor } from '../../lib/tensor/index.js';
import { formatGateStats, GateStatsCollector, saturatedGates, type GateSummary } from '../../lib/train/gate-stats.js';

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return scope(() => a.sub(b).abs().max().item());
}

/** mean / share < 0.01 / share > 0.99 in float64 over the values (the reference). */
function summary(values: ArrayLike<number>): GateSummary {
  let s = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    s += v;
    if (v < 0.01) lo++;
    if (v > 0.99) hi++;
  }
  return { mean: s / values.length, low: lo / values.length, high: hi / values.length };
}

describe('ESCA gates', () => {
  it('are the gates the fused native op applies: x·channel = eca(x), y·spatial = esca(x)', () => {
    manualSeed(3);
    const m = new ESCA(32);
    const x = randn([3, 32, 9, 7]).mul_(2);
    scope(() => {
      const g = m.gates(x);
      expect(g.channel.shape).toEqual([3, 32]);
      expect(g.spatial.shape).toEqual([3, 1, 9, 7]);
      const y = x.mul(g.channel.view(3, 32, 1, 1));
      noGrad(() => {
        expect(maxAbsDiff(y, eca(x, m.ca.conv.weight))).toBeLessThan(1e-5);
        expect(maxAbsDiff(y.mul(g.spatial), esca(x, m.ca.conv.weight, m.sa.conv.weight))).toBeLessThan(1e-5);
      });
    });
    x.dispose();
    m.dispose();
  });

  it('a probe sees them; the output and gradients are the same with or without it', () => {
    manualSeed(4);
    const m = new ESCA(16);
    const x = randn([2, 16, 5, 5]);
    const run = () =>
      scope(() => {
        m.zeroGrad();
        const out = m.forward(x);
        out.square().sum().backward();
        return { out: out.detach(), grad: m.sa.conv.weight.grad!.clone() };
      });
    const plain = run();
    let seen: number[] = [];
    m.probe = (block, g) => {
      expect(block).toBe(m);
      seen = [...g.channel.shape, ...g.spatial.shape];
    };
    const probed = run();
    m.probe = null;
    expect(seen).toEqual([2, 16, 2, 1, 5, 5]);
    expect(maxAbsDiff(plain.out, probed.out)).toBe(0);
    expect(maxAbsDiff(plain.grad, probed.grad)).toBe(0);
    for (const t of [plain.out, plain.grad, probed.out, probed.grad, x]) t.dispose();
    m.dispose();
  });
});

describe('GateStatsCollector', () => {
  it('reports mean σ and the shares below 0.01 / above 0.99 per block, in network order', () => {
    manualSeed(5);
    const net = models.buildBackbone({ ...models.backboneSpec({ arch: 'mobilefacenet', attention: 'esca', embeddingSize: 16 }), inputSize: 32 });
    net.eval();
    // zero convs give gates of exactly 0.5 (a known answer beside the probe reference)
    noGrad(() => {
      escaBlocks(net)[2]!.module.sa.conv.weight.fill_(0);
      escaBlocks(net)[5]!.module.ca.conv.weight.fill_(0);
    });
    const blocks = escaBlocks(net);
    expect(blocks.map((b) => b.block).slice(0, 3)).toEqual(['conv_23', 'conv_3.model.0', 'conv_3.model.1']);
    // reference: each block's gates captured by a probe of our own, summarised in float64
    const ref = new Map<string, { channel: GateSummary; spatial: GateSummary }>();
    for (const b of blocks) {
      b.module.probe = (_m, g) => ref.set(b.block, { channel: summary(g.channel.toTypedArray()), spatial: summary(g.spatial.toTypedArray()) });
    }
    const x = randn([4, 3, 32, 32]);
    scope(() => noGrad(() => net.forward(x)));
    for (const b of blocks) b.module.probe = null;

    const collector = new GateStatsCollector(net);
    expect(collector.size).toBe(15);
    const { stats } = collector.collect(() => scope(() => noGrad(() => net.forward(x).sum().item())));
    expect(stats.map((s) => s.block)).toEqual(blocks.map((b) => b.block));
    for (const s of stats) {
      const r = ref.get(s.block)!;
      for (const k of ['channel', 'spatial'] as const) {
        expect(s[k].mean).toBeCloseTo(r[k].mean, 5);
        expect(s[k].low).toBeCloseTo(r[k].low, 6);
        expect(s[k].high).toBeCloseTo(r[k].high, 6);
      }
    }
    expect(stats[5]!.channel).toEqual({ mean: 0.5, low: 0, high: 0 });
    expect(stats[2]!.spatial).toEqual({ mean: 0.5, low: 0, high: 0 });
    expect(stats.some((s) => s.spatial.mean !== 0.5)).toBe(true);
    // probes are removed afterwards, also when the function throws
    expect(blocks.every((b) => b.module.probe === null)).toBe(true);
    expect(() => collector.collect(() => {
      net.forward(x);
      throw new Error('boom');
    })).toThrow('boom');
    expect(blocks.every((b) => b.module.probe === null)).toBe(true);
    x.dispose();
    net.dispose();
  });

  it('names saturated gates and formats one log line', () => {
    const g = (mean: number, low: number, high: number) => ({ mean, low, high });
    const stats = [
      { block: 'a', channel: g(0.5, 0, 0), spatial: g(0.98, 0, 0.8) },
      { block: 'b', channel: g(0.004, 0.9, 0), spatial: g(0.5, 0.1, 0.1) },
    ];
    expect(saturatedGates(stats)).toEqual(['a.spatial (80% > 0.99)', 'b.channel (90% < 0.01)']);
    expect(formatGateStats(stats)).toBe(
      'esca gates (2 blocks): channel σ̄ 0.004–0.500  spatial σ̄ 0.500–0.980  saturated: a.spatial (80% > 0.99), b.channel (90% < 0.01)',
    );
    expect(formatGateStats([])).toBe('esca gates: –');
  });

  it('finds nothing in networks without ESCA', () => {
    const net = models.buildBackbone({ ...models.backboneSpec({ arch: 'mobilefacenet', attention: 'eca', embeddingSize: 16 }), inputSize: 32 });
    const c = new GateStatsCollector(net);
    expect(c.size).toBe(0);
    expect(c.collect(() => 7)).toEqual({ result: 7, stats: [] });
    expect(new GateStatsCollector({}).size).toBe(0);
    net.dispose();
  });
});
