/**
 * Verification pair sets in insightface's `.bin` form: a pickle of `(bins, issame)` where `bins`
 * holds 2·P encoded images and `issame` P booleans (pairs are images 2k and 2k+1).
 */
import { writeFileSync } from 'node:fs';
import { readRegularFile } from '../io/regular-file.js';
import { isTuple, unpickle } from '../io/pickle.js';

/** A verification pair set. */
export interface PairSet {
  /** 2·P encoded images (JPEG/PNG bytes); pair k is images 2k and 2k+1. */
  images: Buffer[];
  /** P flags: true when pair k shows the same identity. */
  issame: boolean[];
}

/**
 * Reads an insightface verification `.bin` with the restricted unpickler (no code is ever run:
 * pickles that name anything outside the whitelist are refused with an error naming the opcode,
 * the global and the byte offset). Accepts protocols 2–5, Python 2 strings, the
 * `_codecs.encode(..., 'latin1')` form and 1-D uint8 numpy images.
 */
export function readBin(path: string): PairSet {
  const bytes = readRegularFile(path, '.bin pair set');
  return parseBin(bytes, path);
}

/** Same as {@link readBin} on bytes in memory; `source` names them in errors. */
export function parseBin(bytes: Uint8Array, source = '<bin>'): PairSet {
  const root = unpickle(bytes, { source });
  if (!isTuple(root) || root.length !== 2 || !Array.isArray(root[0]) || !Array.isArray(root[1])) {
    throw new Error(`${source}: expected a pickled 2-tuple (bins, issame) of lists`);
  }
  const bins = root[0] as unknown[];
  const flags = root[1] as unknown[];
  if (bins.length !== 2 * flags.length) {
    throw new Error(`${source}: ${bins.length} images for ${flags.length} pairs (expected 2 per pair)`);
  }
  const images = bins.map((b, i) => {
    if (!Buffer.isBuffer(b)) throw new Error(`${source}: image ${i} is not bytes`);
    return b;
  });
  const issame = flags.map((f, i) => {
    if (typeof f === 'boolean') return f;
    if (f === 0 || f === 1) return f === 1;
    throw new Error(`${source}: issame[${i}] is not a bool (or 0/1)`);
  });
  return { images, issame };
}

/** Options of {@link writeBin}. */
export interface WriteBinOptions {
  /**
   * Pickle protocol: 4 (default; SHORT_BINBYTES/BINBYTES/BINBYTES8 + MEMOIZE, no frames),
   * 3 (bytes opcodes + BINPUT) or 2 (what Python 3 writes at protocol 2:
   * `_codecs.encode(latin-1 text, 'latin1')`).
   */
  protocol?: 2 | 3 | 4;
}

/** Serialises a pair set to pickle bytes that insightface's `pickle.load` reads. */
export function encodeBin(images: readonly Uint8Array[], issame: readonly boolean[], options: WriteBinOptions = {}): Buffer {
  const protocol = options.protocol ?? 4;
  if (![2, 3, 4].includes(protocol)) throw new RangeError(`writeBin: protocol must be 2, 3 or 4, got ${protocol}`);
  if (images.length !== 2 * issame.length) {
    throw new RangeError(`writeBin: ${images.length} images for ${issame.length} pairs (expected 2 per pair)`);
  }
  const parts: Buffer[] = [];
  const op = (...b: number[]): void => {
    parts.push(Buffer.from(b));
  };
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  op(0x80, protocol);
  op(0x5d); // EMPTY_LIST
  if (protocol === 4) op(0x94);
  const bytesOp = (img: Uint8Array): void => {
    if (img.length < 256) op(0x43, img.length);
    else if (img.length < 2 ** 32) parts.push(Buffer.from([0x42]), u32(img.length));
    else {
      const b = Buffer.alloc(9);
      b[0] = 0x8e;
      b.writeBigUInt64LE(BigInt(img.length), 1);
      parts.push(b);
    }
    parts.push(Buffer.from(img.buffer, img.byteOffset, img.byteLength));
  };
  let codecsDefined = false;
  const codecsOp = (img: Uint8Array): void => {
    if (img.length === 0) {
      parts.push(Buffer.from('c__builtin__\nbytes\n)R', 'latin1'));
      return;
    }
    if (!codecsDefined) {
      // memo 1 = _codecs.encode, memo 2 = 'latin1'
      parts.push(Buffer.from('c_codecs\nencode\nq\x01', 'latin1'));
    } else op(0x68, 1); // BINGET 1
    const text = Buffer.from(Buffer.from(img.buffer, img.byteOffset, img.byteLength).toString('latin1'), 'utf8');
    parts.push(Buffer.from([0x58]), u32(text.length), text);
    if (!codecsDefined) parts.push(Buffer.from('X\x06\x00\x00\x00latin1q\x02', 'latin1'));
    else op(0x68, 2);
    op(0x86, 0x52); // TUPLE2 REDUCE
    codecsDefined = true;
  };
  for (let start = 0; start < images.length; start += 1000) {
    const batch = images.slice(start, start + 1000);
    if (batch.length > 1) op(0x28);
    for (const img of batch) (protocol === 2 ? codecsOp : bytesOp)(img);
    op(batch.length > 1 ? 0x65 : 0x61); // APPENDS / APPEND
  }
  op(0x5d);
  if (protocol === 4) op(0x94);
  for (let start = 0; start < issame.length; start += 1000) {
    const batch = issame.slice(start, start + 1000);
    if (batch.length > 1) op(0x28);
    for (const f of batch) op(f ? 0x88 : 0x89);
    op(batch.length > 1 ? 0x65 : 0x61);
  }
  op(0x86); // TUPLE2
  if (protocol === 4) op(0x94);
  op(0x2e); // STOP
  return Buffer.concat(parts);
}

/** Writes a pair set as an insightface `.bin` (see {@link encodeBin} for the protocols). */
export function writeBin(path: string, images: readonly Uint8Array[], issame: readonly boolean[], options: WriteBinOptions = {}): void {
  writeFileSync(path, encodeBin(images, issame, options));
}
