/**
 * MXNet/dmlc RecordIO container and mxnet `recordio.pack` image headers (IRHeader): the byte
 * level, shared by the reader and the writer. See docs/formats.md.
 */
import { readSync } from 'node:fs';

/** dmlc RecordIO magic, little-endian bytes 0A 23 D7 CE. */
export const RECORD_MAGIC = 0xced7230a;
const LENGTH_MASK = (1 << 29) - 1;
/** Size of the IRHeader struct `IfQQ`. */
export const IR_HEADER_SIZE = 24;

/** A decoded IRHeader and the bytes after it. */
export interface IRRecord {
  flag: number;
  /** `label` when flag = 0, else the `flag` float labels. */
  labels: Float32Array;
  id: bigint;
  id2: bigint;
  /** The image bytes (a view into the payload; empty for meta records). */
  image: Buffer;
}

/** Error naming a file and a byte offset. */
export class RecordIOError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(`${file}: ${message} (at byte ${offset})`);
    this.name = 'RecordIOError';
  }
}

function readExact(fd: number, file: string, buf: Buffer, offset: number, what: string): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, offset + got);
    if (n === 0) throw new RecordIOError(`truncated ${what}: ${got} of ${buf.length} bytes`, file, offset);
    got += n;
  }
}

/**
 * Reads the logical record whose first header is at `offset` (strict reader: magic, cflag
 * sequence 0 | 1 2* 3, lengths checked against the file size before allocating).
 */
export function readRecordAt(fd: number, file: string, fileSize: number, offset: number): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  let pos = offset;
  let total = 0;
  for (let part = 0; ; part++) {
    if (pos + 8 > fileSize) {
      throw new RecordIOError(
        pos === fileSize ? 'no record header (end of file)' + (part ? ' inside a multi-part record' : '') : `truncated record header (${fileSize - pos} of 8 bytes)`,
        file,
        pos,
      );
    }
    readExact(fd, file, head, pos, 'record header');
    const magic = head.readUInt32LE(0);
    if (magic !== RECORD_MAGIC) throw new RecordIOError(`bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0xced7230a)`, file, pos);
    const lrec = head.readUInt32LE(4);
    const cflag = lrec >>> 29;
    const length = lrec & LENGTH_MASK;
    if (cflag > 3) throw new RecordIOError(`bad continuation flag ${cflag}`, file, pos);
    if (part === 0 && cflag > 1) throw new RecordIOError(`record starts with continuation flag ${cflag} (a middle/last part)`, file, pos);
    if (part > 0 && cflag < 2) throw new RecordIOError(`multi-part record continues with flag ${cflag} (expected 2 or 3)`, file, pos);
    const padded = (length + 3) & ~3;
    if (padded > fileSize - pos - 8) {
      throw new RecordIOError(`truncated record: length ${length} but only ${fileSize - pos - 8} bytes remain`, file, pos);
    }
    if (part > 0) total += 4;
    total += length;
    const body = Buffer.allocUnsafe(length);
    if (length) readExact(fd, file, body, pos + 8, 'record body');
    if (part > 0) {
      const m = Buffer.alloc(4);
      m.writeUInt32LE(RECORD_MAGIC);
      parts.push(m);
    }
    parts.push(body);
    pos += 8 + padded;
    if (cflag === 0 || cflag === 3) break;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Splits a payload into RecordIO physical parts (dmlc RecordIOWriter::WriteRecord). */
export function encodeRecord(payload: Uint8Array): Buffer {
  if (payload.length >= 2 ** 29) throw new RangeError(`record of ${payload.length} bytes exceeds the RecordIO limit of 2^29 − 1`);
  const p = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Buffer[] = [];
  const header = (cflag: number, len: number): void => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(RECORD_MAGIC, 0);
    h.writeUInt32LE(((cflag << 29) | len) >>> 0, 4);
    out.push(h);
  };
  const lower = p.length & ~3;
  let start = 0;
  for (let i = 0; i < lower; i += 4) {
    if (p[i] === 0x0a && p[i + 1] === 0x23 && p[i + 2] === 0xd7 && p[i + 3] === 0xce) {
      header(start === 0 ? 1 : 2, i - start);
      out.push(p.subarray(start, i));
      start = i + 4;
    }
  }
  header(start === 0 ? 0 : 3, p.length - start);
  out.push(p.subarray(start));
  const pad = (4 - (p.length % 4)) % 4;
  if (pad) out.push(Buffer.alloc(pad));
  return Buffer.concat(out);
}

/** Parses an IRHeader payload (mxnet `recordio.unpack`). */
export function parseIRHeader(payload: Buffer, file: string, offset: number): IRRecord {
  if (payload.length < IR_HEADER_SIZE) throw new RecordIOError(`record of ${payload.length} bytes is shorter than the 24-byte IRHeader`, file, offset);
  const flag = payload.readUInt32LE(0);
  const id = payload.readBigUInt64LE(8);
  const id2 = payload.readBigUInt64LE(16);
  let labels: Float32Array;
  let start = IR_HEADER_SIZE;
  if (flag === 0) {
    labels = Float32Array.of(payload.readFloatLE(4));
  } else {
    if (flag > (payload.length - IR_HEADER_SIZE) / 4) {
      throw new RecordIOError(`IRHeader declares ${flag} labels but the record has ${payload.length - IR_HEADER_SIZE} bytes after the header`, file, offset);
    }
    labels = new Float32Array(flag);
    for (let i = 0; i < flag; i++) labels[i] = payload.readFloatLE(IR_HEADER_SIZE + 4 * i);
    start += 4 * flag;
  }
  return { flag, labels, id, id2, image: payload.subarray(start) };
}

/** Builds an IRHeader payload (mxnet `recordio.pack`). */
export function packIR(labels: number | readonly number[], image: Uint8Array, id = 0n, id2 = 0n): Buffer {
  const arr = typeof labels === 'number' ? null : labels;
  const flag = arr ? arr.length : 0;
  const out = Buffer.alloc(IR_HEADER_SIZE + 4 * flag + image.length);
  out.writeUInt32LE(flag, 0);
  out.writeFloatLE(arr ? 0 : (labels as number), 4);
  out.writeBigUInt64LE(id, 8);
  out.writeBigUInt64LE(id2, 16);
  if (arr) arr.forEach((v, i) => out.writeFloatLE(v, IR_HEADER_SIZE + 4 * i));
  out.set(image, IR_HEADER_SIZE + 4 * flag);
  return out;
}
