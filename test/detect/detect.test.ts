import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, encodeJpeg } from '../../lib/data/codec.js';
import { FaceDetector, alignPhotos } from '../../lib/detect/detect.js';
import { alignmentMatrix } from '../../lib/data/align.js';
import { applyOrientation, jpegOrientation } from '../../lib/detect/exif.js';
import { pyramidScales, type Face } from '../../lib/detect/mtcnn.js';
import { tensor } from '../../lib/tensor/index.js';
import { flatJpeg, greyPng, rotateCcw, withOrientation } from './photos.js';

const astronautJpg = readFileSync(join(__dirname, '../fixtures/detect/astronaut.jpg'));
const astronaut = decode(astronautJpg);

/**
 * Established by hand on the 512×512 astronaut photo (test/fixtures/detect/README.md): zoomed crops
 * with a 5-px grid, centre of each iris, the tip of the nose, the corners of the mouth. Pixel centres.
 */
const HAND: [number, number][] = [
  [203, 101.5], // left eye (image left)
  [246.5, 102.5], // right eye
  [223, 127], // nose tip
  [203, 140], // left mouth corner (lateral end of the lip line)
  [244, 141.5], // right mouth corner
];
const TOL = 4; // pixels (the eyes are 43 px apart)

const detector = new FaceDetector();
afterAll(() => detector.dispose());

function expectNearHand(f: Face, transform = (p: [number, number]): [number, number] => p): void {
  f.landmarks.forEach((p, k) => {
    const [hx, hy] = transform(HAND[k]!);
    expect(Math.hypot(p[0] - hx, p[1] - hy), `landmark ${k}: got (${p[0].toFixed(1)}, ${p[1].toFixed(1)}), hand (${hx}, ${hy})`).toBeLessThan(TOL);
  });
}

describe('detect on real photos', () => {
  it('astronaut.png: one face, landmarks within a few pixels of the hand-marked points, box around them', async () => {
    const [r] = await detector.detect(astronautJpg);
    expect(r!.width).toBe(512);
    expect(r!.faces).toHaveLength(1);
    const f = r!.faces[0]!;
    expect(f.score).toBeGreaterThan(0.99);
    expectNearHand(f);
    const [x1, y1, x2, y2] = f.box;
    for (const [x, y] of f.landmarks) expect(x > x1 && x < x2 && y > y1 && y < y2).toBe(true);
    // the face (hairline to chin, ear to ear) is about 100 px wide here
    expect(x2 - x1).toBeGreaterThan(70);
    expect(x2 - x1).toBeLessThan(140);
  });

  it('takes paths, decoded pixels and uint8 tensors alike, batched with other photos', async () => {
    const t = tensor(astronaut.data, { shape: [512, 512, 3] });
    try {
      const small = new Uint8Array(64 * 48 * 3).fill(128);
      const rs = await detector.detect([join(__dirname, '../fixtures/detect/astronaut.jpg'), astronaut, t, { data: small, width: 64, height: 48 }]);
      expect(rs.map((r) => r.faces.length)).toEqual([1, 1, 1, 0]);
      for (const r of rs.slice(0, 3)) expectNearHand(r.faces[0]!);
    } finally {
      t.dispose();
    }
  });

  it('aligns the detected face to the 112×112 template', async () => {
    const [face] = await alignPhotos(detector, [astronautJpg]);
    expect([face!.width, face!.height, face!.data.length]).toEqual([112, 112, 112 * 112 * 3]);
    // the same alignment as from the hand-marked points: the five points land within 2.5 px of each other
    const hand = alignmentMatrix(HAND);
    const apply = (m: number[], [x, y]: [number, number]): number[] => [m[0]! * x + m[1]! * y + m[2]!, m[3]! * x + m[4]! * y + m[5]!];
    for (const p of HAND) {
      const [a, b] = [apply(face!.matrix, p), apply(hand, p)];
      expect(Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!)).toBeLessThan(2.5);
    }
    // and the eyes are level in the crop
    expect(Math.abs(apply(face!.matrix, HAND[0]!)[1]! - apply(face!.matrix, HAND[1]!)[1]!)).toBeLessThan(2);
  });

  it('grey photo (8-bit grey PNG): the same face', async () => {
    const grey = new Uint8Array(512 * 512);
    for (let i = 0; i < grey.length; i++) grey[i] = Math.round(0.299 * astronaut.data[3 * i]! + 0.587 * astronaut.data[3 * i + 1]! + 0.114 * astronaut.data[3 * i + 2]!);
    const [r] = await detector.detect(greyPng(grey, 512, 512));
    expect(r!.faces.length).toBeGreaterThanOrEqual(1);
    expectNearHand(r!.faces[0]!);
  });

  it('EXIF-rotated JPEG: detected upright, coordinates in the upright photo', async () => {
    const rot = rotateCcw(astronaut.data, 512, 512);
    const jpg = withOrientation(encodeJpeg(rot.data, rot.width, rot.height, 92), 6);
    expect(jpegOrientation(jpg)).toBe(6);
    const [r] = await detector.detect(jpg);
    expect(r!.faces).toHaveLength(1);
    expectNearHand(r!.faces[0]!);
  });
});

