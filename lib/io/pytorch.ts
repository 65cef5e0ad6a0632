/**
 * Reading PyTorch `torch.save` checkpoints (the zip format of PyTorch ≥ 1.6) without Python and
 * without ever running code from the file.
 *
 * Layout: a ZIP whose entries share one folder prefix (`<name>/`): `data.pkl` (the pickled object),
 * `data/<key>` (one raw little-endian storage per key), `version`, optionally `byteorder`.
 * The pickle is read by the restricted VM of lib/io/pickle.ts with a whitelist that accepts ONLY:
 * - `torch._utils._rebuild_tensor_v2` and `torch._utils._rebuild_parameter` (tensors),
 * - `torch.<Dtype>Storage` classes, reached through BINPERSID `('storage', cls, key, location, numel)`,
 * - `collections.OrderedDict` (with its `_metadata` BUILD state).
 * Anything else (a class of a model saved whole, `os.system`, numpy, …) is refused with an error
 * that names the global and the file.
 */
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from './regular-file.js';
import { PickleError, unpickle, isTuple, type PickleCallable } from './pickle.js';
import { native } from '../native.js';
import { dtypeCode, dtypeSize, type DType } from '../tensor/dtype.js';
import { Tensor, wrap } from '../tensor/tensor.js';
import { ZipReader } from './zip.js';

/** A value read from a checkpoint: tensors, (ordered) dicts, lists/tuples and plain scalars. */
export type CheckpointValue = Tensor | Map<unknown, CheckpointValue> | CheckpointValue[] | string | number | bigint | boolean | null | Buffer;

/** Error for checkpoints that cannot be read or are refused; names the file. */
export class CheckpointError extends Error {
  constructor(message: string, readonly source: string) {
    super(`${source}: ${message}`);
    this.name = 'CheckpointError';
  }
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** A storage class reached by GLOBAL (only ever used as the type in a persistent id). */
const storageClasses = new Map<PickleCallable, DType>();
for (const dt of Object.values(STORAGE_DTYPES)) {
  const cls: PickleCallable = () => {
    throw new Error(`a torch storage class cannot be called (only referenced by a persistent id)`);
  };
  storageClasses.set(cls, dt);
}
const storageClassOf = new Map<DType, PickleCallable>([...storageClasses].map(([f, d]) => [d, f]));

/** A storage loaded from `data/<key>`: raw bytes of `numel` elements of `dtype`. */
class Storage {
  constructor(readonly key: string, readonly dtype: DType, readonly bytes: Buffer) {}
}

/** Marks the Maps made by `collections.OrderedDict` (BUILD on them is allowed). */
const orderedDicts = new WeakSet<object>();

function toIntList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new Error(`${what} must be a tuple of non-negative integers`);
  }
  return v as number[];
}

/** Copies the (possibly strided) elements of a tensor view out of its storage bytes. */
function tensorFromStorage(st: Storage, offset: number, size: number[], stride: number[]): Tensor {
  const es = dtypeSize(st.dtype);
  const numel = size.reduce((a, b) => a * b, 1);
  if (size.length !== stride.length) throw new Error(`_rebuild_tensor_v2: size ${size.length}-d but stride ${stride.length}-d`);
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) if (size[d]! > 0) maxIndex += (size[d]! - 1) * stride[d]!;
  const storageNumel = st.bytes.length / es;
  if (numel > 0 && maxIndex >= storageNumel) {
    throw new Error(`_rebuild_tensor_v2: view [${size.join(', ')}] at offset ${offset} with stride [${stride.join(', ')}] reaches element ${maxIndex} of a ${storageNumel}-element storage '${st.key}'`);
  }
  // A view with more elements than its storage (stride 0, overlapping strides) would be copied
  // out element by element into memory the file never paid for: state dicts never hold one.
  if (numel > storageNumel) {
    throw new Error(`_rebuild_tensor_v2: view [${size.join(', ')}] with stride [${stride.join(', ')}] has ${numel} elements, more than its ${storageNumel}-element storage '${st.key}' holds (overlapping or stride-0 views are refused)`);
  }
  let contiguous = true;
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d]!;
  }
  let bytes: Uint8Array;
  if (contiguous || numel === 0) {
    bytes = st.bytes.subarray(offset * es, (offset + numel) * es);
  } else {
    const out = Buffer.alloc(numel * es);
    const idx = new Array<number>(size.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let src = offset;
      for (let d = 0; d < size.length; d++) src += idx[d]! * stride[d]!;
      st.bytes.copy(out, i * es, src * es, src * es + es);
      for (let d = size.length - 1; d >= 0; d--) {
        if (++idx[d]! < size[d]!) break;
        idx[d] = 0;
      }
    }
    bytes = out;
  }
  return wrap(native.fromBuffer(bytes, size, dtypeCode(st.dtype)));
}

