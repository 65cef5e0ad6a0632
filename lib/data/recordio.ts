/**
 * insightface packed datasets: `train.rec` (MXNet RecordIO), `train.idx` and `property`.
 * Random access by positioned reads; strict checks with errors naming the file and offset.
 */
import { closeSync, existsSync, statSync } from 'node:fs';
import { openRegularFile, readRegularFile } from '../io/regular-file.js';
import { basename, dirname, join } from 'node:path';
import { batchItems, type BatchItems, type ImageDataset, type NativeReadable, type Sample } from './dataset.js';
import { parseIRHeader, readRecordAt, RecordIOError } from './recordio-format.js';

/** Paths of a RecordIO dataset. */
export interface RecordIOPaths {
  rec: string;
  idx: string;
  /** Optional `property` file (`num_classes,H,W` on its first line). */
  property?: string | undefined;
}

/** Options of {@link openRecordIO}. */
export interface OpenRecordIOOptions {
  /**
   * Read the identity records and check that they tile the images 1..N (default true; one small
   * positioned read per identity).
   */
  validate?: boolean;
  /**
   * Confirms a class count far beyond the number of records (more than
   * {@link sparseClassLimit}(records)), which is otherwise refused: a corrupt label or property
   * would make training allocate a classifier head of that many rows.
   */
  numClasses?: number;
}

/**
 * The most classes a pack of `records` images may declare without confirmation: twice the
 * records, at least records + 1024 (every identity of a real pack has at least one image).
 */
export function sparseClassLimit(records: number): number {
  return Math.max(2 * records, records + 1024);
}

/** A RecordIO dataset opened by {@link openRecordIO}. */
export interface RecordIODataset extends ImageDataset, NativeReadable {
  /** The files it reads. */
  readonly paths: Readonly<RecordIOPaths>;
  /** Record keys of the images, in dataset order (index i ↔ key keys[i]). */
  readonly keys: readonly number[];
  /** The identity ranges [startIndex, endIndex) over dataset indices, when the pack has them. */
  readonly identities?: readonly (readonly [number, number])[] | undefined;
}

/** The parsed index: keys in file order and key → byte offset (the last line wins for a duplicate). */
export interface IdxIndex {
  /** Distinct keys in file order of first appearance. */
  readonly order: number[];
  has(key: number): boolean;
  get(key: number): number | undefined;
}

