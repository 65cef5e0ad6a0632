import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';

const fx = (name: string): string => join(__dirname, '..', 'fixtures', 'data', name);
const expected = JSON.parse(readFileSync(fx('pairs_expected.json'), 'utf8')) as { images: string[]; issame: boolean[] };
const images = expected.images.map((h) => Buffer.from(h, 'hex'));

describe('unpickle', () => {
  it.each(['pairs_p2.bin', 'pairs_p3.bin', 'pairs_p4.bin', 'pairs_p5.bin', 'pairs_py2.bin', 'pairs_numpy.bin'])('reads %s', (name) => {
    const v = data.unpickle(readFileSync(fx(name)), { source: name }) as unknown[];
    expect(data.isTuple(v)).toBe(true);
    const [bins, issame] = v as [Buffer[], boolean[]];
    expect(bins.length).toBe(6);
    bins.forEach((b, i) => expect(Buffer.compare(b, images[i]!)).toBe(0));
    expect(issame).toEqual(expected.issame);
  });

  it('reads the >= 64 KiB object written between protocol-4 frames', () => {
    const pairs = data.readBin(fx('pairs_p4_big.bin'));
    const big = Buffer.alloc(70000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) % 256;
    expect(Buffer.compare(pairs.images[4]!, big)).toBe(0);
    expect(Buffer.compare(pairs.images[5]!, images[5]!)).toBe(0);
  });

  it('reads empty bytes at protocol 2 (__builtin__.bytes()) and a 1-item APPEND', () => {
    const e = data.readBin(fx('pairs_p2_empty.bin'));
    expect(e.images[0]!.length).toBe(0);
    expect(Buffer.compare(e.images[1]!, images[0]!)).toBe(0);
    const one = data.readBin(fx('pairs_p2_one.bin'));
    expect(one.issame).toEqual([false]);
  });

  it('decodes scalars, dicts, sets, longs, floats (the torch.save data.pkl forms)', () => {
    // pickle.dumps({'a': (1, -2, 300, 70000, 2**70, -2**63, 1.5, None, True), 'b': [], 'c': frozenset({3})}, protocol=4)
    const p4 = Buffer.from(
      '8004954a000000000000007d94288c016194284b014afeffffff4d2c014a701101008a090000000000000000408a080000000000000080473ff80000000000004e8874948c0162945d948c016394284b039194752e',
      'hex',
    );
    const d = data.unpickle(p4) as Map<string, unknown>;
    expect(d.get('a')).toEqual([1, -2, 300, 70000, 2n ** 70n, -(2n ** 63n), 1.5, null, true]);
    expect(data.isTuple(d.get('a'))).toBe(true);
    expect(d.get('b')).toEqual([]);
    expect(d.get('c')).toEqual(new Set([3]));
    // protocol 2 writes a set as __builtin__.set([...]): a global, refused by default
    const p2 = Buffer.from(
      '80027d7100285801000000617101284b014afeffffff4d2c014a701101008a090000000000000000408a080000000000000080473ff80000000000004e8874710258010000006271035d71045801000000637105635f5f6275696c74696e5f5f0a7365740a71065d7107284b014b0265857108527109752e',
      'hex',
    );
    expect(() => data.unpickle(p2, { source: 'set.pkl' })).toThrow(/^set\.pkl: pickle GLOBAL at byte 84: refusing global __builtin__\.set/);
  });

  it('refuses code with an error naming the opcode, the global and the offset', () => {
    expect(() => data.readBin(fx('evil_system_p2.bin'))).toThrow(/GLOBAL at byte \d+: refusing global (posix|os)\.system/);
    expect(() => data.readBin(fx('evil_system_p4.bin'))).toThrow(/STACK_GLOBAL at byte \d+: refusing global (posix|os)\.system/);
    expect(() => data.readBin(fx('evil_system_p0.bin'))).toThrow(/refus/);
    expect(() => data.readBin(fx('evil_eval_p3.bin'))).toThrow(/refusing global builtins\.eval/);
    expect(() => data.readBin(fx('evil_codec.bin'))).toThrow(/REDUCE at byte 36: _codecs\.encode: _codecs\.encode is accepted only as encode\(str, 'latin1'\)/);
    expect(() => data.readBin(fx('evil_inst.bin'))).toThrow(/refus/);
    expect(() => data.readBin(fx('evil_obj.bin'))).toThrow(/GLOBAL at byte 3: refusing global os\.system/);
    expect(() => data.readBin(fx('evil_build.bin'))).toThrow(/BUILD at byte 4: refusing BUILD/);
    expect(() => data.readBin(fx('evil_persid.bin'))).toThrow(/BINPERSID at byte 8: refusing a persistent id/);
    expect(() => data.readBin(fx('evil_ext1.bin'))).toThrow(/EXT1 at byte 2: refused/);
    expect(() => data.readBin(fx('evil_numpy_f4.bin'))).toThrow(/numpy\.dtype is accepted only as dtype\('u1'/);
  });

  it('checks declared lengths before allocating', () => {
    expect(() => data.readBin(fx('bad_binbytes_len.bin'))).toThrow(/BINBYTES at byte 2: BINBYTES declares 2147483647 bytes but only 3 remain/);
    expect(() => data.readBin(fx('bad_binbytes8_len.bin'))).toThrow(/BINBYTES8 declares 4611686018427387904 bytes but only 3 remain/);
    expect(() => data.readBin(fx('bad_binstring_neg.bin'))).toThrow(/BINSTRING at byte 2: negative length -5/);
    expect(() => data.readBin(fx('bad_frame_len.bin'))).toThrow(/FRAME declares 1099511627776 bytes/);
    expect(() => data.readBin(fx('bad_truncated.bin'))).toThrow(/truncated|STOP/);
  });

  it('lets hooks whitelist globals and persistent ids', () => {
    // collections.OrderedDict() ; d['x'] = persistent_load(('storage', 3))
    const bytes = Buffer.from('800263636f6c6c656374696f6e730a4f726465726564446963740a2952580100000078580700000073746f726167654b038651732e', 'hex');
    expect(() => data.unpickle(bytes)).toThrow(/refusing global collections\.OrderedDict/);
    const v = data.unpickle(bytes, {
      globals: (m, n) => (m === 'collections' && n === 'OrderedDict' ? () => new Map() : undefined),
      persistentLoad: (pid) => `loaded:${(pid as unknown[]).join(',')}`,
    }) as Map<string, string>;
    expect(v.get('x')).toBe('loaded:storage,3');
  });

  it('fails only with PickleError on randomly corrupted pickles (fuzz, fixed seed)', () => {
    const seeds = ['pairs_p2.bin', 'pairs_p3.bin', 'pairs_p4.bin', 'pairs_py2.bin', 'pairs_numpy.bin'].map((n) => readFileSync(fx(n)));
    let s = 12345;
    const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
    const other: string[] = [];
    for (let it = 0; it < 5000; it++) {
      const b = Buffer.from(seeds[it % seeds.length]!);
      for (let j = 0, m = 1 + Math.floor(rnd() * 4); j < m; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        data.unpickle(b);
      } catch (e) {
        if (!(e instanceof data.PickleError)) other.push(String(e));
      }
    }
    expect(other).toEqual([]);
  });
});