describe('detect on hostile and degenerate photos', () => {
  it('no face: an empty list, not an error', async () => {
    const w = 320;
    const h = 240;
    const img = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.fill((x * 3 + y) & 255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const rs = await detector.detect([{ data: img, width: w, height: h }, astronaut.data.subarray(0, 0) as never].slice(0, 1));
    expect(rs[0]!.faces).toEqual([]);
  });

  it('tiny photos (1×1, 11×11, 30×5): no face', async () => {
    const rs = await detector.detect([1, 11, 30].map((w, i) => ({ data: new Uint8Array(w * [1, 11, 5][i]! * 3).fill(90), width: w, height: [1, 11, 5][i]! })));
    expect(rs.map((r) => r.faces)).toEqual([[], [], []]);
  });

  it('a huge photo is searched at maxSide (bounded time and memory)', async () => {
    const w = 6000;
    const h = 300;
    expect(pyramidScales(w, h, 20 * (w / 2048), 0.709).length).toBeLessThan(pyramidScales(w, h, 20, 0.709).length);
    const [r] = await detector.detect({ data: new Uint8Array(w * h * 3).fill(200), width: w, height: h });
    expect(r!.faces).toEqual([]);
  });

  it('CMYK and 1-component JPEGs: decoded or a clear error naming the photo, never an abort', async () => {
    for (const jpg of [flatJpeg(4), flatJpeg(1)]) {
      const out = await detector.detect([jpg]).then(
        (r) => ({ faces: r[0]!.faces }),
        (e: Error) => ({ error: e.message }),
      );
      if ('error' in out) expect(out.error).toMatch(/^photo 0: /);
      else expect(out.faces).toEqual([]);
    }
  });

  it('unreadable inputs: errors naming the photo', async () => {
    await expect(detector.detect([astronautJpg, Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3])])).rejects.toThrow(/^photo 1: /);
    await expect(detector.detect('/nonexistent/x.jpg')).rejects.toThrow(/photo 0 \('\/nonexistent\/x.jpg'\): cannot read \(ENOENT\)/);
    await expect(detector.detect({ data: new Uint8Array(10), width: 4, height: 4 })).rejects.toThrow(/photo 0: 10 bytes, expected 4×4×3/);
    await expect(detector.detect({ data: new Uint8Array(0), width: 0, height: 4 })).rejects.toThrow('photo 0: width must be a positive integer, got 0');
    await expect(detector.detect([astronautJpg, { data: new Uint8Array(6), width: 2, height: 1.5 }])).rejects.toThrow('photo 1: height must be a positive integer, got 1.5');
    await expect(detector.detect([])).rejects.toThrow(/no photos/);
    await expect(detector.detect(astronautJpg, { minFaceSize: 3 })).rejects.toThrow(/minFaceSize/);
    await expect(alignPhotos(detector, [{ data: new Uint8Array(300 * 300 * 3), width: 300, height: 300 }])).rejects.toThrow(/no face found in 1 of 1 photos: photo 0/);
  });

  it('EXIF orientation: all eight transforms against their definitions', () => {
    const img = { data: Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.floor(i / 3)), width: 3, height: 2 };
    // pixel ids (row-major, 3 wide × 2 high): 0 1 2 / 3 4 5
    const ids = (o: number): number[][] => {
      const r = applyOrientation(img, o);
      return Array.from({ length: r.height }, (_, y) => Array.from({ length: r.width }, (_, x) => r.data[(y * r.width + x) * 3]!));
    };
    expect(ids(1)).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(ids(2)).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(ids(3)).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(ids(4)).toEqual([[3, 4, 5], [0, 1, 2]]);
    expect(ids(5)).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(ids(6)).toEqual([[3, 0], [4, 1], [5, 2]]);
    expect(ids(7)).toEqual([[5, 2], [4, 1], [3, 0]]);
    expect(ids(8)).toEqual([[2, 5], [1, 4], [0, 3]]);
    // malformed EXIF is orientation 1
    expect(jpegOrientation(withOrientation(astronautJpg, 6).subarray(0, 30))).toBe(1);
    expect(jpegOrientation(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]))).toBe(1);
  });
});
