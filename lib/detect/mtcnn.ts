/**
 * The MTCNN cascade over decoded photos, batched: the original algorithm (Zhang et al. 2016) with the
 * conventions of its reference implementations (kpzhang93's MATLAB code as ported by facenet's
 * `detect_face`), so that boxes and landmarks land where the original puts them.
 *
 * 1. Pyramid: scales m·0.709^k with m = 12/minFaceSize while min(h, w)·scale ≥ 12; each photo is
 *    resampled natively (antialiased) to ⌈h·s⌉×⌈w·s⌉. Photos of equal size run through P-Net as one
 *    batch per scale. Cells with p ≥ 0.6 become boxes; NMS 0.5 per photo and scale, then NMS 0.7 per
 *    photo (one native call each for all photos and scales), box regression, squared boxes.
 * 2. R-Net on 24×24 crops of all candidates of all photos in one batch: p > 0.7, NMS 0.7, regression.
 * 3. O-Net on 48×48 crops: p > 0.7; five landmarks; regression; NMS 0.7 over the smaller area.
 *
 * Internally boxes are the original's 1-based inclusive pixel boxes; results are converted to
 * 0-based continuous coordinates (pixel k covers [k, k+1)), landmarks to pixel-centre coordinates.
 */
import { native } from '../native.js';
import { cat, tensor } from '../tensor/creation.js';
import { noGrad } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import { Tensor, wrap } from '../tensor/tensor.js';
import type { MtcnnNets } from './weights.js';
import { checkInt, checkNumber } from '../check.js';

/** A decoded photo: RGB HWC uint8. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One detected face. */
export interface Face {
  /** [x1, y1, x2, y2] in pixels (0-based, continuous: pixel k covers [k, k+1)). */
  box: [number, number, number, number];
  /** O-Net face probability. */
  score: number;
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner (as seen in the image), [x, y] pixel centres. */
  landmarks: [number, number][];
}

/** Parameters of the cascade (defaults: the original MTCNN's). */
export interface MtcnnOptions {
  /** Smallest face side to look for, in pixels (default 20). */
  minFaceSize?: number;
  /** Pyramid scale factor (default 0.709). */
  factor?: number;
  /** Probability thresholds of P-Net, R-Net, O-Net (default [0.6, 0.7, 0.7]). */
  thresholds?: [number, number, number];
  /** Candidates per R-Net/O-Net forward pass (default 512). */
  batchSize?: number;
  /**
   * Photos whose longer side exceeds this are searched as if it were this long: the smallest face
   * found grows to minFaceSize·side/maxSide (default 2048; bounds time and memory on huge photos).
   */
  maxSide?: number;
}

interface Box {
  photo: number;
  /** Pyramid level (stage 1 only). */
  level?: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  reg: [number, number, number, number];
  landmarks?: number[];
}

/** Checks the options and fills in the defaults. */
export function mtcnnParams(o: MtcnnOptions = {}): Required<MtcnnOptions> {
  const minFaceSize = o.minFaceSize ?? 20;
  const factor = o.factor ?? 0.709;
  const thresholds = o.thresholds ?? [0.6, 0.7, 0.7];
  const batchSize = o.batchSize ?? 512;
  const maxSide = o.maxSide ?? 2048;
  checkInt('detect: maxSide', maxSide, 24);
  checkNumber('detect: minFaceSize (pixels)', minFaceSize, { min: 12 });
  checkNumber('detect: factor', factor, { above: 0.1, below: 0.95 });
  if (!Array.isArray(thresholds) || thresholds.length !== 3 || !thresholds.every((t) => typeof t === 'number' && t >= 0 && t < 1)) {
    throw new RangeError(`detect: thresholds must be three probabilities in [0, 1), got ${JSON.stringify(thresholds)}`);
  }
  checkInt('detect: batchSize', batchSize, 1);
  return { minFaceSize, factor, thresholds, batchSize, maxSide };
}

