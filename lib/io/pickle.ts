/**
 * A restricted pickle virtual machine: reads the data that Python's `pickle` writes (protocols
 * 0–5, text and binary forms) without ever naming or calling code that the caller did not allow.
 *
 * Values map as follows: `bytes`/py2 `str` (SHORT_BINSTRING/BINSTRING)/`bytearray` → `Buffer`
 * (a view into the input, no copy), `str` → `string`, `int` → `number` (or `bigint` beyond
 * 2^53), `float` → `number`, `bool` → `boolean`, `None` → `null`, `list` → array, `tuple` →
 * frozen array (see {@link isTuple}), `dict` → `Map`, `set`/`frozenset` → `Set`.
 *
 * Code is reached only through GLOBAL/STACK_GLOBAL (+ REDUCE/NEWOBJ/BUILD) and PERSID/BINPERSID.
 * Those are refused unless the caller's hooks accept them or they are in the default whitelist
 * (the forms that insightface verification `.bin` files use, see docs/formats.md):
 * `_codecs.encode(str, 'latin1')`, `__builtin__.bytes()`/`builtins.bytes()` and the 1-D uint8
 * numpy array form `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` + BUILD.
 */

import {
  defaultBuild,
  defaultGlobal,
  describe,
  GlobalRef,
  isTuple,
  ndarrayMarker,
  NUMPY_NDARRAY,
  NumpyArrayPending,
  NumpyDtype,
  resolve,
  type PickleCallable,
} from './pickle-whitelist.js';

export { isTuple, type PickleCallable };

