/**
 * safetensors files (huggingface format): an 8-byte little-endian header length N, N bytes of
 * JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { str: str } }`
 * (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes; offsets are
 * relative to the start of the data and must tile it exactly.
 *
 * Reading never executes anything and checks every size against the file before allocating.
 * Writing orders tensors as the reference implementation (larger element size first, then by
 * name) and pads the header with spaces to an 8-byte boundary.
 *
 * Checksums: every file written here records the SHA-256 of each tensor's bytes in the metadata
 * entry {@link CHECKSUM_META} (a JSON object, name → hex digest), and every read of a file that has
 * one verifies each tensor it reads: a flipped bit on disk or in a copy is an error naming the
 * tensor, not a model that silently computes something else. Files without the entry (other
 * tools', older ones) are read unchecked. The entry is not part of the metadata a read returns.
 */
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from './regular-file.js';
import { writeFileAtomic } from './atomic.js';
import { native } from '../native.js';
import { dtypeCode, dtypeSize, type DType } from '../tensor/dtype.js';
import { Tensor, wrap } from '../tensor/tensor.js';

/** safetensors dtype names ↔ ours. */
const TO_ST: Record<DType, string> = {
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
const FROM_ST = new Map<string, DType>(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

/** Header entry of one tensor. */
export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

/** The metadata entry holding each tensor's SHA-256 (see the module doc). */
export const CHECKSUM_META = 'ecacface.sha256';

/** Parsed header of a safetensors file. */
export interface SafetensorsHeader {
  tensors: Map<string, SafetensorsEntry>;
  /** The `__metadata__` strings, without {@link CHECKSUM_META}. */
  metadata: Record<string, string>;
  /** Each tensor's SHA-256 (hex), when the file records them. */
  checksums?: Map<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** Anything that holds named tensors: a Map, a record, or a module with `stateDict()`. */
export type TensorSource = Map<string, Tensor> | Record<string, Tensor> | { stateDict(): Map<string, Tensor> };

/** Error for malformed safetensors data; names the file and what is wrong. */
export class SafetensorsError extends Error {
  constructor(message: string, readonly source: string) {
    super(`${source}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** The largest header (the reference implementation's limit too). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;
/** The most tensors one file may name (a backbone has a few hundred; large shards a few thousand). */
export const MAX_SAFETENSORS_TENSORS = 100_000;
/**
 * The deepest nesting of a header: the format's own (object of tensor entries, each holding the
 * `shape` and `data_offsets` arrays).
 */
export const MAX_SAFETENSORS_HEADER_DEPTH = 3;
/** The most JSON values (array items and object members) a header may hold: 16 per tensor. */
const MAX_HEADER_VALUES = 16 * MAX_SAFETENSORS_TENSORS;

/**
 * Refuses a header whose JSON nests deeper than the format allows or holds more entries than its
 * caps, by one pass over the bytes before `JSON.parse` builds anything (100 MiB of `[[[[…` or
 * millions of empty tensors would otherwise cost gigabytes first).
 */
function checkHeaderShape(b: Uint8Array, start: number, end: number, source: string): void {
  let depth = 0;
  let members = 0; // commas at depth 1: entries of the top-level object
  let values = 0; // commas at any depth
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_SAFETENSORS_HEADER_DEPTH) {
        throw new SafetensorsError(`header nests deeper than the format's ${MAX_SAFETENSORS_HEADER_DEPTH} levels (at byte ${i - start})`, source);
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c) {
      if (depth === 1 && ++members > MAX_SAFETENSORS_TENSORS) {
        throw new SafetensorsError(`header names more than ${MAX_SAFETENSORS_TENSORS} tensors`, source);
      }
      if (++values > MAX_HEADER_VALUES) throw new SafetensorsError(`header holds more than ${MAX_HEADER_VALUES} JSON values`, source);
    }
  }
}

/** Parses and validates the header; `totalSize` is the file length. */
export function parseSafetensorsHeader(head: Uint8Array, totalSize: number, source = '<safetensors>'): SafetensorsHeader {
  if (totalSize < 8 || head.length < 8) throw new SafetensorsError(`file is ${totalSize} bytes, too short for the 8-byte header length`, source);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw new SafetensorsError(`header length ${n64} exceeds the 100 MiB limit`, source);
  const n = Number(n64);
  if (8 + n > totalSize) throw new SafetensorsError(`header length ${n} runs past the end of the ${totalSize}-byte file`, source);
  if (head.length < 8 + n) throw new SafetensorsError(`internal: header bytes not read`, source);
  checkHeaderShape(head, 8, 8 + n, source);
  const text = Buffer.from(head.buffer, head.byteOffset + 8, n).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON (${(e as Error).message})`, source);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError('header is not a JSON object', source);
  const dataStart = 8 + n;
  const dataSize = totalSize - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
        throw new SafetensorsError('__metadata__ must be an object of strings', source);
      }
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    if (tensors.size === MAX_SAFETENSORS_TENSORS) throw new SafetensorsError(`header names more than ${MAX_SAFETENSORS_TENSORS} tensors`, source);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new SafetensorsError(`tensor '${name}': entry is not an object`, source);
    const dtype = typeof e.dtype === 'string' ? FROM_ST.get(e.dtype) : undefined;
    if (dtype === undefined) {
      throw new SafetensorsError(`tensor '${name}': dtype ${JSON.stringify(e.dtype)} is not supported (supported: ${[...FROM_ST.keys()].join(', ')})`, source);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor '${name}': shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`, source);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(`tensor '${name}': data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 ≤ begin ≤ end`, source);
    }
    const shape = e.shape as number[];
    const numel = shape.reduce((a, b) => a * b, 1);
    const bytes = numel * dtypeSize(dtype);
    if (off[1] - off[0] !== bytes) {
      throw new SafetensorsError(`tensor '${name}': ${dtype} [${shape.join(', ')}] needs ${bytes} bytes but data_offsets span ${off[1] - off[0]}`, source);
    }
    if (off[1] > dataSize) throw new SafetensorsError(`tensor '${name}': data_offsets end ${off[1]} is past the ${dataSize}-byte data section`, source);
    tensors.set(name, { dtype, shape, begin: off[0], end: off[1] });
  }
  // The ranges must tile the data section without holes or overlaps.
  const ranges = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let pos = 0;
  for (const [name, r] of ranges) {
    if (r.begin !== pos) {
      throw new SafetensorsError(
        r.begin < pos ? `tensor '${name}' overlaps the previous tensor (begins at ${r.begin}, previous ends at ${pos})` : `hole in the data section before tensor '${name}' (bytes ${pos}..${r.begin})`,
        source,
      );
    }
    pos = r.end;
  }
  if (pos !== dataSize) throw new SafetensorsError(`data section is ${dataSize} bytes but the tensors cover ${pos}`, source);
  const { [CHECKSUM_META]: sums, ...rest } = metadata;
  if (sums === undefined) return { tensors, metadata, dataStart };
  return { tensors, metadata: rest, dataStart, checksums: parseChecksums(sums, tensors, source) };
}

function parseChecksums(text: string, tensors: Map<string, SafetensorsEntry>, source: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SafetensorsError(`metadata '${CHECKSUM_META}' is not valid JSON (the header was damaged)`, source);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`metadata '${CHECKSUM_META}' is not an object`, source);
  const sums = new Map<string, string>();
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw new SafetensorsError(`metadata '${CHECKSUM_META}': the checksum of '${name}' is not a SHA-256 digest`, source);
    if (!tensors.has(name)) throw new SafetensorsError(`metadata '${CHECKSUM_META}' names tensor '${name}', which the file does not hold`, source);
    sums.set(name, v);
  }
  for (const name of tensors.keys()) if (!sums.has(name)) throw new SafetensorsError(`metadata '${CHECKSUM_META}' has no checksum for tensor '${name}'`, source);
  return sums;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Throws unless `bytes` match the recorded checksum of tensor `name` (none recorded: nothing to check). */
function verify(h: SafetensorsHeader, name: string, bytes: Uint8Array, source: string): void {
  const want = h.checksums?.get(name);
  if (want !== undefined && sha256(bytes) !== want) {
    throw new SafetensorsError(`tensor '${name}': its bytes do not match the SHA-256 recorded when the file was written (the file is corrupt: a flipped bit on disk or in a copy)`, source);
  }
}

function tensorFromBytes(bytes: Uint8Array, e: SafetensorsEntry): Tensor {
  return wrap(native.fromBuffer(bytes, e.shape, dtypeCode(e.dtype)));
}

/** Decodes a whole safetensors file held in memory. Tensors are new CPU tensors (the caller owns them). */
export function parseSafetensors(data: Uint8Array, source = '<safetensors>'): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const h = parseSafetensorsHeader(data, data.length, source);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e] of h.tensors) {
      const bytes = data.subarray(h.dataStart + e.begin, h.dataStart + e.end);
      verify(h, name, bytes, source);
      tensors.set(name, tensorFromBytes(bytes, e));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: h.metadata };
}