/** The pyramid scales for a photo (the original's rule). */
export function pyramidScales(width: number, height: number, minFaceSize: number, factor: number): number[] {
  const m = 12 / minFaceSize;
  let minl = Math.min(width, height) * m;
  const scales: number[] = [];
  for (let k = 0; minl >= 12; k++) {
    scales.push(m * factor ** k);
    minl *= factor;
  }
  return scales;
}

/** Greedy NMS (native); returns the kept indices of `boxes` by group, then descending score. */
function nms(boxes: Box[], threshold: number, minMode: boolean, group: (b: Box) => number): number[] {
  if (boxes.length === 0) return [];
  return scope(() => {
    const coords = new Float64Array(boxes.length * 4);
    const scores = new Float64Array(boxes.length);
    const groups = new BigInt64Array(boxes.length);
    boxes.forEach((b, i) => {
      coords.set([b.x1, b.y1, b.x2, b.y2], i * 4);
      scores[i] = b.score;
      groups[i] = BigInt(group(b));
    });
    const keep = wrap(
      native.detectNms(
        tensor(coords, { shape: [boxes.length, 4] }).handle,
        tensor(scores).handle,
        tensor(groups).handle,
        threshold,
        minMode,
      ),
    );
    return Array.from(keep.toTypedArray() as BigInt64Array, Number);
  });
}

/** Applies the regression (widths with the +1 of `bbreg`, or without it as stage 1 does). */
function regress(b: Box, plusOne: boolean): void {
  const w = b.x2 - b.x1 + (plusOne ? 1 : 0);
  const h = b.y2 - b.y1 + (plusOne ? 1 : 0);
  const [d1, d2, d3, d4] = b.reg;
  b.x1 += d1 * w;
  b.y1 += d2 * h;
  b.x2 += d3 * w;
  b.y2 += d4 * h;
}

/** Makes the box square around its centre (`rerec`). */
function square(b: Box): void {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const l = Math.max(w, h);
  b.x1 += w * 0.5 - l * 0.5;
  b.y1 += h * 0.5 - l * 0.5;
  b.x2 = b.x1 + l;
  b.y2 = b.y1 + l;
}

const fix = (b: Box): void => {
  b.x1 = Math.trunc(b.x1);
  b.y1 = Math.trunc(b.y1);
  b.x2 = Math.trunc(b.x2);
  b.y2 = Math.trunc(b.y2);
};

/** Crops of the (1-based inclusive) boxes, resampled to size×size, as one [N, 3, size, size] tensor in `boxes` order. */
function crops(photos: readonly RgbImage[], boxes: Box[], size: number): Tensor {
  return scope(() => {
    const parts: Tensor[] = [];
    const order: number[] = [];
    for (let p = 0; p < photos.length; p++) {
      const idx: number[] = [];
      boxes.forEach((b, i) => b.photo === p && idx.push(i));
      if (idx.length === 0) continue;
      const coords = new Float64Array(idx.length * 4);
      idx.forEach((i, k) => {
        const b = boxes[i]!;
        coords.set([b.x1 - 1, b.y1 - 1, b.x2, b.y2], k * 4);
      });
      const img = photos[p]!;
      parts.push(wrap(native.detectResample(img.data, img.width, img.height, coords, size, size)));
      order.push(...idx);
    }
    const all = parts.length === 1 ? parts[0]! : cat(parts, 0);
    // back to `boxes` order (crops were made photo by photo)
    const inverse = new BigInt64Array(order.length);
    order.forEach((i, k) => (inverse[i] = BigInt(k)));
    return order.every((i, k) => i === k) ? all : all.indexSelect(0, tensor(inverse));
  });
}

/** Runs `fn` over [N, 3, S, S] in chunks on the nets' device; concatenates the CPU float arrays it returns per key. */
function runChunks(x: Tensor, nets: MtcnnNets, chunk: number, fn: (x: Tensor) => Record<string, Tensor>): Record<string, Float32Array> {
  const n = x.shape[0]!;
  const out: Record<string, Float32Array[]> = {};
  for (let s = 0; s < n; s += chunk) {
    scope(() => {
      const part = x.narrow(0, s, Math.min(chunk, n - s));
      const r = fn(nets.device === 'cpu' ? part : part.to(nets.device));
      for (const [k, t] of Object.entries(r)) (out[k] ??= []).push(t.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array);
    });
  }
  const joined: Record<string, Float32Array> = {};
  for (const [k, arrs] of Object.entries(out)) {
    const total = arrs.reduce((a, b) => a + b.length, 0);
    const j = new Float32Array(total);
    let o = 0;
    for (const a of arrs) {
      j.set(a, o);
      o += a.length;
    }
    joined[k] = j;
  }
  return joined;
}

