/**
 * The default whitelist of the restricted unpickler: the constructions insightface `.bin` files
 * use (`_codecs.encode(str, 'latin1')`, `builtins.bytes()`, 1-D uint8 numpy arrays), and the
 * helpers shared with the VM in pickle.ts.
 * @internal
 */

/** A callable that the caller allows a pickle to reach (GLOBAL + REDUCE / NEWOBJ). */
export type PickleCallable = (args: unknown[]) => unknown;

/** True for the frozen arrays that represent Python tuples. */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** A global reached by GLOBAL/STACK_GLOBAL and accepted by a whitelist. */
export class GlobalRef {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly fn: PickleCallable,
  ) {}
}

/** numpy placeholders: a dtype and an ndarray awaiting its BUILD state. */
export class NumpyDtype {
  byteorder = '|';
  built = false;
  constructor(readonly name: string) {}
}
export class NumpyArrayPending {
  value: Buffer | undefined;
}
export const NUMPY_NDARRAY = Symbol('numpy.ndarray');

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof GlobalRef) return `global ${v.module}.${v.name}`;
  if (Buffer.isBuffer(v)) return `bytes[${v.length}]`;
  if (isTuple(v)) return `tuple[${v.length}]`;
  if (Array.isArray(v)) return `list[${v.length}]`;
  if (v instanceof Map) return 'dict';
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : `${typeof v} ${String(v)}`;
}

/** The default whitelist (insightface `.bin` forms). */
export function defaultGlobal(module: string, name: string): PickleCallable | typeof NUMPY_NDARRAY | undefined {
  if (module === '_codecs' && name === 'encode') {
    return (args) => {
      const [text, enc] = args;
      if (args.length !== 2 || typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) {
        throw new Error(`_codecs.encode is accepted only as encode(str, 'latin1'), got (${args.map(describe).join(', ')})`);
      }
      const out = Buffer.allocUnsafe(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 255) throw new Error(`_codecs.encode(str, 'latin1'): code point U+${c.toString(16)} at ${i} is not latin-1`);
        out[i] = c;
      }
      return out;
    };
  }
  if ((module === '__builtin__' || module === 'builtins') && name === 'bytes') {
    return (args) => {
      if (args.length !== 0) throw new Error(`${module}.bytes is accepted only with no arguments (b""), got ${args.length}`);
      return Buffer.alloc(0);
    };
  }
  const numpyCore = module === 'numpy.core.multiarray' || module === 'numpy._core.multiarray';
  if (numpyCore && name === '_reconstruct') {
    return (args) => {
      const [cls, shape, code] = args;
      const okShape = isTuple(shape) && shape.length === 1 && shape[0] === 0;
      const okCode = Buffer.isBuffer(code) && code.length === 1 && code[0] === 0x62;
      if (args.length !== 3 || !(cls instanceof GlobalRef && cls.fn === ndarrayMarker) || !okShape || !okCode) {
        throw new Error(`numpy _reconstruct is accepted only as _reconstruct(numpy.ndarray, (0,), b'b')`);
      }
      return new NumpyArrayPending();
    };
  }
  if (module === 'numpy' && name === 'ndarray') return NUMPY_NDARRAY;
  if (module === 'numpy' && name === 'dtype') {
    return (args) => {
      const [n, align, copy] = args;
      if (args.length !== 3 || (n !== 'u1' && n !== 'uint8') || align !== false || copy !== true) {
        throw new Error(`numpy.dtype is accepted only as dtype('u1', False, True) (uint8 images), got (${args.map(describe).join(', ')})`);
      }
      return new NumpyDtype('u1');
    };
  }
  return undefined;
}
export const ndarrayMarker: PickleCallable = () => {
  throw new Error('numpy.ndarray cannot be called directly');
};

/** Default BUILD handling for the numpy placeholders; undefined when not applicable. */
export function defaultBuild(obj: unknown, state: unknown): unknown {
  if (obj instanceof NumpyDtype) {
    // state = (3, '|', None, None, None, -1, -1, 0)
    if (!isTuple(state) || state.length < 8 || state[0] !== 3 || (state[1] !== '|' && state[1] !== '<' && state[1] !== '=') || state[2] !== null || state[3] !== null || state[4] !== null) {
      throw new Error(`numpy dtype state ${describe(state)} is not a plain uint8 dtype`);
    }
    obj.built = true;
    return obj;
  }
  if (obj instanceof NumpyArrayPending) {
    // state = (1, (n,), dtype, is_fortran, rawdata)
    if (!isTuple(state) || state.length !== 5 || state[0] !== 1) throw new Error(`numpy ndarray state ${describe(state)} is not (1, shape, dtype, fortran, data)`);
    const [, shape, dtype, fortran, data] = state;
    if (!isTuple(shape) || shape.length !== 1 || typeof shape[0] !== 'number') throw new Error('numpy ndarray: only 1-D arrays are accepted');
    if (!(dtype instanceof NumpyDtype) || !dtype.built) throw new Error('numpy ndarray: only dtype uint8 is accepted');
    if (fortran !== false) throw new Error('numpy ndarray: only C-order arrays are accepted');
    if (!Buffer.isBuffer(data) || data.length !== shape[0]) throw new Error(`numpy ndarray: data is ${describe(data)}, expected bytes[${String(shape[0])}]`);
    obj.value = data;
    return data;
  }
  return undefined;
}

/** Resolves numpy placeholders (memoised before their BUILD) to their built values. */
export function resolve(v: unknown): unknown {
  return v instanceof NumpyArrayPending && v.value !== undefined ? v.value : v;
}
