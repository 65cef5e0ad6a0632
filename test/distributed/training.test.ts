// Data parallel training and the sharded margin head against their single-process equivalents.
import { describe, expect, it } from 'vitest';
import { shardRange } from '../../lib/distributed/sharded-head.js';
import { runRanks } from './helpers.js';

describe('DataParallel (2 ranks, Gloo)', () => {
  it('2 ranks × B equal 1 process with 2B as accumulated micro-batches of B; with gradAccum 2 as well', async () => {
    const rs = await runRanks('ddp.mjs', 2);
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    const c = rs[0]!.json.cases;
    for (const k of ['accum1', 'accum2']) {
      expect(c[k].maxRel).toBeLessThan(1e-5);
      expect(c[k].buckets).toBeGreaterThan(1); // the small cap splits the model into several buckets
      // both ranks hold the same weights (rank 1 started from other ones)
      expect(rs[1]!.json.cases[k].checksum).toBeCloseTo(c[k].checksum, 9);
    }
  });
});

describe('ShardedMarginHead (2 ranks, float64)', () => {
  it('shardRange splits C with the first C mod W ranks one larger', () => {
    expect([0, 1, 2].map((r) => shardRange(11, 3, r))).toEqual([
      { start: 0, count: 4 },
      { start: 4, count: 4 },
      { start: 8, count: 3 },
    ]);
  });
  it('equals the unsharded fused head: loss, t, embedding and kernel gradients (CurricularFace, ArcFace, CosFace)', async () => {
    const rs = await runRanks('sharded-head.mjs', 2);
    for (const r of rs) {
      expect(r.code, r.stderr).toBe(0);
      for (const [type, h] of Object.entries<any>(r.json.heads)) {
        expect(h.loss, `${type} loss`).toBeLessThan(1e-6);
        expect(h.gradX, `${type} dL/dx`).toBeLessThan(1e-6);
        expect(h.gradW, `${type} dL/dW`).toBeLessThan(1e-6);
        expect(h.positiveCosine, `${type} stats`).toBeLessThan(1e-9);
      }
      const cf = r.json.heads.curricularface;
      expect(cf.t).toBeLessThan(1e-6);
      expect(cf.tValues[2][0]).not.toBe(0); // t moved
      // sampleRate 0.25: the positives are kept and the loss is the unsharded one over the sampled columns
      expect(r.json.sample.positivesKept).toBe(true);
      expect(r.json.sample.columns).toBeLessThan(40);
      expect(r.json.sample.lossRel).toBeLessThan(1e-9);
    }
  });
});
