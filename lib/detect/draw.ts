/**
 * Draws detections onto a copy of the photo: each box as a green rectangle, the landmarks as filled
 * squares (eyes red, nose yellow, mouth corners blue). Line width and marker size follow the photo size.
 */
import type { Face, RgbImage } from './mtcnn.js';

const GREEN = [0, 230, 64];
const LANDMARK_COLOURS = [[255, 40, 40], [255, 40, 40], [255, 220, 0], [40, 120, 255], [40, 120, 255]];

/** A copy of `img` with the faces drawn on it. */
export function drawFaces(img: RgbImage, faces: readonly Face[]): RgbImage {
  const { width: W, height: H } = img;
  const out = new Uint8Array(img.data);
  const fill = (x0: number, y0: number, x1: number, y1: number, c: number[]): void => {
    const xa = Math.max(0, Math.floor(x0));
    const ya = Math.max(0, Math.floor(y0));
    const xb = Math.min(W, Math.ceil(x1));
    const yb = Math.min(H, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const i = (y * W + x) * 3;
        out[i] = c[0]!;
        out[i + 1] = c[1]!;
        out[i + 2] = c[2]!;
      }
    }
  };
  const t = Math.max(1, Math.round(Math.max(W, H) / 400));
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    fill(x1 - t, y1 - t, x2 + t, y1, GREEN);
    fill(x1 - t, y2, x2 + t, y2 + t, GREEN);
    fill(x1 - t, y1, x1, y2, GREEN);
    fill(x2, y1, x2 + t, y2, GREEN);
    const r = Math.max(1.5, (x2 - x1) / 40);
    f.landmarks.forEach(([x, y], k) => fill(x + 0.5 - r, y + 0.5 - r, x + 0.5 + r, y + 0.5 + r, LANDMARK_COLOURS[k]!));
  }
  return { data: out, width: W, height: H };
}
