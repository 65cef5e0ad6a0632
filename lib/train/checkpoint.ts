/**
 * Training checkpoints: named tensors plus JSON metadata in one safetensors file (8-byte LE header
 * length, JSON header with dtype/shape/data_offsets and `__metadata__`, raw little-endian data),
 * written atomically: temporary file in the same folder, fsync, rename, fsync of the folder.
 * A crash at any point leaves either the old or the new checkpoint, never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { native } from '../native.js';
import { dtypeCode, type DType } from '../tensor/dtype.js';
import { Tensor, wrap } from '../tensor/tensor.js';

const ST_DTYPE: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
  bool: 'BOOL',
  int8: 'I8',
  int16: 'I16',
};
const FROM_ST = new Map<string, DType>(Object.entries(ST_DTYPE).map(([k, v]) => [v, k as DType]));

/** Writes `data` to `path` atomically (temp file + fsync + rename + directory fsync). */
export function writeFileAtomic(path: string, chunks: Uint8Array[]): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some filesystems cannot fsync a directory; the rename is still atomic */
  }
}

/**
 * Saves named tensors (any device; copied to the CPU) and string metadata as a safetensors file,
 * atomically. Names keep their insertion order.
 */
export function saveTensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const bufs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = new Uint8Array(native.toBuffer(t.handle));
    header[name] = { dtype: ST_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    bufs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned (allowed by the format)
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const hb = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.byteLength));
  writeFileAtomic(path, [len, hb, ...bufs]);
}

/** What {@link loadTensors} returns: CPU tensors (the caller disposes them) and the metadata. */
export interface LoadedTensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Reads a safetensors file written by {@link saveTensors} (or any safetensors file). */
export function loadTensors(path: string): LoadedTensors {
  const buf = readFileSync(path);
  if (buf.byteLength < 8) throw new Error(`${path}: not a checkpoint (${buf.byteLength} bytes, shorter than the 8-byte header length)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.byteLength - 8) throw new Error(`${path}: header length ${n} at offset 0 exceeds the file size ${buf.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: the JSON header at offset 8 does not parse (${err instanceof Error ? err.message : String(err)})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  try {
    for (const [name, e] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, shape, data_offsets } = e as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const dt = FROM_ST.get(dtype);
      if (!dt) throw new Error(`${path}: tensor '${name}' has unsupported dtype ${dtype}`);
      const [a, b] = data_offsets;
      if (!(a >= 0 && b >= a && base + b <= buf.byteLength)) throw new Error(`${path}: tensor '${name}' data [${a}, ${b}) lies outside the file`);
      tensors.set(name, wrap(native.fromBuffer(buf.subarray(base + a, base + b), shape, dtypeCode(dt))));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}
