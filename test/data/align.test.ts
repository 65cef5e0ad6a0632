import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE, alignmentMatrix, alignRaw, templateFor } from '../../lib/data/align.js';

const ref = JSON.parse(readFileSync(join(__dirname, '../fixtures/align_ref.json'), 'utf8')) as {
  template: number[];
  cases: { landmarks: number[]; matrix: number[] }[];
};

/** A known similarity: output = s·R·input + t. */
function similarity(s: number, theta: number, tx: number, ty: number): number[] {
  const a = s * Math.cos(theta);
  const b = s * Math.sin(theta);
  return [a, -b, tx, b, a, ty];
}
function apply(m: number[], x: number, y: number): [number, number] {
  return [m[0]! * x + m[1]! * y + m[2]!, m[3]! * x + m[4]! * y + m[5]!];
}
function invert(m: number[]): number[] {
  const det = m[0]! * m[4]! - m[1]! * m[3]!;
  const i0 = m[4]! / det, i1 = -m[1]! / det, i3 = -m[3]! / det, i4 = m[0]! / det;
  return [i0, i1, -(i0 * m[2]! + i1 * m[5]!), i3, i4, -(i3 * m[2]! + i4 * m[5]!)];
}

/** A smooth synthetic RGB image (so that bilinear sampling is meaningful). */
function synthImage(w: number, h: number): Uint8Array {
  const img = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      img[o] = Math.round(127.5 + 120 * Math.sin(x / 7.3) * Math.cos(y / 11.1));
      img[o + 1] = Math.round((255 * (x + y)) / (w + h));
      img[o + 2] = Math.round(127.5 + 120 * Math.cos((x - 2 * y) / 9.7));
    }
  return img;
}

/** Independent float64 reference: inverse map, bilinear, out-of-image neighbours count as 0. */
function referenceWarp(img: Uint8Array, w: number, h: number, m: number[], size: number): Float64Array {
  const inv = invert(m);
  const out = new Float64Array(size * size * 3);
  const px = (x: number, y: number, c: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : img[(y * w + x) * 3 + c]!);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const [sx, sy] = apply(inv, x, y);
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const ax = sx - x0, ay = sy - y0;
      for (let c = 0; c < 3; c++) {
        out[(y * size + x) * 3 + c] =
          (1 - ax) * (1 - ay) * px(x0, y0, c) + ax * (1 - ay) * px(x0 + 1, y0, c) + (1 - ax) * ay * px(x0, y0 + 1, c) + ax * ay * px(x0 + 1, y0 + 1, c);
      }
    }
  return out;
}

describe('align: similarity transform', () => {
  it('recovers a known similarity exactly and puts the landmarks on the template', () => {
    const truth = similarity(0.62, 0.35, -20.5, 14.25);
    const inv = invert(truth);
    const lm: number[] = [];
    for (let i = 0; i < 5; i++) lm.push(...apply(inv, ARCFACE_TEMPLATE[2 * i]!, ARCFACE_TEMPLATE[2 * i + 1]!));
    const m = alignmentMatrix(lm);
    m.forEach((v, i) => expect(v).toBeCloseTo(truth[i]!, 9));
    for (let i = 0; i < 5; i++) {
      const [x, y] = apply(m, lm[2 * i]!, lm[2 * i + 1]!);
      expect(x).toBeCloseTo(ARCFACE_TEMPLATE[2 * i]!, 9);
      expect(y).toBeCloseTo(ARCFACE_TEMPLATE[2 * i + 1]!, 9);
    }
  });

  it('equals the Umeyama SVD estimate (numpy fixture) for noisy and mirrored landmarks', () => {
    expect(ref.template).toEqual([...ARCFACE_TEMPLATE]);
    for (const c of ref.cases) {
      const m = alignmentMatrix(c.landmarks);
      m.forEach((v, i) => expect(v).toBeCloseTo(c.matrix[i]!, 9));
    }
  });

  it('accepts five [x, y] pairs and scales the template for other sizes as insightface', () => {
    const pairs = [0, 1, 2, 3, 4].map((i) => [ARCFACE_TEMPLATE[2 * i]!, ARCFACE_TEMPLATE[2 * i + 1]!] as [number, number]);
    const m = alignmentMatrix(pairs);
    [1, 0, 0, 0, 1, 0].forEach((v, i) => expect(m[i]).toBeCloseTo(v, 12));
    expect(templateFor(224)[0]).toBeCloseTo(2 * 38.2946, 12);
    expect(templateFor(128)[0]).toBeCloseTo(38.2946 + 8, 12);
  });

  it('rejects bad landmarks with clear errors', () => {
    expect(() => alignmentMatrix([1, 2, 3])).toThrow(/landmarks must be 5 points/);
    expect(() => alignmentMatrix([5, 5, 5, 5, 5, 5, 5, 5, 5, 5])).toThrow(/all lie on one point/);
    expect(() => alignmentMatrix([1, 2, 3, 4, 5, 6, 7, 8, 9, NaN])).toThrow(/landmarks must be 5 points/);
  });
});