function stage1(nets: MtcnnNets, photos: readonly RgbImage[], p: Required<MtcnnOptions>): Box[] {
  // photos of one size share every pyramid level: one P-Net batch per (size, scale)
  const bySize = new Map<string, number[]>();
  photos.forEach((img, i) => {
    const k = `${img.width}x${img.height}`;
    bySize.set(k, [...(bySize.get(k) ?? []), i]);
  });
  const cands: Box[] = [];
  for (const group of bySize.values()) {
    const { width: w, height: h } = photos[group[0]!]!;
    const minFace = Math.max(p.minFaceSize, (p.minFaceSize * Math.max(w, h)) / p.maxSide);
    pyramidScales(w, h, minFace, p.factor).forEach((scale, si) => {
      const hs = Math.ceil(h * scale);
      const ws = Math.ceil(w * scale);
      // as many photos per P-Net pass as PNET_PASS_BYTES allows (at least one)
      const per = Math.max(1, Math.floor(PNET_PASS_BYTES / (hs * ws * PNET_BYTES_PER_PIXEL)));
      for (let c = 0; c < group.length; c += per) stage1Level(nets, photos, group.slice(c, c + per), { scale, index: si, hs, ws }, p, cands);
    });
  }
  return cands;
}

/**
 * Memory of one P-Net pass per input pixel (float32): the resampled level (3 channels), the first
 * convolution's output and its PReLU (10 each), and what follows at a quarter of the size.
 */
const PNET_BYTES_PER_PIXEL = 4 * (3 + 10 + 10 + 4);
/** The most memory one P-Net pass over photos of one size may take (photos are split into passes). */
const PNET_PASS_BYTES = 256 * 1024 * 1024;

/** One pyramid level: its scale, its index, and the resampled height and width. */
interface PyramidLevel {
  scale: number;
  index: number;
  hs: number;
  ws: number;
}

/** P-Net over one pyramid level of photos `idx` (all of one size); appends the candidates to `cands`. */
function stage1Level(nets: MtcnnNets, photos: readonly RgbImage[], idx: number[], level: PyramidLevel, p: Required<MtcnnOptions>, cands: Box[]): void {
  const { scale, index: si, hs, ws } = level;
  const { width: w, height: h } = photos[idx[0]!]!;
  const full = new Float64Array([0, 0, w, h]);
  const { prob, reg, ph, pw } = scope(() => {
    const levels = idx.map((i) => wrap(native.detectResample(photos[i]!.data, w, h, full, hs, ws)));
    let x = levels.length === 1 ? levels[0]! : cat(levels, 0);
    if (nets.device !== 'cpu') x = x.to(nets.device);
    const o = nets.pnet.forward(x);
    return {
      prob: o.prob.to({ device: 'cpu' }).contiguous().toTypedArray() as Float32Array,
      reg: o.reg.to({ device: 'cpu' }).contiguous().toTypedArray() as Float32Array,
      ph: o.prob.shape[1]!,
      pw: o.prob.shape[2]!,
    };
  });
  const plane = ph * pw;
  idx.forEach((photo, bi) => {
    const base = bi * plane;
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        const score = prob[base + y * pw + x]!;
        if (score < p.thresholds[0]) continue;
        const r = bi * 4 * plane + y * pw + x;
        cands.push({
          photo,
          level: si,
          x1: Math.trunc((2 * x + 1) / scale),
          y1: Math.trunc((2 * y + 1) / scale),
          x2: Math.trunc((2 * x + 12) / scale),
          y2: Math.trunc((2 * y + 12) / scale),
          score,
          reg: [reg[r]!, reg[r + plane]!, reg[r + 2 * plane]!, reg[r + 3 * plane]!],
        });
      }
    }
  });
}

