/** Synthetic datasets for the data tests: every pixel encodes (sample, label, x). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { data } from '../../lib/index.js';

export const H = 6;
export const W = 8;

/** RGB of sample i: R = i, G = 40·label + y, B = 20·x (so a flip reverses B along x). */
export function sampleRgb(i: number, label: number): Buffer {
  const b = Buffer.alloc(H * W * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      b[o] = i;
      b[o + 1] = 40 * label + y;
      b[o + 2] = 20 * x;
    }
  }
  return b;
}

/** Labels of `sizes.length` identities with sizes[c] images each, grouped. */
export function groupedLabels(sizes: number[]): number[] {
  return sizes.flatMap((n, c) => Array.from({ length: n }, () => c));
}

/** Writes the samples as lossless PNGs into a RecordIO pack and an image folder. */
export async function makeDatasets(dir: string, sizes: number[]): Promise<{ rec: string; folder: string; labels: number[] }> {
  const labels = groupedLabels(sizes);
  const pngs = labels.map((l, i) => data.encodePng(sampleRgb(i, l), W, H));
  const rec = join(dir, 'rec');
  await data.writeRecordIO(rec, labels.map((label, i) => ({ label, image: pngs[i]! })));
  const folder = join(dir, 'folder');
  labels.forEach((l, i) => {
    const d = join(folder, `id${String(l).padStart(3, '0')}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `img${String(i).padStart(4, '0')}.png`), pngs[i]!);
  });
  return { rec, folder, labels };
}

/** Reads one image of a [B,3,H,W] float batch back into (sample index, label, flipped). */
export function inspect(flat: Float32Array, row: number): { index: number; label: number; flipped: boolean; exact: boolean } {
  const plane = H * W;
  const base = row * 3 * plane;
  const px = (c: number, y: number, x: number): number => Math.round(((flat[base + c * plane + y * W + x]! * 0.5 + 0.5) * 255));
  const index = px(0, 0, 0);
  const label = Math.round(px(1, 0, 0) / 40);
  const flipped = px(2, 0, 0) === 20 * (W - 1);
  let exact = true;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const xs = flipped ? W - 1 - x : x;
        const v = c === 0 ? index : c === 1 ? 40 * label + y : 20 * xs;
        const want = (v / 255 - 0.5) / 0.5;
        if (Math.abs(flat[base + c * plane + y * W + x]! - want) > 1e-6) exact = false;
      }
    }
  }
  return { index, label, flipped, exact };
}
