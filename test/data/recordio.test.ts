import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';
import { readRawRecord } from '../../lib/data/recordio.js';
import { encodeRecord } from '../../lib/data/recordio-format.js';

const fx = (...p: string[]): string => join(__dirname, '..', 'fixtures', 'data', ...p);
const tmp = mkdtempSync(join(tmpdir(), 'ecf-rec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const M = Buffer.from([0x0a, 0x23, 0xd7, 0xce]);
const jpeg = readFileSync(fx('img_rgb420.jpg'));
// Same samples as test/fixtures/make_rec.py
const samples = [
  { label: 0, image: jpeg },
  { label: 0, image: Buffer.concat([M, Buffer.from('abcd'), M, M, Buffer.from('tail')]) },
  { label: 1, image: Buffer.concat([Buffer.from('xy'), M, Buffer.from('zzzz'), M]) },
  { label: 2, image: Buffer.concat([Buffer.from('0123'), M]) },
  { label: 2, image: jpeg },
];

function copyPack(name: string): string {
  const d = join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d);
  for (const f of ['train.rec', 'train.idx', 'property']) {
    try {
      copyFileSync(fx(name, f), join(d, f));
    } catch {
      /* rec_nohdr has no property */
    }
  }
  return d;
}

describe('RecordIO container', () => {
  it('splits payloads at aligned magics exactly as dmlc does', () => {
    const p = Buffer.concat([Buffer.alloc(8, 1), M, M, Buffer.from('ab'), M]);
    const rec = encodeRecord(p);
    // parts: [8 bytes] cflag1, [0] cflag2, then "ab"+M (6 bytes, magic unaligned at 18) cflag3
    const lrec = (o: number): [number, number] => [rec.readUInt32LE(o + 4) >>> 29, rec.readUInt32LE(o + 4) & ((1 << 29) - 1)];
    expect(lrec(0)).toEqual([1, 8]);
    expect(lrec(16)).toEqual([2, 0]);
    expect(lrec(24)).toEqual([3, 6]);
    expect(rec.length).toBe(24 + 8 + 8); // 6 bytes + 2 padding
    const file = join(tmp, 'one.rec');
    writeFileSync(file, rec);
    expect(Buffer.compare(readRawRecord(file, 0), p)).toBe(0);
  });
});

describe('openRecordIO', () => {
  it.each(['rec_f2r', 'rec_scalar', 'rec_nohdr'])('reads the mxnet-written pack %s', (name) => {
    const ds = data.openRecordIO(fx(name));
    try {
      expect(ds.length).toBe(5);
      expect(ds.numClasses).toBe(3);
      for (let i = 0; i < 5; i++) {
        const s = ds.read(i);
        expect(s.label).toBe(samples[i]!.label);
        expect(Buffer.compare(s.image, samples[i]!.image)).toBe(0);
      }
      if (name !== 'rec_nohdr') {
        expect(ds.imageSize).toEqual([12, 16]);
        expect(ds.identities).toEqual([[0, 2], [2, 3], [3, 5]]);
      }
    } finally {
      ds.close();
    }
  });

  it('writes byte-identical files to the mxnet port (face2rec2 layout)', async () => {
    const out = join(tmp, 'ours');
    const r = await data.writeRecordIO(out, samples, { imageSize: [12, 16] });
    expect(r).toMatchObject({ images: 5, numClasses: 3 });
    for (const f of ['train.rec', 'train.idx', 'property']) {
      expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(fx('rec_f2r', f))), f).toBe(0);
    }
  });

  it('round-trips scalar labels, async iterables and image size from the JPEG header', async () => {
    const out = join(tmp, 'scalar');
    async function* gen() {
      for (const s of samples) yield s;
    }
    const r = await data.writeRecordIO(out, gen(), { labelForm: 'scalar' });
    expect(r.imageSize).toEqual([12, 16]);
    const ds = data.openRecordIO(out);
    expect(ds.read(3).label).toBe(2);
    expect(Buffer.compare(ds.read(1).image, samples[1]!.image)).toBe(0);
    ds.close();
    const grouped = join(tmp, 'grouped');
    await data.writeRecordIO(grouped, [{ images: [samples[0]!.image, samples[1]!.image] }, { images: [samples[2]!.image] }, { images: [samples[3]!.image, samples[4]!.image] }], { imageSize: [12, 16] });
    expect(Buffer.compare(readFileSync(join(grouped, 'train.rec')), readFileSync(fx('rec_f2r', 'train.rec')))).toBe(0);
    await expect(data.writeRecordIO(join(tmp, 'bad'), [samples[0]!, samples[2]!, samples[1]!])).rejects.toThrow(/grouped by identity/);
    await expect(data.writeRecordIO(join(tmp, 'bad2'), [samples[2]!])).rejects.toThrow(/label 1 after label -1/);
  });

  it('opens a record file by its path: the .idx of the same name beside it, property in its folder', () => {
    const d = copyPack('rec_f2r');
    renameSync(join(d, 'train.rec'), join(d, 'casia.rec'));
    renameSync(join(d, 'train.idx'), join(d, 'casia.idx'));
    const ds = data.openRecordIO(join(d, 'casia.rec'));
    const ref = data.openRecordIO(fx('rec_f2r'));
    try {
      expect(ds.length).toBe(ref.length);
      expect(ds.numClasses).toBe(ref.numClasses);
      expect(Buffer.compare(ds.read(4).image, ref.read(4).image)).toBe(0);
    } finally {
      ds.close();
      ref.close();
    }
    rmSync(join(d, 'casia.idx'));
    expect(() => data.openRecordIO(join(d, 'casia.rec'))).toThrow(/index file .*casia\.idx does not exist/);
  });

  it('names file and offset for truncated files, bad magic, idx past the end', () => {
    const d1 = copyPack('rec_f2r');
    const rec = readFileSync(join(d1, 'train.rec'));
    writeFileSync(join(d1, 'train.rec'), rec.subarray(0, 800)); // inside image key 2's record (744..816)
    expect(() => data.openRecordIO(d1)).toThrow(/train\.idx: line 3: record offset 816 for key 3 points past the end of the record file \(800 bytes\)/);

    const d2 = copyPack('rec_f2r');
    const bad = Buffer.from(rec);
    bad[744] = 0x0b;
    writeFileSync(join(d2, 'train.rec'), bad);
    const ds = data.openRecordIO(d2);
    expect(() => ds.read(1)).toThrow(/train\.rec: bad magic 0xced7230b \(expected 0xced7230a\) \(at byte 744\)/);
    expect(ds.read(0).label).toBe(0);
    ds.close();

    const d3 = copyPack('rec_f2r');
    const lenBad = Buffer.from(rec);
    lenBad.writeUInt32LE(1 << 20, 4); // record 1 claims 1 MiB
    writeFileSync(join(d3, 'train.rec'), lenBad);
    const ds3 = data.openRecordIO(d3);
    expect(() => ds3.read(0)).toThrow(/truncated record: length 1048576 but only \d+ bytes remain \(at byte 0\)/);
    ds3.close();

    const d4 = copyPack('rec_f2r');
    const flagBad = Buffer.from(rec);
    flagBad.writeUInt32LE(((2 << 29) | 32) >>> 0, 748); // key 2 starts with a middle part
    writeFileSync(join(d4, 'train.rec'), flagBad);
    const ds4 = data.openRecordIO(d4);
    expect(() => ds4.read(1)).toThrow(/record starts with continuation flag 2 .*at byte 744/);
    ds4.close();
  });

  it('refuses a property file that disagrees with the header record, and bad identity tiling', () => {
    const d = copyPack('rec_f2r');
    writeFileSync(join(d, 'property'), '4,112,112\n');
    expect(() => data.openRecordIO(d)).toThrow(/property: property says 4 classes but the header record of .*train\.rec \(byte 1668\) gives 3 identities/);
    const d2 = copyPack('rec_f2r');
    writeFileSync(join(d2, 'train.idx'), readFileSync(join(d2, 'train.idx'), 'latin1').replace('3\t816\n', ''));
    expect(() => data.openRecordIO(d2)).toThrow(/image key 3 named by the header record \(keys 1\.\.5\) is missing from the index/);
    const d3 = copyPack('rec_f2r');
    writeFileSync(join(d3, 'train.idx'), 'zz\t0\n');
    expect(() => data.openRecordIO(d3)).toThrow(/train\.idx: line 1 is not "<key>\\t<offset>"/);
  });

  it('checks labels against numClasses on read', () => {
    const d = copyPack('rec_nohdr');
    writeFileSync(join(d, 'property'), '2,12,16\n');
    const ds = data.openRecordIO(d);
    expect(ds.read(2).label).toBe(1);
    expect(() => ds.read(3)).toThrow(/record key 3 has label 2 outside \[0, 2\)/);
    ds.close();
  });
});