/** The first 4 bytes of a (regular) file. */
function readHead(path: string): Buffer {
  const { fd } = openRegularFile(path, 'checkpoint');
  try {
    const b = Buffer.alloc(4);
    return b.subarray(0, readSync(fd, b, 0, 4, 0));
  } finally {
    closeSync(fd);
  }
}

/** The pickled object of a checkpoint: a state dict's pickle is kilobytes, this is generous. */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

function dataPklEntry(zip: ZipReader, source: string): { prefix: string } {
  const names = zip.names();
  const pkl = names.filter((n) => n.endsWith('data.pkl') && n.split('/').length === 2);
  if (pkl.length !== 1) {
    throw new CheckpointError(`not a torch.save zip checkpoint (expected one '<name>/data.pkl' entry, found ${pkl.length}; entries: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`, source);
  }
  return { prefix: pkl[0]!.slice(0, -'data.pkl'.length) };
}

/** Collects every Tensor reachable from a value (to dispose them on failure). */
function tensorsIn(v: unknown, out: Tensor[] = [], depth = 0): Tensor[] {
  if (depth > 64) return out;
  if (v instanceof Tensor) out.push(v);
  else if (v instanceof Map) for (const x of v.values()) tensorsIn(x, out, depth + 1);
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out, depth + 1);
  return out;
}

/**
 * Reads a `torch.save` zip checkpoint: returns the saved object with tensors as CPU {@link Tensor}s,
 * dicts/OrderedDicts as `Map`s, lists and tuples as arrays. Refuses anything but tensors, storages
 * and ordered dicts, the pre-1.6 legacy format, and big-endian files.
 */
