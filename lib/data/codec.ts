/**
 * Image decoding and encoding through the native addon (libjpeg-turbo and libpng).
 */
import { native } from '../native.js';

/** A decoded image: 8-bit RGB, rows of `width·3` bytes (HWC), `height` rows. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

function bytesArg(v: unknown, fn: string, arg: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${fn}: argument '${arg}' must be a Uint8Array or Buffer`);
  return v;
}

/**
 * Decodes a JPEG or PNG to RGB (grey and palette images are expanded, alpha composited onto
 * black). Throws an Error naming the problem for data that is not a decodable JPEG/PNG.
 */
export function decode(buffer: Uint8Array): DecodedImage {
  return native.dataDecode(bytesArg(buffer, 'decode', 'buffer'));
}

/** Encodes packed RGB (HWC) as a baseline JPEG (4:2:0, `quality` 1..100, default 95). */
export function encodeJpeg(rgb: Uint8Array, width: number, height: number, quality = 95): Buffer {
  return native.dataEncodeJpeg(bytesArg(rgb, 'encodeJpeg', 'rgb'), width, height, quality);
}

/** Encodes packed RGB (HWC) as a PNG (lossless). */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  return native.dataEncodePng(bytesArg(rgb, 'encodePng', 'rgb'), width, height);
}

/** Which codecs the addon was built with. */
export function codecs(): { jpeg: boolean; png: boolean } {
  return native.dataCodecs();
}
