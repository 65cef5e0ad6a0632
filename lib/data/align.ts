/**
 * Five-point face alignment to the standard insightface 112×112 template (`arcface_dst`):
 * a least-squares similarity transform (rotation, uniform scale, shift; Umeyama without
 * reflection) from the detected landmarks onto the template, then a bilinear warp in native code
 * with a constant-0 border (cv2.warpAffine's default). Same geometry as insightface `norm_crop`.
 */
import { decode } from './codec.js';
import { native } from '../native.js';
import { checkInt } from '../check.js';

/** The standard five points (left eye, right eye, nose tip, left and right mouth corners) for 112×112. */
export const ARCFACE_TEMPLATE: readonly number[] = Object.freeze([
  38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041,
]);

/** A decoded image: HWC uint8 pixels (RGB unless `channels` says otherwise). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Channels per pixel (default 3). */
  channels?: number;
}

/** An aligned face. */
export interface AlignedFace {
  /** HWC uint8 pixels, `size × size × channels`. */
  data: Buffer;
  width: number;
  height: number;
  channels: number;
  /** The 2×3 similarity matrix (row-major) mapping input pixel coordinates to output coordinates. */
  matrix: number[];
}

/** Options of {@link align}. */
export interface AlignOptions {
  /** Output side length (default 112). Multiples of 112 scale the template; other sizes follow insightface's 128-based rule. */
  size?: number;
}

/** The template for an output side length, as insightface's `estimate_norm(image_size)`. */
export function templateFor(size: number): number[] {
  checkInt('align: size', size, 16);
  let ratio: number;
  let dx = 0;
  if (size % 112 === 0) ratio = size / 112;
  else {
    ratio = size / 128;
    dx = 8 * ratio;
  }
  return ARCFACE_TEMPLATE.map((v, i) => v * ratio + (i % 2 === 0 ? dx : 0));
}

/** Checks and flattens landmarks given as 10 numbers or five [x, y] pairs. */
export function flattenLandmarks(landmarks: ArrayLike<number> | ReadonlyArray<readonly [number, number]>): number[] {
  const flat: number[] = [];
  const arr = Array.from(landmarks as ArrayLike<unknown>);
  for (const v of arr) {
    if (Array.isArray(v)) flat.push(...(v as number[]));
    else flat.push(v as number);
  }
  if (flat.length !== 10 || !flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new TypeError(`align: landmarks must be 5 points (10 finite numbers x0, y0, …, x4, y4, or five [x, y] pairs), got ${JSON.stringify(arr)}`);
  }
  return flat;
}

/**
 * Refuses landmarks far outside the image: each point must lie within the image grown by its own
 * width and height on every side (a face cut by the border still has its points near it; points
 * beyond give a crop of nothing but border, e.g. 1e308).
 */
function checkLandmarksNear(lm: readonly number[], width: number, height: number): void {
  for (let k = 0; k < 5; k++) {
    const x = lm[2 * k]!;
    const y = lm[2 * k + 1]!;
    if (x < -width || x > 2 * width || y < -height || y > 2 * height) {
      throw new RangeError(`align: landmark ${k} (${x}, ${y}) lies far outside the ${width}×${height} image (each point must be within [−${width}, ${2 * width}] × [−${height}, ${2 * height}])`);
    }
  }
}

/** The similarity transform (2×3, row-major) mapping `landmarks` onto the template for `size`. */
export function alignmentMatrix(landmarks: ArrayLike<number> | ReadonlyArray<readonly [number, number]>, size = 112): number[] {
  return native.similarityTransform(flattenLandmarks(landmarks), templateFor(size));
}

/**
 * Aligns a face given its five landmarks in the image (pixel coordinates, pixel centres at
 * integers as in OpenCV). The image is decoded HWC uint8 pixels (see {@link align} for JPEG/PNG).
 */
export function alignRaw(image: RawImage, landmarks: ArrayLike<number> | ReadonlyArray<readonly [number, number]>, options: AlignOptions = {}): AlignedFace {
  const size = options.size ?? 112;
  const channels = image.channels ?? 3;
  if (!(image.data instanceof Uint8Array)) throw new TypeError('align: image.data must be a Uint8Array (HWC pixels)');
  const lm = flattenLandmarks(landmarks);
  const r = native.alignWarp(image.data, image.width, image.height, channels, lm, templateFor(size), size, size);
  checkLandmarksNear(lm, image.width, image.height); // after the image's own checks (a 112² warp is cheap)
  const scale = Math.hypot(r.matrix[0]!, r.matrix[1]!);
  if (!r.matrix.every(Number.isFinite) || !(scale > 0) || size / scale < 1) {
    throw new RangeError(`align: the five landmarks ${JSON.stringify(lm)} span less than a pixel: not five distinct points of a face (are they in pixel coordinates?)`);
  }
  return { data: r.data, width: size, height: size, channels, matrix: r.matrix };
}

/**
 * Aligns a face to the 112×112 template: `image` is encoded JPEG/PNG bytes (decoded to RGB) or
 * decoded HWC pixels; `landmarks` are the five points (eyes, nose tip, mouth corners) in image
 * pixel coordinates, as 10 numbers or five [x, y] pairs.
 * @example
 * const face = align(readFileSync('photo.jpg'), [[191, 220], [262, 218], [228, 262], [200, 300], [255, 298]]);
 * const [embedding] = await model.embed([face]);
 */
export function align(
  image: Uint8Array | RawImage,
  landmarks: ArrayLike<number> | ReadonlyArray<readonly [number, number]>,
  options: AlignOptions = {},
): AlignedFace {
  if (image instanceof Uint8Array) {
    const d = decode(image);
    return alignRaw({ data: d.data, width: d.width, height: d.height, channels: 3 }, landmarks, options);
  }
  if (image === null || typeof image !== 'object' || !(image.data instanceof Uint8Array)) {
    throw new TypeError('align: image must be JPEG/PNG bytes or decoded pixels {data, width, height}');
  }
  return alignRaw(image, landmarks, options);
}
