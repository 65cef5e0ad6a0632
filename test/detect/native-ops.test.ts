import { describe, expect, it } from 'vitest';
import { Rng } from '../../lib/data/synth.js';
import { native } from '../../lib/native.js';
import { scope, tensor } from '../../lib/tensor/index.js';
import { wrap } from '../../lib/tensor/tensor.js';

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** facenet's `nms` (argsort ascending, take the last, drop overlaps > threshold), run per group. */
function referenceNms(b: number[][], s: number[], g: number[], thr: number, min: boolean): number[] {
  const out: number[] = [];
  for (const grp of [...new Set(g)].sort((x, y) => x - y)) {
    let I = s.map((_, i) => i).filter((i) => g[i] === grp).sort((x, y) => s[x]! - s[y]! || y - x);
    const area = (i: number): number => (b[i]![2]! - b[i]![0]! + 1) * (b[i]![3]! - b[i]![1]! + 1);
    while (I.length > 0) {
      const i = I[I.length - 1]!;
      out.push(i);
      I = I.slice(0, -1).filter((j) => {
        const w = Math.max(0, Math.min(b[i]![2]!, b[j]![2]!) - Math.max(b[i]![0]!, b[j]![0]!) + 1);
        const h = Math.max(0, Math.min(b[i]![3]!, b[j]![3]!) - Math.max(b[i]![1]!, b[j]![1]!) + 1);
        const inter = w * h;
        return inter / (min ? Math.min(area(i), area(j)) : area(i) + area(j) - inter) <= thr;
      });
    }
  }
  return out;
}

/** The triangle-filter resampler in float64, written from its definition. */
function referenceResample(img: Uint8Array, W: number, H: number, box: number[], oh: number, ow: number): number[] {
  const taps = (lo: number, hi: number, n: number, size: number): { idx: number; w: number }[][] => {
    const step = (hi - lo) / n;
    const sup = Math.max(step, 1);
    return Array.from({ length: n }, (_, j) => {
      const c = lo + (j + 0.5) * step - 0.5;
      const t: { idx: number; w: number }[] = [];
      for (let k = Math.floor(c - sup) - 1; k <= Math.ceil(c + sup) + 1; k++) {
        const w = Math.max(0, 1 - Math.abs(k - c) / sup);
        if (w > 0) t.push({ idx: k, w });
      }
      const sum = t.reduce((a, x) => a + x.w, 0);
      return t.map((x) => ({ idx: x.idx, w: x.w / sum })).filter((x) => size > 0);
    });
  };
  const tx = taps(box[0]!, box[2]!, ow, W);
  const ty = taps(box[1]!, box[3]!, oh, H);
  const out: number[] = [];
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let v = 0;
        for (const a of ty[i]!) for (const b of tx[j]!) if (a.idx >= 0 && a.idx < H && b.idx >= 0 && b.idx < W) v += a.w * b.w * img[(a.idx * W + b.idx) * 3 + c]!;
        out.push((v - 127.5) / 128);
      }
  return out;
}

describe('native MTCNN helpers', () => {
  it('detectNms equals the original greedy NMS (union and min, with groups)', () => {
    const r = rng(7);
    for (const min of [false, true]) {
      const n = 300;
      const boxes = Array.from({ length: n }, () => {
        const x = Math.floor(r() * 200);
        const y = Math.floor(r() * 200);
        const s = 10 + Math.floor(r() * 60);
        return [x, y, x + s, y + s * (0.8 + 0.4 * r())];
      });
      const scores = boxes.map(() => r());
      const groups = boxes.map(() => Math.floor(r() * 3));
      const got = scope(() =>
        Array.from(
          wrap(native.detectNms(tensor(boxes.flat(), { shape: [n, 4] }).handle, tensor(scores, { dtype: 'float64' }).handle, tensor(groups, { dtype: 'int64' }).handle, 0.5, min)).toTypedArray() as BigInt64Array,
          Number,
        ),
      );
      const want = referenceNms(boxes, scores.map((s) => Math.fround(s)), groups, 0.5, min);
      expect(got).toEqual(want);
      expect(got.length).toBeLessThan(n);
    }
  });

  it('detectNms rejects mismatched shapes with an error, and handles no boxes', () => {
    scope(() => {
      expect(() => native.detectNms(tensor([[0, 0, 1, 1]]).handle, tensor([1, 2]).handle, null, 0.5, false)).toThrow(/scores must be \[N\]/);
      const none = wrap(native.detectNms(tensor([], { shape: [0, 4] }).handle, tensor([], { shape: [0] }).handle, null, 0.5, false));
      expect(none.shape).toEqual([0]);
    });
  });

  it('detectResample equals the triangle filter in float64 (down-, up-scaling, boxes past the border)', () => {
    const r = rng(3);
    const W = 37;
    const H = 29;
    const img = Uint8Array.from({ length: W * H * 3 }, () => Math.floor(r() * 256));
    const cases: [number[], number, number][] = [
      [[0, 0, W, H], 12, 9],
      [[-5, 3.5, 20, 40], 24, 24],
      [[10, 10, 14, 13], 24, 24],
      [[0, 0, W, H], W, H],
    ];
    for (const [box, oh, ow] of cases) {
      const got = scope(() => Array.from(wrap(native.detectResample(img, W, H, new Float64Array(box), oh, ow)).toTypedArray() as Float32Array));
      const want = referenceResample(img, W, H, box, oh, ow);
      const err = Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
      expect(err).toBeLessThan(1e-4);
    }
    // identity: same size, whole image → the pixels themselves
    const id = scope(() => Array.from(wrap(native.detectResample(img, W, H, new Float64Array([0, 0, W, H]), H, W)).toTypedArray() as Float32Array));
    expect(id[5 * W + 7]).toBeCloseTo((img[(5 * W + 7) * 3]! - 127.5) / 128, 6);
  });

  it('detectResample rejects bad boxes and sizes with errors', () => {
    const img = new Uint8Array(4 * 4 * 3);
    expect(() => native.detectResample(img, 4, 4, new Float64Array([0, 0, 0, 4]), 2, 2)).toThrow(/box 0 is empty/);
    expect(() => native.detectResample(img, 4, 4, new Float64Array([0, 0, NaN, 4]), 2, 2)).toThrow(/not finite/);
    expect(() => native.detectResample(img, 5, 4, new Float64Array([0, 0, 2, 2]), 2, 2)).toThrow(/expected width·height·3/);
    expect(() => native.detectResample(img, 4, 4, new Float64Array([0, 0, 2, 2, 1]), 2, 2)).toThrow(/4 numbers per box/);
    expect(() => native.detectResample(img, 4, 4, new Float64Array([0, 0, 2, 2]), 0, 2)).toThrow(/output size/);
  });
});