export function readTorchCheckpoint(input: string | Uint8Array, sourceName?: string): CheckpointValue {
  const source = sourceName ?? (typeof input === 'string' ? input : '<checkpoint>');
  const head = typeof input === 'string' ? readHead(input) : input.subarray(0, 4);
  if (head.length >= 2 && head[0] === 0x80 && head[1]! <= 5) {
    throw new CheckpointError(
      'this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it as a zip checkpoint with ' +
        "PyTorch: torch.save(torch.load(path, map_location='cpu'), new_path)",
      source,
    );
  }
  if (!(head[0] === 0x50 && head[1] === 0x4b)) throw new CheckpointError('not a torch.save zip checkpoint (no ZIP signature)', source);
  const zip = typeof input === 'string' ? ZipReader.open(input) : ZipReader.fromBuffer(input, source);
  try {
    const { prefix } = dataPklEntry(zip, source);
    if (zip.has(prefix + 'byteorder')) {
      const bo = zip.read(prefix + 'byteorder', { maxBytes: 64 }).toString('latin1').trim();
      if (bo !== 'little') throw new CheckpointError(`byteorder '${bo}' is not supported (only little-endian checkpoints)`, source);
    }
    const storages = new Map<string, Storage>();
    const made: Tensor[] = [];
    const globals = (module: string, name: string): PickleCallable | undefined => {
      if (module === 'torch._utils' && name === '_rebuild_tensor_v2') {
        return (args) => {
          if (args.length < 6 || args.length > 7) throw new Error(`_rebuild_tensor_v2 expects 6 or 7 arguments, got ${args.length}`);
          const [st, off, size, stride] = args;
          if (!(st instanceof Storage)) throw new Error('_rebuild_tensor_v2: first argument is not a storage');
          if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) throw new Error('_rebuild_tensor_v2: bad storage offset');
          const t = tensorFromStorage(st, off, toIntList(size, 'size'), toIntList(stride, 'stride'));
          made.push(t);
          return t;
        };
      }
      if (module === 'torch._utils' && name === '_rebuild_parameter') {
        return (args) => {
          if (args.length !== 3 || !(args[0] instanceof Tensor)) throw new Error('_rebuild_parameter expects (tensor, requires_grad, hooks)');
          return args[0];
        };
      }
      if (module === 'torch' && name in STORAGE_DTYPES) return storageClassOf.get(STORAGE_DTYPES[name]!)!;
      if (module === 'collections' && name === 'OrderedDict') {
        return (args) => {
          if (args.length !== 0) throw new Error('collections.OrderedDict is accepted only with no arguments');
          const m = new Map();
          orderedDicts.add(m);
          return m;
        };
      }
      throw new CheckpointError(
        `refusing global ${module}.${name}: a checkpoint may reference only tensors (torch._utils._rebuild_tensor_v2, ` +
          `_rebuild_parameter), storages (torch.*Storage) and collections.OrderedDict. Save a state_dict ` +
          `(torch.save(model.state_dict(), path)), not a whole model or other Python objects`,
        source,
      );
    };
    const persistentLoad = (pid: unknown): unknown => {
      if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') throw new Error(`unexpected persistent id (expected ('storage', type, key, location, numel))`);
      const [, cls, key, , numel] = pid;
      const fn = (cls as { fn?: PickleCallable } | null)?.fn;
      const dtype = fn ? storageClasses.get(fn) : undefined;
      if (dtype === undefined) throw new Error('persistent id: the storage type is not a torch.*Storage class');
      if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`persistent id: bad storage key ${JSON.stringify(key)}`);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`persistent id: bad element count for storage '${key}'`);
      let st = storages.get(key);
      if (st === undefined) {
        const entry = `${prefix}data/${key}`;
        if (!zip.has(entry)) throw new Error(`storage '${key}' has no entry '${entry}' in the archive`);
        const e = zip.entries.get(entry)!;
        const need = numel * dtypeSize(dtype);
        if (e.size !== need) throw new Error(`storage '${key}': ${numel} × ${dtype} needs ${need} bytes, the entry has ${e.size}`);
        st = new Storage(key, dtype, zip.read(entry));
        storages.set(key, st);
      } else if (st.dtype !== dtype) throw new Error(`storage '${key}' is used as ${st.dtype} and as ${dtype}`);
      return st;
    };
    const build = (obj: unknown, state: unknown): unknown => {
      // OrderedDict instance state: {'_metadata': ...} (state_dict versions); nothing to apply.
      if (obj instanceof Map && orderedDicts.has(obj) && (state instanceof Map || state === null)) return obj;
      return undefined;
    };
    try {
      return unpickle(zip.read(prefix + 'data.pkl', { maxBytes: MAX_PICKLE_BYTES }), { source: `${source} (${prefix}data.pkl)`, globals, persistentLoad, build }) as CheckpointValue;
    } catch (e) {
      for (const t of made) t.dispose();
      if (e instanceof CheckpointError) throw e;
      if (e instanceof PickleError) throw new CheckpointError(e.message.startsWith(source) ? e.message.slice(source.length + 2) : e.message, source);
      throw e;
    }
  } finally {
    zip.close();
  }
}

/**
 * Finds the state dict inside a loaded checkpoint: the top-level dict of tensors itself, or a
 * dict of tensors under 'state_dict', 'model', 'backbone' or 'model_state_dict'. Strips the
 * DataParallel/DDP `module.` prefix when every key has it. Other entries are disposed.
 */
export function extractStateDict(value: CheckpointValue, source = '<checkpoint>'): Map<string, Tensor> {
  const isTensorDict = (v: unknown): v is Map<string, Tensor> =>
    v instanceof Map && v.size > 0 && [...v].every(([k, t]) => typeof k === 'string' && t instanceof Tensor);
  let sd: Map<string, Tensor> | undefined;
  if (isTensorDict(value)) sd = value;
  else if (value instanceof Map) {
    for (const k of ['state_dict', 'model', 'backbone', 'model_state_dict']) {
      if (isTensorDict(value.get(k))) {
        sd = value.get(k) as Map<string, Tensor>;
        break;
      }
    }
  }
  if (sd === undefined) {
    for (const t of tensorsIn(value)) t.dispose();
    throw new CheckpointError("no state dict found (expected a dict of tensors, or one under 'state_dict', 'model', 'backbone' or 'model_state_dict')", source);
  }
  for (const t of tensorsIn(value)) if (![...sd.values()].includes(t)) t.dispose();
  const keys = [...sd.keys()];
  if (keys.every((k) => k.startsWith('module.'))) {
    return new Map([...sd].map(([k, t]) => [k.slice('module.'.length), t]));
  }
  return sd;
}