/**
 * Detects faces in decoded photos; one list per photo, sorted by descending score. Synchronous
 * (libtorch ops from this thread; the resampling runs on libtorch's intra-op threads).
 */
export function detectFaces(nets: MtcnnNets, photos: readonly RgbImage[], options: MtcnnOptions = {}): Face[][] {
  const p = mtcnnParams(options);
  for (const [i, img] of photos.entries()) {
    if (!(img.data instanceof Uint8Array) || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
      throw new TypeError(`detect: photo ${i} is not a decoded RGB image {data: Uint8Array, width, height}`);
    }
    if (img.data.length !== img.width * img.height * 3) {
      throw new RangeError(`detect: photo ${i} has ${img.data.length} bytes, expected ${img.width}×${img.height}×3`);
    }
  }
  return noGrad(() => {
    // ---- stage 1: P-Net over the pyramid
    let boxes = stage1(nets, photos, p);
    const L = 1024; // pyramid levels per photo stay far below this (factor ≤ 0.95, sides ≤ 2^31)
    boxes = nms(boxes, 0.5, false, (b) => b.photo * L + b.level!).map((i) => boxes[i]!);
    boxes = nms(boxes, 0.7, false, (b) => b.photo).map((i) => boxes[i]!);
    for (const b of boxes) {
      regress(b, false);
      square(b);
      fix(b);
    }
    // ---- stage 2: R-Net
    let stage: Box[] = boxes;
    if (stage.length > 0) {
      const r = scope(() => runChunks(crops(photos, stage, 24), nets, p.batchSize, (x) => {
        const o = nets.rnet.forward(x);
        return { prob: o.prob, reg: o.reg };
      }));
      const kept: Box[] = [];
      stage.forEach((b, i) => {
        const score = r.prob![i]!;
        if (score > p.thresholds[1]) kept.push({ photo: b.photo, x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score, reg: [r.reg![i * 4]!, r.reg![i * 4 + 1]!, r.reg![i * 4 + 2]!, r.reg![i * 4 + 3]!] });
      });
      stage = nms(kept, 0.7, false, (b) => b.photo).map((i) => kept[i]!);
      for (const b of stage) {
        regress(b, true);
        square(b);
        fix(b);
      }
    }
    // ---- stage 3: O-Net
    if (stage.length > 0) {
      const r = scope(() => runChunks(crops(photos, stage, 48), nets, p.batchSize, (x) => {
        const o = nets.onet.forward(x);
        return { prob: o.prob, reg: o.reg, lm: o.landmarks };
      }));
      const kept: Box[] = [];
      stage.forEach((b, i) => {
        const score = r.prob![i]!;
        if (!(score > p.thresholds[2])) return;
        const w = b.x2 - b.x1 + 1;
        const h = b.y2 - b.y1 + 1;
        const lm: number[] = [];
        for (let k = 0; k < 5; k++) lm.push(w * r.lm![i * 10 + k]! + b.x1 - 1, h * r.lm![i * 10 + 5 + k]! + b.y1 - 1);
        const nb: Box = { photo: b.photo, x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score, reg: [r.reg![i * 4]!, r.reg![i * 4 + 1]!, r.reg![i * 4 + 2]!, r.reg![i * 4 + 3]!], landmarks: lm };
        regress(nb, true);
        kept.push(nb);
      });
      stage = nms(kept, 0.7, true, (b) => b.photo).map((i) => kept[i]!);
    }
    const out: Face[][] = photos.map(() => []);
    for (const b of stage) {
      const lm = b.landmarks!;
      out[b.photo]!.push({
        box: [b.x1 - 1, b.y1 - 1, b.x2, b.y2],
        score: b.score,
        landmarks: [0, 1, 2, 3, 4].map((k) => [lm[2 * k]!, lm[2 * k + 1]!] as [number, number]),
      });
    }
    for (const faces of out) faces.sort((a, b) => b.score - a.score);
    return out;
  });
}
