// Protocol 0/1 pickles (issue 17): the text opcodes build only plain values; everything else is
// still refused. The pickles below were written by CPython 3.11's pickle (p0, misc) and in the
// Python 2 form (STRING opcodes: b'S' + repr(b)[1:] per image, as Python 2's pickle wrote str).
import { describe, expect, it } from 'vitest';
import { parseBin } from '../../lib/data/bin.js';
import { PickleError, unpickle } from '../../lib/io/pickle.js';

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
// pickle.dumps(([bytes(range(256)), b'\xff\xd8\xffabc\\\\\'"\n'], [True]), protocol=0)
const P0 = b64('KChscDAKY19jb2RlY3MKZW5jb2RlCnAxCihWXHUwMDAwAQIDBAUGBwgJXHUwMDBhCwxcdTAwMGQODxAREhMUFRYXGBlcdTAwMWEbHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1x1MDA1Y11eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8KcDIKVmxhdGluMQpwMwp0cDQKUnA1CmFnMQooVv/Y/2FiY1x1MDA1Y1x1MDA1YyciXHUwMDBhCnA2CmczCnRwNwpScDgKYShscDkKSTAxCmF0cDEwCi4=');
// the same pair set as Python 2 wrote it: (lp0 S'\x00\x01…' p1 a … I01 a t
const PY2 = b64('KChscDAKUydceDAwXHgwMVx4MDJceDAzXHgwNFx4MDVceDA2XHgwN1x4MDhcdFxuXHgwYlx4MGNcclx4MGVceDBmXHgxMFx4MTFceDEyXHgxM1x4MTRceDE1XHgxNlx4MTdceDE4XHgxOVx4MWFceDFiXHgxY1x4MWRceDFlXHgxZiAhIiMkJSZcJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5ceDdmXHg4MFx4ODFceDgyXHg4M1x4ODRceDg1XHg4Nlx4ODdceDg4XHg4OVx4OGFceDhiXHg4Y1x4OGRceDhlXHg4Zlx4OTBceDkxXHg5Mlx4OTNceDk0XHg5NVx4OTZceDk3XHg5OFx4OTlceDlhXHg5Ylx4OWNceDlkXHg5ZVx4OWZceGEwXHhhMVx4YTJceGEzXHhhNFx4YTVceGE2XHhhN1x4YThceGE5XHhhYVx4YWJceGFjXHhhZFx4YWVceGFmXHhiMFx4YjFceGIyXHhiM1x4YjRceGI1XHhiNlx4YjdceGI4XHhiOVx4YmFceGJiXHhiY1x4YmRceGJlXHhiZlx4YzBceGMxXHhjMlx4YzNceGM0XHhjNVx4YzZceGM3XHhjOFx4YzlceGNhXHhjYlx4Y2NceGNkXHhjZVx4Y2ZceGQwXHhkMVx4ZDJceGQzXHhkNFx4ZDVceGQ2XHhkN1x4ZDhceGQ5XHhkYVx4ZGJceGRjXHhkZFx4ZGVceGRmXHhlMFx4ZTFceGUyXHhlM1x4ZTRceGU1XHhlNlx4ZTdceGU4XHhlOVx4ZWFceGViXHhlY1x4ZWRceGVlXHhlZlx4ZjBceGYxXHhmMlx4ZjNceGY0XHhmNVx4ZjZceGY3XHhmOFx4ZjlceGZhXHhmYlx4ZmNceGZkXHhmZVx4ZmYnCnAxCmFTJ1x4ZmZceGQ4XHhmZmFiY1xcXFxcJyJcbicKcDIKYShscDMKSTAxCmF0cDQKLg==');
// pickle.dumps(('a\\b\u00e9\u4e2d\U0001F600\n', 1.5, float('-inf'), 12345678901234567890, -7, [1, 2], {'k': None}), protocol=0)
const MISC = b64('KFZhXHUwMDVjYulcdTRlMmRcVTAwMDFmNjAwXHUwMDBhCnAwCkYxLjUKRi1pbmYKTDEyMzQ1Njc4OTAxMjM0NTY3ODkwTApJLTcKKGxwMQpJMQphSTIKYShkcDIKVmsKcDMKTnN0cDQKLg==');

const images = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xd8, 0xff, ...Buffer.from('abc\\\\\'"\n', 'latin1')])];

describe('protocol 0/1 pickles', () => {
  it('a protocol-0 .bin pair set (UNICODE, PUT, GET, _codecs.encode) reads like its binary form', () => {
    const r = parseBin(P0, 'p0.bin');
    expect(r.issame).toEqual([true]);
    expect(r.images.map((b) => [...b])).toEqual(images.map((b) => [...b]));
  });

  it('a Python 2 .bin (STRING repr escapes, INT bools) reads', () => {
    const r = parseBin(PY2, 'py2.bin');
    expect(r.issame).toEqual([true]);
    expect(r.images.map((b) => [...b])).toEqual(images.map((b) => [...b]));
  });

  it('FLOAT, LONG, INT, UNICODE escapes (\\u, \\U), lists and dicts', () => {
    const v = unpickle(MISC) as unknown[];
    expect(v[0]).toBe('a\\b\u00e9\u4e2d\u{1F600}\n');
    expect(v.slice(1, 5)).toEqual([1.5, -Infinity, 12345678901234567890n, -7]);
    expect(v[5]).toEqual([1, 2]);
    expect(v[6]).toEqual(new Map([['k', null]]));
  });

  it('still refuses anything outside the whitelist, and malformed text arguments', () => {
    expect(() => unpickle(Buffer.from("cos\nsystem\n(S'echo hi'\ntR.", 'latin1'))).toThrow(/refusing global os\.system/);
    expect(() => unpickle(Buffer.from('(i__main__\nEvil\n.', 'latin1'))).toThrow(/refusing INST/);
    expect(() => unpickle(Buffer.from('Fabc\n.', 'latin1'))).toThrow(PickleError);
    expect(() => unpickle(Buffer.from('Labc\n.', 'latin1'))).toThrow(/bad LONG literal/);
    expect(() => unpickle(Buffer.from("S'abc\n.", 'latin1'))).toThrow(/not a quoted string/);
    expect(() => unpickle(Buffer.from("S'\\x4'\n.", 'latin1'))).toThrow(/bad \\x escape/);
    expect(() => unpickle(Buffer.from('Vabc', 'latin1'))).toThrow(/not terminated/);
    expect(() => unpickle(Buffer.from('g7\n.', 'latin1'))).toThrow(/memo key 7 is not defined/);
    expect(() => unpickle(Buffer.from('I1\npx\n.', 'latin1'))).toThrow(/bad memo key/);
    expect(() => unpickle(Buffer.from('L' + '9'.repeat(5000) + '\n.', 'latin1'))).toThrow(/bad LONG literal/);
  });
});