/** Error raised for malformed or refused pickles; names the source, the opcode and the offset. */
export class PickleError extends Error {
  constructor(
    message: string,
    readonly source: string,
    readonly offset: number,
    readonly opcode?: string,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Name of the data's origin (file path), used in error messages. */
  source?: string;
  /**
   * Whitelist hook: returns the callable that `module.name` stands for, or `undefined` to refuse
   * it. Consulted before the default whitelist. REDUCE and NEWOBJ call it with the argument
   * tuple as an array. A callable standing for a dict-like class (e.g. `collections.OrderedDict`)
   * must return a `Map` for SETITEM(S) to fill, a list-like one an array for APPEND(S).
   */
  globals?: (module: string, name: string) => PickleCallable | undefined;
  /**
   * BUILD hook: `obj.__setstate__(state)`. Returns the built object (may be `obj` itself), or
   * `undefined` to refuse. Consulted for objects the default whitelist does not know.
   */
  build?: (obj: unknown, state: unknown) => unknown;
  /** PERSID/BINPERSID hook (e.g. torch.save storages). Without it, persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function opName(op: number): string {
  return OPNAMES[op] ?? `unknown opcode 0x${op.toString(16).padStart(2, '0')}`;
}

/**
 * Reads one pickle from `bytes`. Throws {@link PickleError} for malformed data and for any
 * construction that would name or call code outside the whitelist (naming the opcode, the global
 * and the byte offset). Every declared length is checked against the remaining bytes before
 * anything is allocated.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): unknown {
  const source = options.source ?? '<pickle>';
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf.length;
  let pos = 0;
  let opStart = 0;
  let op = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string): never => {
    throw new PickleError(`${source}: pickle ${opName(op)} at byte ${opStart}: ${msg}`, source, opStart, opName(op));
  };
  const need = (len: number | bigint, what: string): number => {
    const remaining = n - pos;
    if (typeof len === 'bigint' ? len > BigInt(remaining) : len > remaining) {
      fail(`${what} declares ${String(len)} bytes but only ${remaining} remain (truncated or corrupt)`);
    }
    return Number(len);
  };
  const take = (len: number): Buffer => {
    const out = buf.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  const u8 = (): number => (need(1, 'argument'), buf[pos++]!);
  const u16 = (): number => (need(2, 'argument'), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = (): number => (need(4, 'argument'), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = (): number => (need(4, 'argument'), (pos += 4), buf.readInt32LE(pos - 4));
  const u64 = (): bigint => (need(8, 'argument'), (pos += 8), buf.readBigUInt64LE(pos - 8));
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('line argument is not terminated (truncated)');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    const base = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= base) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (marks.length === 0) fail('no MARK on the stack');
    const m = marks.pop()!;
    return stack.splice(m);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} is not defined`);
    return resolve(memo.get(i));
  };
  const memoPut = (i: number): void => {
    memo.set(i, top());
  };
  const asList = (v: unknown): unknown[] => {
    if (!Array.isArray(v) || isTuple(v)) fail(`expects a list, got ${describe(v)}`);
    return v as unknown[];
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(`expects a dict, got ${describe(d)}`);
    if (items.length % 2) fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const findGlobal = (module: string, name: string): GlobalRef => {
    const user = options.globals?.(module, name);
    if (user) return new GlobalRef(module, name, user);
    const def = defaultGlobal(module, name);
    if (def === NUMPY_NDARRAY) return new GlobalRef(module, name, ndarrayMarker);
    if (def) return new GlobalRef(module, name, def);
    return fail(`refusing global ${module}.${name}: only the whitelisted constructions are accepted (_codecs.encode, builtins.bytes, 1-D uint8 numpy arrays)`);
  };
  const call = (fnv: unknown, args: unknown): unknown => {
    if (!(fnv instanceof GlobalRef)) return fail(`refusing to call ${describe(fnv)} (not a whitelisted global)`);
    if (!isTuple(args)) return fail(`arguments of ${fnv.module}.${fnv.name} must be a tuple, got ${describe(args)}`);
    try {
      return fnv.fn([...args]);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      return fail(`${fnv.module}.${fnv.name}: ${(e as Error).message}`);
    }
  };
  const toInt = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const longBytes = (b: Buffer): number | bigint => {
    if (b.length === 0) return 0;
    // little-endian two's complement; via hex so that long integers cost linear time
    let v = BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return toInt(v);
  };

  for (;;) {
    if (pos >= n) {
      op = 0;
      opStart = pos;
      fail('data ends before STOP (truncated)');
    }
    opStart = pos;
    op = buf[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: { // FRAME: a buffering hint; only its length is checked
        const len = u64();
        need(len, 'FRAME');
        break;
      }
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) fail(`stack holds ${stack.length} values at STOP (expected exactly 1)`);
        return resolve(stack[0]);
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x49: { // INT (text): I01/I00 are bools
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^[-+]?\d{1,4300}$/.test(s)) stack.push(toInt(BigInt(s)));
        else fail(`bad INT literal ${JSON.stringify(s)}`);
        break;
      }
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longBytes(take(need(u8(), 'LONG1')))); break; // LONG1
      case 0x8b: { // LONG4
        const len = i32();
        if (len < 0) fail('negative length');
        stack.push(longBytes(take(need(len, 'LONG4'))));
        break;
      }
      case 0x47: { // BINFLOAT (big-endian double)
        need(8, 'BINFLOAT');
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      }
      case 0x55: stack.push(take(need(u8(), 'SHORT_BINSTRING'))); break; // SHORT_BINSTRING (py2 str → bytes)
      case 0x54: { // BINSTRING: 4-byte signed length
        const len = i32();
        if (len < 0) fail(`negative length ${len}`);
        stack.push(take(need(len, 'BINSTRING')));
        break;
      }
      case 0x43: stack.push(take(need(u8(), 'SHORT_BINBYTES'))); break;
      case 0x42: stack.push(take(need(u32(), 'BINBYTES'))); break;
      case 0x8e: stack.push(take(need(u64(), 'BINBYTES8'))); break;
      case 0x96: stack.push(Buffer.from(take(need(u64(), 'BYTEARRAY8')))); break; // mutable copy
      case 0x8c: stack.push(take(need(u8(), 'SHORT_BINUNICODE')).toString('utf8')); break;
      case 0x58: stack.push(take(need(u32(), 'BINUNICODE')).toString('utf8')); break;
      case 0x8d: stack.push(take(need(u64(), 'BINUNICODE8')).toString('utf8')); break;
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x85: { const a = pop(); stack.push(tuple([a])); break; }
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; }
      case 0x61: { const v = pop(); asList(top()).push(v); break; } // APPEND
      case 0x65: { // APPENDS
        const items = popMark();
        const list = asList(top());
        for (const it of items) list.push(it);
        break;
      }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const d = new Map(); stack.push(d); setItems(d, items); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`expects a set, got ${describe(s)}`);
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name must be str');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fnv = pop();
        stack.push(call(fnv, args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args) → the whitelisted callable with args
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = pop();
        let built: unknown;
        try {
          built = defaultBuild(obj, state);
          if (built === undefined && options.build && !(obj instanceof NumpyArrayPending) && !(obj instanceof NumpyDtype)) {
            built = options.build(obj, state);
          }
        } catch (e) {
          if (e instanceof PickleError) throw e;
          fail((e as Error).message);
        }
        if (built === undefined) fail(`refusing BUILD (__setstate__) on ${describe(obj)}`);
        stack.push(built);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('refusing a persistent id (no persistentLoad hook given)');
        try {
          stack.push(options.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof PickleError) throw e;
          fail((e as Error).message);
        }
        break;
      }
      case 0x50: { // PERSID (text id)
        const pid = line();
        if (!options.persistentLoad) fail('refusing a persistent id (no persistentLoad hook given)');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      // Protocol 0/1 text forms (older tools wrote .bin pair sets this way); they build only
      // plain values, and GLOBAL/REDUCE stay as restricted as in the binary protocols.
      case 0x46: stack.push(floatLiteral(line(), fail)); break; // FLOAT
      case 0x4c: { // LONG: decimal digits, Python 2 adds an 'L'
        const s = line();
        const m = /^([-+]?\d+)L?$/.exec(s);
        if (!m || m[1]!.length > 4300) fail(`bad LONG literal ${JSON.stringify(s.slice(0, 40))}`);
        stack.push(toInt(BigInt(m![1]!)));
        break;
      }
      case 0x53: stack.push(stringLiteral(line(), fail)); break; // STRING: a quoted py2 str repr → bytes
      case 0x56: stack.push(rawUnicodeEscape(take(lineEnd(buf, pos, fail) - pos), fail)); pos++; break; // UNICODE
      case 0x70: memoPut(memoKey(line(), fail)); break; // PUT
      case 0x67: stack.push(memoGet(memoKey(line(), fail))); break; // GET
      case 0x69: // INST
        fail(`refusing INST ${line()}.${line()} (instantiates a class)`);
        break;
      case 0x6f: // OBJ
      case 0x92: // NEWOBJ_EX
      case 0x82: case 0x83: case 0x84: // EXT1/2/4 (extension registry)
      case 0x97: case 0x98: // NEXT_BUFFER / READONLY_BUFFER (out-of-band buffers)
        fail('refused: this opcode names or calls code, or needs out-of-band data');
        break;
      default:
        fail('refused: opcode not supported by the restricted unpickler');
    }
  }
}

type Fail = (msg: string) => never;

function lineEnd(buf: Buffer, pos: number, fail: Fail): number {
  const end = buf.indexOf(0x0a, pos);
  if (end < 0) fail('line argument is not terminated (truncated)');
  return end;
}

function memoKey(s: string, fail: Fail): number {
  if (!/^\d{1,9}$/.test(s)) fail(`bad memo key ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

/** A protocol-0 FLOAT: Python's repr of a float (also inf/nan). */
function floatLiteral(s: string, fail: Fail): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) fail(`bad FLOAT literal ${JSON.stringify(s.slice(0, 40))}`);
  return Number(t);
}

