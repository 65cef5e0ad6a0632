/**
 * Photos in, upright RGB pixels out: file paths and JPEG/PNG bytes are decoded (grey and palette
 * images become RGB) and turned upright by their EXIF orientation; decoded pixels and uint8 tensors
 * are taken as they are.
 */
import { checkInt } from '../check.js';
import { decode } from '../data/codec.js';
import { readRegularFileAsync } from '../io/regular-file.js';
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

/** An upright photo, with the decoder's warning if it decoded damaged data (a truncated JPEG). */
export type LoadedPhoto = RgbImage & { warning?: string };

/** Decodes encoded bytes (JPEG/PNG) to upright RGB. */
export function decodePhoto(bytes: Uint8Array, what = 'photo'): LoadedPhoto {
  let d: { data: Uint8Array; width: number; height: number; warning?: string };
  try {
    d = decode(bytes);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  const img: LoadedPhoto = applyOrientation({ data: d.data, width: d.width, height: d.height }, jpegOrientation(bytes));
  if (d.warning !== undefined) img.warning = `${what}: ${d.warning}`;
  return img;
}

/** The bytes of a photo file (a regular file only); errors name the photo. */
export async function readPhotoFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readRegularFileAsync(path, 'file');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${what}: ${code ? `cannot read (${code})` : (e as Error).message}`);
  }
}

/** A photo that is not a path (bytes, pixels or a tensor) as upright RGB; errors name it. */
export function photoFromMemory(p: Exclude<Photo, string>, what: string): LoadedPhoto {
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

/** Loads one photo as upright RGB pixels; errors name the photo. */
export async function loadPhoto(p: Photo, index = 0): Promise<LoadedPhoto> {
  const what = describePhoto(p, index);
  return typeof p === 'string' ? decodePhoto(await readPhotoFile(p, what), what) : photoFromMemory(p, what);
}
