/**
 * Image decoding and encoding through the native addon (libjpeg-turbo and libpng).
 */
import { native } from '../native.js';
import { checkInt } from '../check.js';

/** A decoded image: 8-bit RGB, rows of `width·3` bytes (HWC), `height` rows. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  /**
   * The decoder's warning, when it decoded the image anyway: e.g. 'JPEG: Premature end of JPEG
   * file' (a truncated file: the missing rows are grey) or extraneous bytes before a marker.
   */
  warning?: string;
}

function bytesArg(v: unknown, fn: string, arg: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${fn}: argument '${arg}' must be a Uint8Array or Buffer`);
  return v;
}

/**
 * The most pixels {@link decode} allocates by default: a photo of 50 megapixels (8660², ≈ 150 MB
 * of RGB), more than any camera a face pipeline sees. Face crops are decoded at their exact size.
 */
export const MAX_PHOTO_PIXELS = 50_000_000;

/** Options of {@link decode}. */
export interface DecodeOptions {
  /** Refuse images whose header declares more pixels (default {@link MAX_PHOTO_PIXELS}); checked before allocating. */
  maxPixels?: number;
}

/**
 * Decodes a JPEG or PNG to RGB (grey and palette images are expanded, alpha composited onto
 * black, CMYK converted). Throws an Error naming the problem for data that is not a decodable
 * JPEG/PNG, or whose header declares more than `options.maxPixels` pixels (checked before anything
 * is allocated). Damage the decoder can get past (a truncated JPEG) gives `warning`.
 */
export function decode(buffer: Uint8Array, options: DecodeOptions = {}): DecodedImage {
  const max = checkInt('decode: maxPixels', options.maxPixels ?? MAX_PHOTO_PIXELS, 1);
  return native.dataDecode(bytesArg(buffer, 'decode', 'buffer'), max);
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
