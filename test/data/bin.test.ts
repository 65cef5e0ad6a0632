import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';

const fx = (name: string): string => join(__dirname, '..', 'fixtures', 'data', name);
const expected = JSON.parse(readFileSync(fx('pairs_expected.json'), 'utf8')) as { images: string[]; issame: boolean[] };
const images = expected.images.map((h) => Buffer.from(h, 'hex'));
const tmp = mkdtempSync(join(tmpdir(), 'ecf-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readBin / writeBin', () => {
  it('reads every insightface form to the same pair set', () => {
    for (const name of ['pairs_p2.bin', 'pairs_p3.bin', 'pairs_p4.bin', 'pairs_p5.bin', 'pairs_py2.bin', 'pairs_numpy.bin']) {
      const p = data.readBin(fx(name));
      expect(p.issame).toEqual(expected.issame);
      expect(p.images.map((b) => b.toString('hex'))).toEqual(expected.images);
    }
  });

  it.each([2, 3, 4] as const)('round-trips protocol %i', (protocol) => {
    const path = join(tmp, `rt${protocol}.bin`);
    data.writeBin(path, images, expected.issame, { protocol });
    const back = data.readBin(path);
    expect(back.issame).toEqual(expected.issame);
    expect(back.images.map((b) => b.toString('hex'))).toEqual(expected.images);
    expect(readFileSync(path)[1]).toBe(protocol);
  });

  it('writes the exact bytes that CPython was checked to read (test/fixtures/check_written_bins.py)', () => {
    const imgs = images.slice();
    imgs[5] = Buffer.alloc(0);
    for (const protocol of [2, 3, 4] as const) {
      expect(Buffer.compare(data.encodeBin(imgs, expected.issame, { protocol }), readFileSync(fx(`ours_p${protocol}.bin`)))).toBe(0);
    }
  });

  it('round-trips > 1000 images (APPENDS batches) and empty images', () => {
    const many = Array.from({ length: 2002 }, (_, i) => Buffer.from([i & 255, i >> 8, 0xff]));
    many[7] = Buffer.alloc(0);
    const flags = Array.from({ length: 1001 }, (_, i) => i % 3 === 0);
    for (const protocol of [2, 3, 4] as const) {
      const back = data.parseBin(data.encodeBin(many, flags, { protocol }));
      expect(back.issame).toEqual(flags);
      expect(back.images.length).toBe(2002);
      expect(back.images.every((b, i) => Buffer.compare(b, many[i]!) === 0)).toBe(true);
    }
  });

  it('applies the post-checks', () => {
    expect(() => data.readBin(fx('bad_shape_pairs.bin'))).toThrow(/5 images for 3 pairs/);
    expect(() => data.readBin(fx('bad_not_tuple.bin'))).toThrow(/expected a pickled 2-tuple/);
    expect(() => data.readBin(fx('bad_issame_type.bin'))).toThrow(/issame\[0\] is not a bool/);
    expect(() => data.writeBin(join(tmp, 'x.bin'), images.slice(0, 3), [true])).toThrow(/3 images for 1 pairs/);
  });
});
