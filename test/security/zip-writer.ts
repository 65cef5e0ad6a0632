/** A small ZIP writer for tests (stored or deflate entries, sizes overridable to lie). */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../lib/io/zip.js';

export interface ZipEntryIn {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Uncompressed size to declare instead of the true one. */
  declaredSize?: number;
}

export function writeZip(entries: ZipEntryIn[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const size = e.declaredSize ?? e.data.length;
    const crc = crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(e.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(e.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** Pickle opcodes helpers (protocol 2) for hand-made checkpoints. */
export const P = {
  str(s: string): Buffer {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  int(n: number): Buffer {
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT
    b.writeInt32LE(n, 1);
    return b;
  },
  global(mod: string, name: string): Buffer {
    return Buffer.from(`c${mod}\n${name}\n`, 'latin1');
  },
};

/**
 * A torch.save-style zip holding {'w': _rebuild_tensor_v2(storage '0' of `numel` floats, 0, size, stride)}.
 */
export function torchZip(size: number[], stride: number[], numel: number): Buffer {
  const tuple = (xs: number[]): Buffer => Buffer.concat([Buffer.from('('), ...xs.map(P.int), Buffer.from('t')]);
  const pkl = Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d]), // PROTO 2, EMPTY_DICT
    P.str('w'),
    P.global('torch._utils', '_rebuild_tensor_v2'),
    Buffer.from('('), // MARK (args)
    Buffer.from('('), // MARK (persistent id)
    P.str('storage'),
    P.global('torch', 'FloatStorage'),
    P.str('0'),
    P.str('cpu'),
    P.int(numel),
    Buffer.from('tQ'), // TUPLE, BINPERSID
    P.int(0),
    tuple(size),
    tuple(stride),
    Buffer.from([0x89]), // NEWFALSE
    P.global('collections', 'OrderedDict'),
    Buffer.from(')R'), // EMPTY_TUPLE, REDUCE
    Buffer.from('tR'), // TUPLE, REDUCE
    Buffer.from('s.'), // SETITEM, STOP
  ]);
  const storage = new Uint8Array(numel * 4);
  new Float32Array(storage.buffer).fill(1.5);
  return writeZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: storage },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}