/** Reads only the header of a safetensors file (names, dtypes, shapes, metadata). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const { fd, size } = openRegularFile(path, 'safetensors file');
  try {
    const first = Buffer.alloc(8);
    if (size < 8 || readSync(fd, first, 0, 8, 0) !== 8) throw new SafetensorsError(`file is ${size} bytes, too short for the 8-byte header length`, path);
    const n = first.readBigUInt64LE(0);
    if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw new SafetensorsError(`header length ${n} exceeds the 100 MiB limit`, path);
    if (8 + Number(n) > size) throw new SafetensorsError(`header length ${n} runs past the end of the ${size}-byte file`, path);
    const head = Buffer.alloc(8 + Number(n));
    readSync(fd, head, 0, head.length, 0);
    return parseSafetensorsHeader(head, size, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads a safetensors file: every tensor (or those whose name `only` accepts) as a new CPU tensor,
 * plus the `__metadata__` strings. Reads tensor by tensor, so memory peaks at one tensor's bytes
 * beyond the result; tensors left out are not read at all.
 */
export function loadSafetensors(path: string, only?: (name: string) => boolean): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const h = readSafetensorsHeader(path);
  const { fd } = openRegularFile(path, 'safetensors file');
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e] of h.tensors) {
      if (only && !only(name)) continue;
      const buf = Buffer.alloc(e.end - e.begin);
      const got = buf.length ? readSync(fd, buf, 0, buf.length, h.dataStart + e.begin) : 0;
      if (got !== buf.length) throw new SafetensorsError(`tensor '${name}': short read (${got} of ${buf.length} bytes)`, path);
      verify(h, name, buf, path);
      tensors.set(name, tensorFromBytes(buf, e));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  } finally {
    closeSync(fd);
  }
  return { tensors, metadata: h.metadata };
}

