import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';
import { epochPermutation } from '../../lib/data/loader.js';
import { H, W, inspect, makeDatasets } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecf-loader-'));
let rec = '';
let folder = '';
let labels: number[] = [];
const sizes = [3, 5, 1, 4, 2, 6]; // 21 images, 6 identities
beforeAll(async () => {
  ({ rec, folder, labels } = await makeDatasets(tmp, sizes));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Seen = { index: number; label: number; flipped: boolean };
async function collect(l: data.Loader): Promise<{ batches: Seen[][]; positions: data.LoaderPosition[] }> {
  const batches: Seen[][] = [];
  const positions: data.LoaderPosition[] = [];
  for await (const b of l) {
    const flat = b.images.toTypedArray() as Float32Array;
    const lab = Array.from(b.labels.toTypedArray() as BigInt64Array, Number);
    expect(b.images.shape).toEqual([b.indices.length, 3, H, W]);
    expect(b.labels.dtype).toBe('int64');
    const rows = Array.from(b.indices, (idx, r) => {
      const s = inspect(flat, r);
      expect(s.exact).toBe(true);
      expect(s.index).toBe(idx);
      expect(lab[r]).toBe(labels[idx]);
      expect(s.label).toBe(labels[idx]);
      return { index: s.index, label: lab[r]!, flipped: s.flipped };
    });
    b.dispose();
    batches.push(rows);
    positions.push(l.position);
  }
  return { batches, positions };
}

describe('openImageFolder', () => {
  it('lists sorted identities and images with labels', () => {
    const ds = data.openImageFolder(folder);
    expect(ds.length).toBe(21);
    expect(ds.numClasses).toBe(6);
    expect(ds.classes[0]).toBe('id000');
    expect(ds.imageSize).toEqual([H, W]);
    expect(Array.from(ds.labels)).toEqual(labels);
    const s = ds.read(4);
    expect(s.label).toBe(1);
    expect(data.decode(s.image).data[0]).toBe(4);
    expect(() => data.openImageFolder(join(tmp, 'nope'))).toThrow(/cannot read/);
  });
});

describe('loader', () => {
  it('yields every sample once in order without shuffle, from RecordIO and image folders', async () => {
    for (const ds of [data.openRecordIO(rec), data.openImageFolder(folder)]) {
      const l = data.loader(ds, { batchSize: 4, shuffle: false, threads: 2, imageSize: [H, W] });
      expect(l.batchesPerEpoch).toBe(6);
      const { batches, positions } = await collect(l);
      expect(batches.flat().map((s) => s.index)).toEqual(Array.from({ length: 21 }, (_, i) => i));
      expect(batches.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 1]);
      expect(batches.flat().some((s) => s.flipped)).toBe(false);
      expect(positions.at(-1)).toEqual({ epoch: 1, step: 0 });
      ds.close();
    }
  });

  it('shuffles per epoch from the seed; dropLast drops the short batch', async () => {
    const ds = data.openRecordIO(rec);
    const a = data.loader(ds, { batchSize: 5, seed: 7, dropLast: true, imageSize: [H, W] });
    const e0 = (await collect(a)).batches;
    const e1 = (await collect(a)).batches;
    expect(e0.length).toBe(4);
    expect(e0.every((b) => b.length === 5)).toBe(true);
    const i0 = e0.flat().map((s) => s.index);
    expect(new Set(i0).size).toBe(20);
    expect(i0).not.toEqual(e1.flat().map((s) => s.index));
    const b = data.loader(ds, { batchSize: 5, seed: 7, dropLast: true, imageSize: [H, W] });
    expect((await collect(b)).batches.flat().map((s) => s.index)).toEqual(i0);
    const c = data.loader(ds, { batchSize: 5, seed: 8, dropLast: true, imageSize: [H, W] });
    expect((await collect(c)).batches.flat().map((s) => s.index)).not.toEqual(i0);
    // the permutation is a permutation
    const p = epochPermutation(1000, 3, 2);
    expect(new Set(p).size).toBe(1000);
    ds.close();
  });

  it('shards with equal batch counts per rank and covers the data', async () => {
    const ds = data.openRecordIO(rec);
    for (const dropLast of [false, true]) {
      const per = await Promise.all(
        [0, 1, 2, 3].map(async (rank) => (await collect(data.loader(ds, { batchSize: 2, seed: 1, rank, worldSize: 4, dropLast, threads: 4, imageSize: [H, W] }))).batches),
      );
      const counts = per.map((b) => b.length);
      expect(new Set(counts).size).toBe(1);
      const all = per.flat(2).map((s) => s.index);
      if (dropLast) {
        expect(counts[0]).toBe(2); // floor(21/4) = 5 per rank → 2 batches of 2
        expect(new Set(all).size).toBe(all.length);
      } else {
        expect(counts[0]).toBe(3); // ceil(21/4) = 6 per rank
        expect(new Set(all).size).toBe(21); // padded by wrapping: everything is seen
        expect(all.length).toBe(24);
      }
    }
    ds.close();
  });

  it('flips about half the training images, reproducibly, and resumes exactly', async () => {
    const ds = data.openImageFolder(folder);
    const opts = { batchSize: 3, seed: 11, train: true, threads: 3, imageSize: [H, W] as const };
    const full = await collect(data.loader(ds, opts));
    const flips = full.batches.flat().filter((s) => s.flipped).length;
    expect(flips).toBeGreaterThan(3);
    expect(flips).toBeLessThan(18);
    const again = await collect(data.loader(ds, opts));
    expect(again.batches).toEqual(full.batches);
    // stop after 2 batches, store the position, resume in a new loader
    const l = data.loader(ds, opts);
    let seen = 0;
    for await (const b of l) {
      b.dispose();
      if (++seen === 2) break;
    }
    const pos = l.position;
    expect(pos).toEqual({ epoch: 0, step: 2 });
    const r = data.loader(ds, opts);
    r.resume(JSON.parse(JSON.stringify(pos)));
    const rest = await collect(r);
    expect(rest.batches).toEqual(full.batches.slice(2));
    // and the next epoch differs from the first
    const next = await collect(r);
    expect(next.batches.flat().map((s) => s.index)).not.toEqual(full.batches.flat().map((s) => s.index));
    expect(() => r.resume({ epoch: 0, step: 99 })).toThrow(/bad position/);
  });

  it('flips each sample with the probability asked for (0, 0.2, 1; train alone: 0.5)', async () => {
    const ds = data.openImageFolder(folder);
    const epochs = 60; // 60 × 21 = 1260 samples: the share of a p = 0.2 coin has σ ≈ 0.011
    const flipRate = async (o: Partial<data.LoaderOptions>): Promise<{ rate: number; flips: boolean[] }> => {
      const l = data.loader(ds, { batchSize: 21, seed: 5, threads: 2, imageSize: [H, W], ...o });
      const flips: boolean[] = [];
      for (let e = 0; e < epochs; e++) flips.push(...(await collect(l)).batches.flat().map((s) => s.flipped));
      await l.close();
      return { rate: flips.filter(Boolean).length / flips.length, flips };
    };
    expect((await flipRate({ flip: 0 })).rate).toBe(0);
    expect((await flipRate({ flip: 1 })).rate).toBe(1);
    const p02 = (await flipRate({ flip: 0.2 })).rate;
    expect(Math.abs(p02 - 0.2)).toBeLessThan(0.05); // > 4σ
    const half = await flipRate({ train: true });
    expect(Math.abs(half.rate - 0.5)).toBeLessThan(0.06);
    expect((await flipRate({ flip: 0.5 })).flips).toEqual(half.flips);
    expect((await flipRate({ train: true, flip: 0 })).rate).toBe(0);
    expect(() => data.loader(ds, { batchSize: 2, flip: 1.5 })).toThrow(/loader: flip must be a number in \[0, 1\], got 1.5/);
    ds.close();
  });

  it('recycles disposed batch buffers without touching batches still held', async () => {
    const ds = data.openRecordIO(rec);
    const l = data.loader(ds, { batchSize: 2, shuffle: false, prefetch: 1, imageSize: [H, W] });
    const held: data.Batch[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for await (const b of l) {
        if (epoch === 0) held.push(b); // keep every batch of epoch 0 alive
        else b.dispose(); // epoch 1 recycles buffers as it goes
      }
    }
    for (const b of held) {
      const flat = b.images.toTypedArray() as Float32Array;
      b.indices.forEach((idx, r) => expect(inspect(flat, r)).toMatchObject({ index: idx, exact: true }));
      b.dispose();
    }
    ds.close();
  });

  it('returns channels_last batches with the same values', async () => {
    const ds = data.openRecordIO(rec);
    const l = data.loader(ds, { batchSize: 21, shuffle: false, channelsLast: true, imageSize: [H, W] });
    for await (const b of l) {
      expect(b.images.shape).toEqual([21, 3, H, W]);
      expect(b.images.isContiguous('channelsLast')).toBe(true);
      const flat = b.images.toTypedArray() as Float32Array;
      for (let r = 0; r < 21; r++) expect(inspect(flat, r)).toMatchObject({ index: r, exact: true });
      b.dispose();
    }
    ds.close();
  });

  it('skips and reports records that fail to decode, never crashing', async () => {
    const d = join(tmp, 'badrec');
    const good = readFileSync(join(folder, 'id000', 'img0000.png'));
    await data.writeRecordIO(
      d,
      [
        { label: 0, image: good },
        { label: 0, image: Buffer.from('this is not an image') },
        { label: 1, image: good.subarray(0, 50) },
        { label: 1, image: good },
      ],
      { imageSize: [H, W] },
    );
    const bad: data.BadRecord[] = [];
    const ds = data.openRecordIO(d);
    const l = data.loader(ds, { batchSize: 4, shuffle: false, imageSize: [H, W], onBadRecord: (b) => bad.push(b) });
    for await (const b of l) {
      expect(b.images.shape[0]).toBe(2);
      expect(Array.from(b.indices)).toEqual([0, 3]);
      expect(Array.from(b.labels.toTypedArray() as BigInt64Array, Number)).toEqual([0, 1]);
      b.dispose();
    }
    expect(bad.map((b) => b.index)).toEqual([1, 2]);
    expect(bad[0]!.message).toMatch(/skipped sample 1 \(.*badrec\/train\.rec record at byte \d+\): not a JPEG or PNG/);
    expect(bad[1]!.reason).toMatch(/PNG/);
    expect(l.stats.badRecords).toBe(2);
    // a size mismatch is a skip too
    const l2 = data.loader(ds, { batchSize: 4, shuffle: false, imageSize: [H + 1, W], onBadRecord: (b) => bad.push(b) });
    for await (const b of l2) {
      expect(b.images.shape[0]).toBe(0);
      b.dispose();
    }
    expect(bad.at(-1)!.reason).toMatch(/decoded 8x6, expected 8x7/);
    ds.close();
  });

  it('skips a record whose container is corrupt (bad magic, truncated) in the batch path', async () => {
    const d = join(tmp, 'corrupt');
    const good = readFileSync(join(folder, 'id000', 'img0000.png'));
    await data.writeRecordIO(d, [0, 0, 1].map((label) => ({ label, image: good })), { imageSize: [H, W] });
    const ds = data.openRecordIO(d);
    const idx = readFileSync(join(d, 'train.idx'), 'latin1').trim().split('\n').map((l) => l.split('\t').map(Number));
    const rec = readFileSync(join(d, 'train.rec'));
    rec[idx[1]![1]!] ^= 0xff; // key 2: bad magic
    writeFileSync(join(d, 'train.rec'), rec);
    const bad: data.BadRecord[] = [];
    const l = data.loader(ds, { batchSize: 3, shuffle: false, imageSize: [H, W], onBadRecord: (b) => bad.push(b) });
    for await (const b of l) {
      expect(Array.from(b.indices)).toEqual([0, 2]);
      b.dispose();
    }
    expect(bad).toHaveLength(1);
    expect(bad[0]!.reason).toMatch(new RegExp(`train\\.rec: bad magic at byte ${idx[1]![1]}`));
    expect(bad[0]!.offset).toBe(idx[1]![1]);
    ds.close();
  });

  it('normalises odd widths exactly (unaligned rows), NCHW and channels_last', async () => {
    const w = 5, h = 3;
    const rgb = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256));
    const png = data.encodePng(rgb, w, h);
    const mem: data.ImageDataset = { length: 3, numClasses: 1, read: () => ({ image: png, label: 0 }), close: () => {} };
    for (const channelsLast of [false, true]) {
      for await (const b of data.loader(mem, { batchSize: 3, shuffle: false, imageSize: [h, w], channelsLast })) {
        const flat = b.images.toTypedArray() as Float32Array; // logical NCHW order
        for (let n = 0; n < 3; n++)
          for (let c = 0; c < 3; c++)
            for (let y = 0; y < h; y++)
              for (let x = 0; x < w; x++) {
                const v = rgb[(y * w + x) * 3 + c]!;
                expect(flat[((n * 3 + c) * h + y) * w + x]).toBeCloseTo((v / 255 - 0.5) / 0.5, 6);
              }
        b.dispose();
      }
    }
  });

  it('decodes JPEG batches like PIL (±2 levels); fastDecode stays within a few levels', async () => {
    const fxDir = join(__dirname, '..', 'fixtures', 'data');
    const jpg = readFileSync(join(fxDir, 'img_rgb420.jpg'));
    const ref = readFileSync(join(fxDir, 'img_rgb420.rgb')); // PIL's RGB, HWC
    const mem: data.ImageDataset = { length: 2, numClasses: 1, read: () => ({ image: jpg, label: 0 }), close: () => {} };
    const run = async (fastDecode: boolean): Promise<Float32Array> => {
      let out = new Float32Array(0);
      for await (const b of data.loader(mem, { batchSize: 2, shuffle: false, imageSize: [12, 16], fastDecode })) {
        out = b.images.toTypedArray() as Float32Array;
        b.dispose();
      }
      return out;
    };
    const levels = (v: number): number => (v * 0.5 + 0.5) * 255;
    const maxDiff = (got: Float32Array): number => {
      let m = 0;
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < 12 * 16; i++) m = Math.max(m, Math.abs(levels(got[c * 192 + i]!) - ref[i * 3 + c]!));
      return m;
    };
    expect(maxDiff(await run(false))).toBeLessThanOrEqual(2.001);
    const fast = await run(true);
    expect(maxDiff(fast)).toBeLessThanOrEqual(20); // fast chroma upsampling: worst at colour edges
    let sum = 0;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 192; i++) sum += Math.abs(levels(fast[c * 192 + i]!) - ref[i * 3 + c]!);
    expect(sum / 576).toBeLessThan(6); // 3.9 on this noisy 12×16 image
  });

  it('works with any dataset exposing read(i) (in-memory path)', async () => {
    const folderDs = data.openImageFolder(folder);
    const mem: data.ImageDataset = { length: 21, numClasses: 6, read: (i) => folderDs.read(i), close: () => {} };
    const { batches } = await collect(data.loader(mem, { batchSize: 8, shuffle: false, imageSize: [H, W] }));
    expect(batches.flat().map((s) => s.index)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it('validates options', () => {
    const ds = data.openImageFolder(folder);
    expect(() => data.loader(ds, { batchSize: 0 })).toThrow(/loader: batchSize must be a positive integer, got 0/);
    expect(() => data.loader(ds, { batchSize: 2, rank: 2, worldSize: 2 })).toThrow(/loader: rank must be an integer in \[0, 1\], got 2/);
    expect(() => data.loader(ds, { batchSize: 30, dropLast: true })).toThrow(/no batch/);
  });
});
