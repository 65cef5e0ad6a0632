import { describe, expect, it } from 'vitest';
import { drawSample, drawWild, hashSeed, identitySeed, makeIdentity, renderFace, renderTemplate, Rng } from '../../lib/data/synth.js';
import { synthKey, synthParams } from '../../lib/data/synth-files.js';

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe('synthetic faces', () => {
  it('are deterministic from the seed and differ across seeds, identities and samples', () => {
    const a = renderFace(7, 'train', 3, 5, 32);
    expect(renderFace(7, 'train', 3, 5, 32)).toEqual(a);
    expect(a.length).toBe(32 * 32 * 3);
    expect(meanAbsDiff(a, renderFace(8, 'train', 3, 5, 32))).toBeGreaterThan(1);
    expect(meanAbsDiff(a, renderFace(7, 'train', 4, 5, 32))).toBeGreaterThan(1);
    expect(meanAbsDiff(a, renderFace(7, 'train', 3, 6, 32))).toBeGreaterThan(1);
  });

  it('keep training and validation identities disjoint', () => {
    const train = new Set(Array.from({ length: 500 }, (_, i) => identitySeed(1, 'train', i)));
    for (let i = 0; i < 500; i++) expect(train.has(identitySeed(1, 'val', i))).toBe(false);
    expect(JSON.stringify(makeIdentity(identitySeed(1, 'val', 0)))).not.toBe(JSON.stringify(makeIdentity(identitySeed(1, 'train', 0))));
  });

  it('span easy and hard samples: difficulty scales pose, blur, noise and occlusion', () => {
    const r = new Rng(hashSeed(3));
    const ds = Array.from({ length: 2000 }, () => drawSample(r));
    const easy = ds.filter((d) => d.difficulty < 0.2);
    const hard = ds.filter((d) => d.difficulty > 0.8);
    expect(easy.length).toBeGreaterThan(200);
    expect(hard.length).toBeGreaterThan(100);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(hard.map((d) => Math.abs(d.rotation)))).toBeGreaterThan(2 * mean(easy.map((d) => Math.abs(d.rotation))));
    expect(mean(hard.map((d) => d.blur))).toBeGreaterThan(mean(easy.map((d) => d.blur)) + 0.5);
    expect(mean(hard.map((d) => d.noise))).toBeGreaterThan(2 * mean(easy.map((d) => d.noise)));
    expect(mean(hard.map((d) => (d.occlusion ? 1 : 0)))).toBeGreaterThan(3 * mean(easy.map((d) => (d.occlusion ? 1 : 0))));
  });

  it('make same-identity images closer than different-identity ones (the task is learnable), in pixels', () => {
    // easy samples of one identity resemble each other more than easy samples of two identities
    let same = 0;
    let diff = 0;
    const n = 40;
    for (let i = 0; i < n; i++) {
      const t1 = renderTemplate(makeIdentity(identitySeed(9, 'train', i)), 40);
      const t2 = renderTemplate(makeIdentity(identitySeed(9, 'train', i + n)), 40);
      const a = renderFace(9, 'train', i, 0, 32, { template: t1, difficulty: 0 });
      const b = renderFace(9, 'train', i, 1, 32, { template: t1, difficulty: 0 });
      const c = renderFace(9, 'train', i + n, 0, 32, { template: t2, difficulty: 0 });
      same += meanAbsDiff(a, b);
      diff += meanAbsDiff(a, c);
    }
    expect(same).toBeLessThan(diff);
  });

  describe("the 'wild' variant", () => {
    it('leaves the plain images and the plain cache key exactly as they are', () => {
      for (const [split, i, k, d] of [['train', 0, 0, undefined], ['val', 5, 3, 0.85], ['train', 9, 17, 0.2]] as const) {
        expect(renderFace(4, split, i, k, 32, { variant: 'plain', difficulty: d })).toEqual(renderFace(4, split, i, k, 32, { difficulty: d }));
      }
      expect(synthParams({ variant: 'plain' })).toEqual(synthParams({}));
      expect(synthKey({ variant: 'plain' })).toBe(synthKey({}));
      expect(synthKey({ variant: 'wild' })).not.toBe(synthKey({}));
      expect(() => synthParams({ variant: 'noisy' as 'wild' })).toThrow(/variant must be one of plain, wild \(got noisy\)/);
    });

    it('is deterministic, and changes every image (clutter, occluders, misalignment, pose)', () => {
      const a = renderFace(7, 'train', 3, 5, 32, { variant: 'wild' });
      expect(renderFace(7, 'train', 3, 5, 32, { variant: 'wild' })).toEqual(a);
      for (let k = 0; k < 10; k++) expect(meanAbsDiff(renderFace(7, 'val', 2, k, 32, { variant: 'wild' }), renderFace(7, 'val', 2, k, 32))).toBeGreaterThan(1);
    });

    it('draws what its comment promises: 6–14 clutter shapes, occluders in ~60 % of samples (a third skin-toned), yaw up to ±0.5', () => {
      const r = new Rng(hashSeed(11));
      const ws = Array.from({ length: 3000 }, () => drawWild(r));
      for (const w of ws) {
        expect(w.clutter.length).toBeGreaterThanOrEqual(6);
        expect(w.clutter.length).toBeLessThanOrEqual(14);
        expect(Math.abs(w.squeeze)).toBeLessThanOrEqual(0.5);
        expect(w.occluders.length).toBeLessThanOrEqual(2);
      }
      const occluded = ws.filter((w) => w.occluders.length > 0).length / ws.length;
      expect(occluded).toBeGreaterThan(0.55);
      expect(occluded).toBeLessThan(0.65);
      // a skin tone has R > G > B (makeIdentity's recipe)
      const occ = ws.flatMap((w) => w.occluders);
      const skin = occ.filter((o) => o.kind === 'ellipse' && o.color[0] >= o.color[1] && o.color[1] >= o.color[2]).length / occ.length;
      expect(skin).toBeGreaterThan(0.3);
      const sd = Math.sqrt(ws.reduce((a, w) => a + (w.shiftY * w.shiftY), 0) / ws.length);
      expect(sd).toBeGreaterThan(0.07);
      expect(sd).toBeLessThan(0.09);
    });
  });
});
