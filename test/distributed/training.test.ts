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
  it('fused (default) and composed: equal the unsharded fused head and each other; loss, t, stats, embedding and kernel gradients (CurricularFace, ArcFace, CosFace, MV-Arc); with sampleRate 0.25 too', async () => {
    const rs = await runRanks('sharded-head.mjs', 2);
    for (const r of rs) {
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.json.heads)).toEqual(['curricularface', 'arcface', 'cosface', 'mv-arcface']);
      for (const [type, h] of Object.entries<any>(r.json.heads)) {
        expect(h.impl).toBe('fused');
        for (const impl of ['fused', 'composed']) {
          const e = h[impl];
          expect(e.loss, `${type} ${impl} loss`).toBeLessThan(1e-6);
          expect(e.gradX, `${type} ${impl} dL/dx`).toBeLessThan(1e-6);
          expect(e.gradW, `${type} ${impl} dL/dW`).toBeLessThan(1e-6);
          expect(e.stats, `${type} ${impl} stats`).toBeLessThan(1e-9);
          expect(e.t, `${type} ${impl} t`).toBeLessThan(1e-6);
        }
        for (const [k, v] of Object.entries<number>(h.fusedVsComposed)) expect(v, `${type} fused vs composed ${k}`).toBeLessThan(1e-9);
      }
      const cf = r.json.heads.curricularface;
      expect(cf.tValues[2][0]).not.toBe(0); // t moved
      expect(cf.tValues[2][1]).toBe(cf.tValues[2][2]); // stats report the buffer's t
      // sampleRate 0.25: the positives are kept; loss and gradients are the unsharded ones over the sampled columns
      for (const [type, s] of Object.entries<any>(r.json.sample)) {
        expect(s.positivesKept, type).toBe(true);
        expect(s.columns, type).toBeLessThan(40);
        expect(s.lossRel, `${type} sampled loss`).toBeLessThan(1e-9);
        expect(s.gradX, `${type} sampled dL/dx`).toBeLessThan(1e-9);
        expect(s.gradW, `${type} sampled dL/dW`).toBeLessThan(1e-9);
        expect(s.t, `${type} sampled t`).toBeLessThan(1e-9);
        for (const [k, v] of Object.entries<number>(s.fusedVsComposed)) expect(v, `${type} sampled fused vs composed ${k}`).toBeLessThan(1e-9);
      }
    }
  });
});