/** A protocol-0 STRING: a quoted Python 2 `repr(str)`, unescaped to bytes (Latin-1). */
function stringLiteral(s: string, fail: Fail): Buffer {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail('STRING argument is not a quoted string');
  const body = s.slice(1, -1);
  const out = Buffer.alloc(body.length);
  let n = 0;
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '\n': -1 };
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c > 255) fail('STRING argument holds a character above \\xff');
    if (c !== 92) {
      out[n++] = c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) fail('STRING argument ends in a lone backslash');
    if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('bad \\x escape in STRING');
      out[n++] = parseInt(h, 16);
      i += 2;
    } else if (e! >= '0' && e! <= '7') {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out[n++] = parseInt(m, 8) & 0xff;
      i += m.length - 1;
    } else if (e! in simple) {
      if (simple[e!]! >= 0) out[n++] = simple[e!]!;
    } else {
      out[n++] = 92;
      out[n++] = e!.charCodeAt(0) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** A protocol-0 UNICODE argument: raw-unicode-escape (Latin-1 bytes, \\uXXXX and \\UXXXXXXXX). */
function rawUnicodeEscape(b: Buffer, fail: Fail): string {
  return b.toString('latin1').replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/g, (_, h: string) => {
    const cp = parseInt(h.slice(1), 16);
    if (cp > 0x10ffff) fail(`\\U escape ${h} is beyond Unicode`);
    return String.fromCodePoint(cp);
  });
}
