/**
 * Photos in, upright RGB pixels out: file paths and JPEG/PNG bytes are decoded (grey and palette
 * images become RGB) and turned upright by their EXIF orientation; decoded pixels and uint8 tensors
 * are taken as they are.
 */
import { readFile } from 'node:fs/promises';
import { checkInt } from '../check.js';
import { decode } from '../data/codec.js';
import type { RawImage } from '../data/align.js';
import { scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { applyOrientation, jpegOrientation } from './exif.js';
import type { RgbImage } from './mtcnn.js';

/**
 * A photo: a file path (JPEG/PNG), encoded JPEG/PNG bytes, decoded pixels `{data, width, height,
 * channels?}` (HWC uint8, 1 or 3 channels), or a uint8 tensor [H, W, 3] / [H, W] (any device).
 */
export type Photo = string | Uint8Array | RawImage | Tensor;

/** Names a photo in messages: its path, or its index. */
export function describePhoto(p: Photo, i: number): string {
  return typeof p === 'string' ? `photo ${i} ('${p}')` : `photo ${i}`;
}

function rgbFrom(data: Uint8Array, width: number, height: number, channels: number, what: string): RgbImage {
  checkInt(`${what}: width`, width, 1);
  checkInt(`${what}: height`, height, 1);
  if (channels !== 1 && channels !== 3) throw new RangeError(`${what}: ${channels} channels; expected 1 (grey) or 3 (RGB)`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`${what}: ${data.length} bytes, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  }
  if (channels === 3) return { data, width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i]!;
  return { data: rgb, width, height };
}

/** Decodes encoded bytes (JPEG/PNG) to upright RGB. */
export function decodePhoto(bytes: Uint8Array, what = 'photo'): RgbImage {
  let d: { data: Uint8Array; width: number; height: number };
  try {
    d = decode(bytes);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  return applyOrientation({ data: d.data, width: d.width, height: d.height }, jpegOrientation(bytes));
}

/** Loads one photo as upright RGB pixels; errors name the photo. */
export async function loadPhoto(p: Photo, index = 0): Promise<RgbImage> {
  const what = describePhoto(p, index);
  if (typeof p === 'string') {
    let bytes: Buffer;
    try {
      bytes = await readFile(p);
    } catch (e) {
      throw new Error(`${what}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return decodePhoto(bytes, what);
  }
  if (p instanceof Tensor) {
    if (p.dtype !== 'uint8' || !(p.ndim === 3 && p.shape[2] === 3) && p.ndim !== 2) {
      throw new TypeError(`${what}: a photo tensor must be uint8 [H, W, 3] (RGB) or [H, W] (grey), got ${p.dtype} [${p.shape.join(', ')}]`);
    }
    const data = scope(() => new Uint8Array(p.to({ device: 'cpu' }).contiguous().toTypedArray() as Uint8Array));
    return rgbFrom(data, p.shape[1]!, p.shape[0]!, p.ndim === 2 ? 1 : 3, what);
  }
  if (p instanceof Uint8Array) return decodePhoto(p, what);
  if (p !== null && typeof p === 'object' && (p as RawImage).data instanceof Uint8Array) {
    const r = p as RawImage;
    return rgbFrom(r.data, r.width, r.height, r.channels ?? 3, what);
  }
  throw new TypeError(`${what}: expected a file path, JPEG/PNG bytes, decoded pixels {data, width, height} or a uint8 tensor`);
}