function badIdxLine(bytes: Uint8Array, file: string, at: number, end: number, ln: number): never {
  const text = Buffer.from(bytes.subarray(at, Math.min(end, at + 60))).toString('latin1');
  throw new RecordIOError(`line ${ln} is not "<key>\\t<offset>": ${JSON.stringify(text)}`, file, at);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0d || c === 0x0b || c === 0x0c;

/**
 * Parses an idx file (`<key>\t<offset>` lines, decimal) as mxnet does (`strip().split('\t')`),
 * in one pass over the bytes (an MS1M index has 5.9 M lines). Offsets with fewer than 8 bytes
 * after them in the record file are errors naming the line.
 */
export function parseIdx(bytes: Uint8Array, file: string, recSize: number): IdxIndex {
  let lines = 1;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lines++;
  const keys = new Float64Array(lines);
  const offs = new Float64Array(lines);
  let count = 0;
  let pos = 0;
  let ln = 0;
  const n = bytes.length;
  while (pos < n) {
    ln++;
    const at = pos;
    let end = pos;
    while (end < n && bytes[end] !== 0x0a) end++;
    let p = pos;
    pos = end + 1;
    while (p < end && (isSpace(bytes[p]!) || bytes[p] === 0x09)) p++;
    if (p === end) continue; // blank line
    let neg = false;
    if (bytes[p] === 0x2d) {
      neg = true;
      p++;
    }
    let key = 0;
    let digits = 0;
    for (; p < end && bytes[p]! >= 0x30 && bytes[p]! <= 0x39; p++, digits++) key = key * 10 + (bytes[p]! - 0x30);
    if (!digits) badIdxLine(bytes, file, at, end, ln);
    while (p < end && isSpace(bytes[p]!)) p++;
    if (bytes[p] !== 0x09) badIdxLine(bytes, file, at, end, ln);
    p++;
    while (p < end && isSpace(bytes[p]!)) p++;
    let off = 0;
    digits = 0;
    for (; p < end && bytes[p]! >= 0x30 && bytes[p]! <= 0x39; p++, digits++) off = off * 10 + (bytes[p]! - 0x30);
    if (!digits) badIdxLine(bytes, file, at, end, ln);
    while (p < end && (isSpace(bytes[p]!) || bytes[p] === 0x09)) p++;
    if (p !== end) badIdxLine(bytes, file, at, end, ln);
    if (neg) key = -key;
    if (off + 8 > recSize) {
      throw new RecordIOError(`line ${ln}: record offset ${off} for key ${key} points past the end of the record file (${recSize} bytes)`, file, at);
    }
    keys[count] = key;
    offs[count] = off;
    count++;
  }
  // Dense table when the keys are small non-negative integers (always, for insightface packs).
  let maxKey = -1;
  let dense = true;
  for (let i = 0; i < count; i++) {
    const k = keys[i]!;
    if (k < 0 || k > 2 * count + 1024) {
      dense = false;
      break;
    }
    if (k > maxKey) maxKey = k;
  }
  const order: number[] = [];
  if (dense) {
    const table = new Float64Array(maxKey + 1).fill(-1);
    for (let i = 0; i < count; i++) {
      const k = keys[i]!;
      if (table[k]! < 0) order.push(k);
      table[k] = offs[i]!;
    }
    return {
      order,
      has: (k) => Number.isInteger(k) && k >= 0 && k <= maxKey && table[k]! >= 0,
      get: (k) => (Number.isInteger(k) && k >= 0 && k <= maxKey && table[k]! >= 0 ? table[k]! : undefined),
    };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    if (!map.has(keys[i]!)) order.push(keys[i]!);
    map.set(keys[i]!, offs[i]!);
  }
  return { order, has: (k) => map.has(k), get: (k) => map.get(k) };
}

function resolvePaths(where: string | RecordIOPaths): RecordIOPaths {
  if (typeof where !== 'string') return where;
  if (existsSync(where) && !statSync(where).isDirectory()) {
    // a record file: its index beside it under the same stem, `property` in its folder
    const dir = dirname(where);
    const property = join(dir, 'property');
    return { rec: where, idx: join(dir, `${basename(where).replace(/\.rec$/, '')}.idx`), property: existsSync(property) ? property : undefined };
  }
  const pick = (...names: string[]): string | undefined => names.map((n) => join(where, n)).find((p) => existsSync(p));
  const rec = pick('train.rec') ?? join(where, 'train.rec');
  const idx = pick('train.idx') ?? join(where, 'train.idx');
  return { rec, idx, property: pick('property') };
}

function parseProperty(file: string): { numClasses: number; size: [number, number] | undefined } {
  const first = readRegularFile(file, 'RecordIO property file', 'utf8').split('\n')[0]!.trim();
  const f = first.split(',').map((s) => s.trim());
  if (!/^\d+$/.test(f[0] ?? '')) throw new RecordIOError(`first line ${JSON.stringify(first)} is not "num_classes,H,W"`, file, 0);
  const size = f.length >= 3 && /^\d+$/.test(f[1]!) && /^\d+$/.test(f[2]!) ? ([Number(f[1]), Number(f[2])] as [number, number]) : undefined;
  return { numClasses: Number(f[0]), size };
}

/**
 * Opens an insightface RecordIO dataset: a directory with `train.rec`, `train.idx` and
 * (optionally) `property`, a record file (`x.rec`: `x.idx` beside it, `property` in its folder),
 * or explicit paths. Images are the keys 1..N named by the key-0
 * header record when it has flag > 0, otherwise every key of the index in file order. The
 * number of classes comes from `property` (first line) or the header's identity range; when both
 * exist they must agree. Call `close()` when done.
 */
export function openRecordIO(where: string | RecordIOPaths, options: OpenRecordIOOptions = {}): RecordIODataset {
  const paths = resolvePaths(where);
  if (!existsSync(paths.rec)) throw new Error(`openRecordIO: record file ${paths.rec} does not exist`);
  if (!existsSync(paths.idx)) throw new Error(`openRecordIO: index file ${paths.idx} does not exist`);
  const { fd, size } = openRegularFile(paths.rec, 'RecordIO record file');
  try {
    const offsets = parseIdx(readRegularFile(paths.idx, 'RecordIO index file'), paths.idx, size);
    const order = offsets.order;
    const readIR = (key: number) => {
      const off = offsets.get(key)!;
      return { off, ir: parseIRHeader(readRecordAt(fd, paths.rec, size, off), paths.rec, off) };
    };
    let keys: number[];
    let headerClasses: number | undefined;
    let identities: [number, number][] | undefined;
    const header = offsets.has(0) ? readIR(0) : undefined;
    if (header && header.ir.flag > 0) {
      const { off, ir } = header;
      const n = Math.trunc(ir.labels[0]!) - 1;
      if (!(n >= 0)) throw new RecordIOError(`header record (key 0) gives first identity key ${ir.labels[0]}, expected ≥ 1`, paths.rec, off);
      keys = [];
      for (let k = 1; k <= n; k++) {
        if (!offsets.has(k)) throw new RecordIOError(`image key ${k} named by the header record (keys 1..${n}) is missing from the index`, paths.idx, 0);
        keys.push(k);
      }
      if (ir.flag >= 2) {
        const first = Math.trunc(ir.labels[0]!);
        const end = Math.trunc(ir.labels[1]!);
        headerClasses = end - first;
        if (headerClasses < 0) throw new RecordIOError(`header record identity range [${first}, ${end}) is empty or reversed`, paths.rec, off);
        if (options.validate ?? true) {
          identities = [];
          let expect = 1;
          for (let k = first; k < end; k++) {
            if (!offsets.has(k)) break; // identity records are optional for reading
            const id = readIR(k);
            const s = Math.trunc(id.ir.labels[0] ?? NaN);
            const e = Math.trunc(id.ir.labels[1] ?? NaN);
            if (id.ir.flag < 2 || s !== expect || !(e > s) || e > n + 1) {
              throw new RecordIOError(`identity record key ${k} covers [${s}, ${e}) but the identities must tile keys 1..${n} in order (expected start ${expect})`, paths.rec, id.off);
            }
            identities.push([s - 1, e - 1]);
            expect = e;
          }
          if (identities.length === 0) identities = undefined;
          else if (identities.length !== headerClasses || expect !== n + 1) {
            throw new RecordIOError(`identity records cover keys 1..${expect - 1} with ${identities.length} identities; header says ${n} images, ${headerClasses} identities`, paths.rec, header.off);
          }
        }
      }
    } else {
      keys = order;
    }
    let numClasses: number;
    let imageSize: [number, number] | undefined;
    if (paths.property) {
      const prop = parseProperty(paths.property);
      imageSize = prop.size;
      if (headerClasses !== undefined && prop.numClasses !== headerClasses) {
        throw new RecordIOError(`property says ${prop.numClasses} classes but the header record of ${paths.rec} (byte ${header!.off}) gives ${headerClasses} identities`, paths.property, 0);
      }
      numClasses = prop.numClasses;
    } else if (headerClasses !== undefined) {
      numClasses = headerClasses;
    } else {
      // No property and no identity range: scan the record headers for the largest label.
      let max = -1;
      for (const k of keys) {
        const { off, ir } = readIR(k);
        max = Math.max(max, checkedLabel(ir, paths.rec, off, k));
      }
      numClasses = max + 1;
    }
    if (options.numClasses !== undefined && options.numClasses !== numClasses) {
      throw new RecordIOError(`the pack has ${numClasses} classes, not the ${options.numClasses} given as numClasses (data.numClasses in a training config)`, paths.property ?? paths.rec, 0);
    }
    if (numClasses > sparseClassLimit(keys.length) && options.numClasses !== numClasses) {
      throw new RecordIOError(
        `${numClasses} classes for ${keys.length} records (more than ${sparseClassLimit(keys.length)}): a corrupt label or property? ` +
          `If it is right, confirm it: data.numClasses: ${numClasses} in the training config (on the command line ` +
          `--set data.numClasses=${numClasses}), or openRecordIO(…, { numClasses: ${numClasses} })`,
        paths.property ?? paths.rec,
        0,
      );
    }
    const recOffsets = new Float64Array(keys.length);
    for (let i = 0; i < keys.length; i++) recOffsets[i] = offsets.get(keys[i]!)!;
    let closed = false;
    const ds: RecordIODataset = {
      paths,
      keys,
      identities,
      length: keys.length,
      numClasses,
      imageSize,
      read(i: number): Sample {
        if (closed) throw new Error(`RecordIO dataset ${paths.rec} is closed`);
        if (!Number.isInteger(i) || i < 0 || i >= keys.length) throw new RangeError(`read: index ${i} out of range [0, ${keys.length})`);
        const off = recOffsets[i]!;
        const ir = parseIRHeader(readRecordAt(fd, paths.rec, size, off), paths.rec, off);
        const label = checkedLabel(ir, paths.rec, off, keys[i]!);
        if (!(label < numClasses)) {
          throw new RecordIOError(`record key ${keys[i]} has label ${label} outside [0, ${numClasses})`, paths.rec, off);
        }
        return { image: ir.image, label };
      },
      close(): void {
        if (!closed) {
          closed = true;
          closeSync(fd);
        }
      },
      [batchItems](indices: readonly number[]): BatchItems {
        const m = indices.length;
        const items: BatchItems = { paths: [paths.rec], pathIndex: new Int32Array(m), offsets: new Float64Array(m), labels: new Float64Array(m).fill(NaN) };
        for (let k = 0; k < m; k++) items.offsets[k] = recOffsets[indices[k]!]!;
        return items;
      },
    };
    return ds;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The class of an image record, refused unless it is a finite non-negative integer. */
function checkedLabel(ir: { flag: number; labels: Float32Array }, file: string, off: number, key: number): number {
  const v = ir.labels[0];
  if (v === undefined || !Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {
    throw new RecordIOError(`record key ${key} has label ${v}, not a finite non-negative integer`, file, off);
  }
  return v;
}

/** Reads a record's raw bytes (advanced use, e.g. tools): the payload after the container. */
export function readRawRecord(file: string, offset: number): Buffer {
  const { fd, size } = openRegularFile(file, 'RecordIO record file');
  try {
    return readRecordAt(fd, file, size, offset);
  } finally {
    closeSync(fd);
  }
}
