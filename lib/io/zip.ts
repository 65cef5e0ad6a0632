/**
 * A minimal read-only ZIP reader for `torch.save` checkpoints: central directory (with ZIP64),
 * stored and deflate entries (node:zlib `inflateRawSync`), CRC-32 checked. Reads entries on demand
 * from a file descriptor or a buffer, so a 260 MB checkpoint is never held twice in memory.
 */
import { closeSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { openRegularFile } from './regular-file.js';

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

/** Error for malformed or unsupported ZIP data; names the file. */
export class ZipError extends Error {
  constructor(message: string, readonly source: string) {
    super(`${source}: ${message}`);
    this.name = 'ZipError';
  }
}

interface ByteSource {
  size: number;
  read(offset: number, length: number): Buffer;
  close(): void;
}

function fileSource(path: string): ByteSource {
  const { fd, size } = openRegularFile(path, 'ZIP file');
  return {
    size,
    read(offset, length) {
      const b = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, b, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      if (got !== length) throw new ZipError(`short read at offset ${offset} (${got} of ${length} bytes)`, path);
      return b;
    },
    close() {
      closeSync(fd);
    },
  };
}

function bufferSource(buf: Uint8Array, source: string): ByteSource {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    size: b.length,
    read(offset, length) {
      // as a file's short read: a range past the end is the archive's fault, named as such
      if (offset < 0 || offset + length > b.length) {
        throw new ZipError(`short read at offset ${offset} (${Math.max(0, Math.min(length, b.length - offset))} of ${length} bytes)`, source);
      }
      return b.subarray(offset, offset + length);
    },
    close() {},
  };
}