function entriesOf(src: TensorSource): [string, Tensor][] {
  if (src instanceof Map) return [...src];
  if (typeof (src as { stateDict?: unknown }).stateDict === 'function') return [...(src as { stateDict(): Map<string, Tensor> }).stateDict()];
  return Object.entries(src as Record<string, Tensor>);
}

/** The safetensors bytes of named tensors, as chunks (length, header, each tensor's data). */
function encode(src: TensorSource, metadata: Record<string, string>): Buffer[] {
  const entries = entriesOf(src);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new TypeError(`saveSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
  const items = entries.map(([name, t]) => {
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors: '${name}' is not a Tensor`);
    if (name === '__metadata__') throw new TypeError("saveSafetensors: a tensor cannot be named '__metadata__'");
    return { name, dtype: t.dtype, shape: t.shape, bytes: Buffer.from(native.toBuffer(t.handle)) };
  });
  items.sort((a, b) => dtypeSize(b.dtype) - dtypeSize(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  const sums = Object.fromEntries(items.map((i) => [i.name, sha256(i.bytes)]));
  header.__metadata__ = { ...metadata, [CHECKSUM_META]: JSON.stringify(sums) };
  let pos = 0;
  for (const it of items) {
    header[it.name] = { dtype: TO_ST[it.dtype], shape: it.shape, data_offsets: [pos, pos + it.bytes.length] };
    pos += it.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return [len, json, ...items.map((i) => i.bytes)];
}

/**
 * Serialises named tensors (a Map, a record, or a module's `stateDict()`) to safetensors bytes.
 * CUDA tensors are copied to the CPU; every tensor is written contiguous in its own dtype. The
 * metadata gets each tensor's SHA-256 ({@link CHECKSUM_META}, replacing an entry of that name).
 */
export function serializeSafetensors(src: TensorSource, metadata: Record<string, string> = {}): Buffer {
  return Buffer.concat(encode(src, metadata));
}

/** Writes named tensors to a safetensors file atomically (temporary file, fsync, rename). */
export function saveSafetensors(path: string, src: TensorSource, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encode(src, metadata));
}