describe('align: warp', () => {
  const W = 240;
  const H = 200;
  const img = synthImage(W, H);

  it('matches a float64 bilinear reference warp (constant-0 border) to within rounding', () => {
    const truth = similarity(0.55, -0.4, 30, 95); // part of the output falls outside the image
    const inv = invert(truth);
    const lm: number[] = [];
    for (let i = 0; i < 5; i++) lm.push(...apply(inv, ARCFACE_TEMPLATE[2 * i]!, ARCFACE_TEMPLATE[2 * i + 1]!));
    const face = alignRaw({ data: img, width: W, height: H }, lm);
    expect([face.width, face.height, face.channels, face.data.length]).toEqual([112, 112, 3, 112 * 112 * 3]);
    const want = referenceWarp(img, W, H, face.matrix, 112);
    let maxDiff = 0;
    let zeros = 0;
    for (let i = 0; i < want.length; i++) {
      const r = Math.min(255, Math.max(0, Math.round(want[i]!)));
      // rounding may differ only where the exact value sits at .5 within float error
      if (face.data[i] !== r) expect(Math.abs(want[i]! - Math.floor(want[i]!) - 0.5)).toBeLessThan(1e-6);
      maxDiff = Math.max(maxDiff, Math.abs(face.data[i]! - want[i]!));
      if (want[i] === 0) zeros++;
    }
    expect(maxDiff).toBeLessThanOrEqual(0.5 + 1e-6);
    expect(zeros).toBeGreaterThan(100); // the border case was exercised
  });

  it('moves bright spots at the landmarks onto the template points', () => {
    // a face twice the template size, rotated by 0.5 rad, centred at (100, 110)
    const inv = similarity(2, 0.5, 0, 0);
    const lm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [x, y] = apply(inv, ARCFACE_TEMPLATE[2 * i]! - 56, ARCFACE_TEMPLATE[2 * i + 1]! - 72);
      lm.push(x + 100, y + 110);
    }
    const w = 200;
    const h = 220;
    const dots = new Uint8Array(w * h); // one channel: Gaussian blobs (σ = 3 px) at the landmarks
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (let i = 0; i < 5; i++) v += Math.exp(-((x - lm[2 * i]!) ** 2 + (y - lm[2 * i + 1]!) ** 2) / 18);
        dots[y * w + x] = Math.round(255 * Math.min(1, v));
      }
    const face = alignRaw({ data: dots, width: w, height: h, channels: 1 }, lm);
    for (let i = 0; i < 5; i++) {
      const tx = ARCFACE_TEMPLATE[2 * i]!;
      const ty = ARCFACE_TEMPLATE[2 * i + 1]!;
      let s = 0, sx = 0, sy = 0;
      for (let y = Math.floor(ty) - 6; y <= Math.ceil(ty) + 6; y++)
        for (let x = Math.floor(tx) - 6; x <= Math.ceil(tx) + 6; x++) {
          const v = face.data[y * 112 + x]!;
          s += v;
          sx += v * x;
          sy += v * y;
        }
      expect(Math.abs(sx / s - tx)).toBeLessThan(0.15);
      expect(Math.abs(sy / s - ty)).toBeLessThan(0.15);
    }
  });

  it('checks the image buffer size', () => {
    expect(() => alignRaw({ data: new Uint8Array(10), width: 4, height: 4 }, ARCFACE_TEMPLATE)).toThrow(/data has 10 bytes but a 4×4×3 image needs 48/);
  });
});

describe('align: encoded input', () => {
  it('decodes PNG bytes and gives the same face as the raw pixels', async () => {
    const { encodePng } = await import('../../lib/data/codec.js');
    const { align } = await import('../../lib/data/align.js');
    const img = synthImage(160, 150);
    const lm = [60, 60, 100, 58, 80, 85, 64, 110, 98, 108];
    const a = align(encodePng(img, 160, 150), lm);
    const b = align({ data: img, width: 160, height: 150 }, lm);
    expect(a.data.equals(b.data)).toBe(true);
    expect(() => align(Buffer.from('not an image'), lm)).toThrow();
  });
});