const crcTable = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE), node:zlib's when available. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (typeof native === 'function') return native(data) >>> 0;
  let c = -1;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Inflation caps against zip bombs: a deflate entry may declare at most {@link MAX_INFLATE_RATIO} times
 * its compressed size (deflate's own limit is about 1032:1) and at most {@link MAX_INFLATED_BYTES}.
 * `torch.save` stores its entries uncompressed, so only re-zipped checkpoints are deflated at all.
 */
export const MAX_INFLATE_RATIO = 1032;
export const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
/**
 * The whole archive's cap: its deflated entries together may declare at most
 * {@link MAX_TOTAL_INFLATE_RATIO} times the archive's size, or {@link MAX_TOTAL_INFLATED_FLOOR} bytes
 * if that is more (checked when the directory is read, before anything is inflated). Weights barely
 * compress (about 1.1:1); many entries each just under the per-entry ratio are a bomb.
 */
export const MAX_TOTAL_INFLATE_RATIO = 64;
export const MAX_TOTAL_INFLATED_FLOOR = 64 * 1024 * 1024;

/** Options of {@link ZipReader.read}. */
export interface ZipReadOptions {
  /** Refuse the entry when it declares more bytes than this (checked before reading it). */
  maxBytes?: number;
}

/** A ZIP archive opened for reading. Close it with {@link ZipReader.close} (or `using`). */
export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  #src: ByteSource;

  private constructor(src: ByteSource, readonly source: string) {
    this.#src = src;
    try {
      this.readDirectory();
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /** Opens a ZIP file by path. */
  static open(path: string): ZipReader {
    return new ZipReader(fileSource(path), path);
  }

  /** Reads a ZIP held in memory. */
  static fromBuffer(data: Uint8Array, source = '<zip>'): ZipReader {
    return new ZipReader(bufferSource(data, source), source);
  }

  private fail(msg: string): never {
    throw new ZipError(msg, this.source);
  }

  /** A ZIP64 field, refused beyond 2^53 (no file is that large). */
  private u64(b: Buffer, o: number): number {
    const v = b.readBigUInt64LE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`64-bit field ${v} is too large`);
    return Number(v);
  }

  private readDirectory(): void {
    const size = this.#src.size;
    if (size < 22) this.fail(`${size} bytes is too short for a ZIP archive`);
    const tailLen = Math.min(size, 22 + 65535);
    const tail = this.#src.read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('not a ZIP archive (no end-of-central-directory record)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    // ZIP64: the locator sits 20 bytes before the EOCD.
    const locAt = size - tailLen + eocd - 20;
    if (locAt >= 0 && this.#src.read(locAt, 4).readUInt32LE(0) === 0x07064b50) {
      const loc = this.#src.read(locAt, 20);
      const z64At = this.u64(loc, 8);
      if (z64At + 56 > size) this.fail(`ZIP64 end record offset ${z64At} is past the end of the file`);
      const z = this.#src.read(z64At, 56);
      if (z.readUInt32LE(0) !== 0x06064b50) this.fail('bad ZIP64 end-of-central-directory signature');
      count = this.u64(z, 32);
      cdSize = this.u64(z, 40);
      cdOffset = this.u64(z, 48);
    }
    if (cdOffset + cdSize > size) this.fail(`central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the ${size}-byte file`);
    const cd = this.#src.read(cdOffset, cdSize);
    let p = 0;
    let inflated = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) this.fail(`bad central directory entry #${n} at offset ${cdOffset + p}`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let csize = cd.readUInt32LE(p + 20);
      let usize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let offset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) this.fail(`central directory entry #${n} runs past the directory`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      if (flags & 1) this.fail(`entry '${name}' is encrypted`);
      // ZIP64 extra field: the 0xFFFFFFFF fields, in the order size, compressed size, offset.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const field = (): number => {
            if (q + 8 > Math.min(e + 4 + len, eEnd)) this.fail(`entry '${name}': ZIP64 extra field is too short`);
            const v = this.u64(cd, q);
            q += 8;
            return v;
          };
          if (usize === 0xffffffff) usize = field();
          if (csize === 0xffffffff) csize = field();
          if (offset === 0xffffffff) offset = field();
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize: csize, size: usize, crc32: crc, localHeaderOffset: offset });
      p += 46 + nameLen + extraLen + commentLen;
      if (method === 8) inflated += usize;
    }
    const cap = Math.max(MAX_TOTAL_INFLATED_FLOOR, MAX_TOTAL_INFLATE_RATIO * size);
    if (inflated > cap) {
      this.fail(`its deflated entries declare ${inflated} bytes in all, more than the ${cap} allowed for a ${size}-byte archive (${MAX_TOTAL_INFLATE_RATIO}:1, at least ${MAX_TOTAL_INFLATED_FLOOR})`);
    }
  }

  /** Names of all entries, in directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The uncompressed bytes of an entry (CRC-32 checked; sizes capped, see {@link MAX_INFLATED_BYTES}). */
  read(name: string, options: ZipReadOptions = {}): Buffer {
    const e = this.entries.get(name);
    if (e === undefined) this.fail(`no entry '${name}' in the archive`);
    if (options.maxBytes !== undefined && e.size > options.maxBytes) {
      this.fail(`entry '${name}' declares ${e.size} bytes, more than the ${options.maxBytes} allowed for it`);
    }
    if (e.method === 8) {
      if (e.size > MAX_INFLATED_BYTES) this.fail(`deflated entry '${name}' declares ${e.size} bytes, more than the ${MAX_INFLATED_BYTES}-byte inflation cap`);
      if (e.size > e.compressedSize * MAX_INFLATE_RATIO + 1024) {
        this.fail(`deflated entry '${name}' declares ${e.size} bytes from ${e.compressedSize} compressed, beyond deflate's ${MAX_INFLATE_RATIO}:1 limit`);
      }
    } else if (e.method === 0 && e.size !== e.compressedSize) {
      this.fail(`stored entry '${name}' has size ${e.size} but compressed size ${e.compressedSize}`);
    }
    const lh = this.#src.read(e.localHeaderOffset, 30);
    if (lh.readUInt32LE(0) !== 0x04034b50) this.fail(`bad local header for '${name}' at offset ${e.localHeaderOffset}`);
    const start = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (start + e.compressedSize > this.#src.size) this.fail(`entry '${name}' (${e.compressedSize} bytes at ${start}) runs past the end of the file`);
    const raw = this.#src.read(start, e.compressedSize);
    let data: Buffer;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
      } catch (err) {
        this.fail(`entry '${name}': deflate data is corrupt (${(err as Error).message})`);
      }
    } else this.fail(`entry '${name}' uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
    if (data.length !== e.size) this.fail(`entry '${name}' is ${data.length} bytes, the directory says ${e.size}`);
    const c = crc32(data);
    if (c !== e.crc32) this.fail(`entry '${name}' fails its CRC-32 check (${c.toString(16)} ≠ ${e.crc32.toString(16)})`);
    return data;
  }

  close(): void {
    this.#src.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
