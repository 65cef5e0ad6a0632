/** Test photos made from bytes: grey PNG, hand-built CMYK/grey JPEGs, EXIF orientation segments. */
import { deflateSync } from 'node:zlib';

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const v of b) {
    c ^= v;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, crc]);
}

/** An 8-bit greyscale PNG (colour type 0). */
export function greyPng(grey: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];

/**
 * A valid baseline 8×8 JPEG with `components` components (1 = grey, 4 = CMYK with an Adobe
 * marker), every block flat (DC 0 = mid grey/ink): one-symbol Huffman tables, quantisation 1.
 */
export function flatJpeg(components: 1 | 4): Buffer {
  const ids = Array.from({ length: components }, (_, i) => i + 1);
  const bytes = [
    0xff, 0xd8,
    ...(components === 4 ? seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]) : []),
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [8, 0, 8, 0, 8, components, ...ids.flatMap((id) => [id, 0x11, 0])]),
    ...seg(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00, 0x10, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xda, [components, ...ids.flatMap((id) => [id, 0x00]), 0, 63, 0]),
    // per component: DC code '0' (difference 0) + AC code '0' (end of block) → 2 bits each, 1-padded
    ...(components === 4 ? [0x00] : [0x3f]),
    0xff, 0xd9,
  ];
  return Buffer.from(bytes);
}

/** JPEG bytes with an APP1 EXIF segment (big-endian TIFF, IFD0 with the orientation tag) after SOI. */
export function withOrientation(jpeg: Uint8Array, orientation: number): Buffer {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0, 0, 0];
  const app1 = seg(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
  return Buffer.concat([Buffer.from(jpeg.subarray(0, 2)), Buffer.from(app1), Buffer.from(jpeg.subarray(2))]);
}

/** Rotates RGB HWC pixels 90° counter-clockwise (so that EXIF orientation 6 shows them upright). */
export function rotateCcw(rgb: Uint8Array, w: number, h: number): { data: Uint8Array; width: number; height: number } {
  const out = new Uint8Array(rgb.length);
  // output is h wide, w high; output (x', y') = input (w − 1 − y', x')
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const s = (x * w + (w - 1 - y)) * 3;
      const d = (y * h + x) * 3;
      out[d] = rgb[s]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s + 2]!;
    }
  }
  return { data: out, width: h, height: w };
}
