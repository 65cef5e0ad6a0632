// A file's word never makes us allocate or build without bound (issue 17): model cards, .pth zips.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exportModel, loadModel } from '../../lib/eval/model.js';
import { readTorchCheckpoint } from '../../lib/io/pytorch.js';
import { readSafetensorsHeader } from '../../lib/io/safetensors.js';
import { MAX_INFLATED_BYTES, MAX_TOTAL_INFLATE_RATIO, MAX_TOTAL_INFLATED_FLOOR, ZipError, ZipReader } from '../../lib/io/zip.js';
import { buildBackbone, parseBackboneSpec } from '../../lib/models/index.js';
import { Tensor } from '../../lib/tensor/index.js';
import { torchZip, writeZip } from './zip-writer.js';

const fx = join(__dirname, '../fixtures/checkpoints');
const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as { spec: { stages: { blocks: number }[] } };

describe('model cards are bounded and checked against their weights before anything is built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecf-card-'));
  const net = buildBackbone(parseBackboneSpec(expected.spec));
  exportModel(net, dir);
  net.dispose();
  const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const withCard = (patch: (c: typeof card) => void): string => {
    const c = structuredClone(card);
    patch(c);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(c));
    return dir;
  };

  it('the untouched export loads', () => {
    const m = loadModel(withCard(() => {}));
    expect(m.embeddingSize).toBe(card.embeddingSize);
    m.dispose();
  });

  it('a spec integer beyond its bound is refused at once (10,000,000 blocks)', () => {
    const t0 = Date.now();
    expect(() => loadModel(withCard((c) => (c.spec.stages[1].blocks = 10_000_000)))).toThrow(/stages\.1\.blocks: must be at most 256/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a spec within bounds but bigger than the weights file is refused before building', () => {
    expect(() => loadModel(withCard((c) => (c.spec.stages[1].blocks = 200)))).toThrow(/does not match its weights: the spec needs at least [\d,]+ parameters but the weights hold [\d,]+ values/);
    expect(() => loadModel(withCard((c) => (c.spec.stages[0].channels *= 64)))).toThrow(/needs at least/);
  });

  it('a card whose embeddingSize differs from the network is refused (not sliced output)', () => {
    expect(() => loadModel(withCard((c) => (c.embeddingSize = card.embeddingSize / 2)))).toThrow(/embeddingSize \d+ differs from the spec's head\.embeddingSize/);
    expect(() => loadModel(withCard((c) => (c.input.size = 96)))).toThrow(/input\.size 96 differs/);
  });

  it('a spec that names a stage the weights lack is refused by name', () => {
    const total = card.spec.stages.reduce((a: number, s: { blocks: number }) => a + s.blocks, 0);
    // one more block in the last stage, of a cheap width: the size check alone may pass
    expect(() => loadModel(withCard((c) => c.spec.stages.at(-1).blocks++))).toThrow(new RegExp(`body\\.${total}'|needs at least`));
  });
});

describe('exported weights carry a checksum of each tensor, verified by loadModel', () => {
  it('a flipped bit in model.safetensors is an error naming the tensor; the intact file loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecf-sum-'));
    const net = buildBackbone(parseBackboneSpec(expected.spec));
    exportModel(net, dir);
    net.dispose();
    const file = join(dir, 'model.safetensors');
    const h = readSafetensorsHeader(file);
    const [name, e] = [...h.tensors].find(([, t]) => t.dtype === 'float32' && t.end - t.begin >= 64)!;
    const bytes = readFileSync(file);
    bytes[h.dataStart + e.begin + 33]! ^= 0x10; // one mantissa bit of one weight
    writeFileSync(file, bytes);
    expect(() => loadModel(dir)).toThrow(new RegExp(`tensor '${name.replace(/\./g, '\\.')}': its bytes do not match the SHA-256 recorded`));
    bytes[h.dataStart + e.begin + 33]! ^= 0x10;
    writeFileSync(file, bytes);
    loadModel(dir).dispose();
  });
});

describe('.pth zip checkpoints: inflation and views are capped', () => {
  it('a deflate entry that declares 0xFFFFFFFE bytes is refused before inflating (when the archive is opened)', () => {
    const zip = writeZip([{ name: 'archive/data.pkl', data: Buffer.alloc(4096), deflate: true, declaredSize: 0xfffffffe }]);
    const rss0 = process.memoryUsage().rss;
    const archiveCap = /bomb\.pth: its deflated entries declare 4294967294 bytes in all, more than the 67108864 allowed/;
    expect(() => ZipReader.fromBuffer(zip, 'bomb.pth')).toThrow(archiveCap);
    expect(() => readTorchCheckpoint(zip, 'bomb.pth')).toThrow(archiveCap);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);
  });

  it('many entries, each within deflate\'s ratio, are refused together (917 KB that would inflate to 900 MB)', () => {
    // 100 entries of 1,000 incompressible bytes, each declaring 1032× its compressed size
    const noise = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 24));
    const one = deflateRawSync(noise).length;
    const entries = Array.from({ length: 100 }, (_, i) => ({ name: `archive/data/${i}`, data: noise, deflate: true, declaredSize: one * 1032 }));
    const zip = writeZip([{ name: 'archive/data.pkl', data: Buffer.alloc(10) }, ...entries]);
    const declared = 100 * one * 1032;
    const cap = Math.max(MAX_TOTAL_INFLATED_FLOOR, MAX_TOTAL_INFLATE_RATIO * zip.length);
    expect(declared).toBeGreaterThan(cap);
    const t0 = Date.now();
    expect(() => ZipReader.fromBuffer(zip, 'many.pth')).toThrow(new RegExp(`many\\.pth: its deflated entries declare ${declared} bytes in all, more than the ${cap} allowed for a ${zip.length}-byte archive`));
    expect(Date.now() - t0).toBeLessThan(2000);
    // the same entries, fewer of them, open (each entry's own caps are checked when it is read)
    expect(ZipReader.fromBuffer(writeZip([{ name: 'archive/data.pkl', data: Buffer.alloc(10) }, ...entries.slice(0, 2)]), 'few.pth').names()).toHaveLength(3);
    expect(MAX_TOTAL_INFLATE_RATIO).toBe(64);
    expect(MAX_TOTAL_INFLATED_FLOOR).toBe(64 * 1024 * 1024);
  });

  it('a deflated entry within the caps still reads; one beyond deflate\'s ratio or the cap does not', () => {
    const data = Buffer.alloc(100_000, 7);
    expect(ZipReader.fromBuffer(writeZip([{ name: 'a', data, deflate: true }])).read('a').equals(data)).toBe(true);
    const small = deflateRawSync(Buffer.alloc(10)).length;
    expect(() => ZipReader.fromBuffer(writeZip([{ name: 'a', data: Buffer.alloc(10), deflate: true, declaredSize: small * 1032 + 2000 }])).read('a')).toThrow(/1032:1/);
    expect(MAX_INFLATED_BYTES).toBe(1024 ** 3);
  });

  it('an entry whose local header lies past the end gives the same ZipError from memory as from a file (fuzz torch-zip 64)', () => {
    const zip = writeZip([{ name: 'archive/data.pkl', data: Buffer.alloc(64, 1) }]);
    const cd = zip.readUInt32LE(zip.length - 22 + 16); // the central directory's offset (EOCD)
    zip.writeUInt32LE(zip.length - 10, cd + 42); // the entry's local header: 10 bytes before the end
    const dir = mkdtempSync(join(tmpdir(), 'ecf-zipoob-'));
    writeFileSync(join(dir, 'oob.pth'), zip);
    const fromFile = ZipReader.open(join(dir, 'oob.pth'));
    const fromMemory = ZipReader.fromBuffer(zip, 'oob.pth');
    for (const z of [fromFile, fromMemory]) {
      expect(() => z.read('archive/data.pkl')).toThrow(ZipError);
      expect(() => z.read('archive/data.pkl')).toThrow(`short read at offset ${zip.length - 10} (10 of 30 bytes)`);
      z.close();
    }
  });

  it('a stride-0 view larger than its storage is refused (548-byte file, 10^8 elements claimed)', () => {
    const zip = torchZip([100000, 1000], [0, 0], 1);
    expect(zip.length).toBeLessThan(1024);
    const t0 = Date.now();
    expect(() => readTorchCheckpoint(zip, 'stride0.pth')).toThrow(/stride0\.pth: .*100000000 elements, more than its 1-element storage '0'/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a view that reaches past the end of its storage is refused (3 elements at stride 3 over 6)', () => {
    expect(() => readTorchCheckpoint(torchZip([3], [3], 6), 'past.pth')).toThrow(/past\.pth: .*reaches element 6 of a 6-element storage/);
    expect(() => readTorchCheckpoint(torchZip([2, 2], [4, 2], 6), 'past2.pth')).toThrow(/reaches element 6 of a 6-element storage/);
  });

  it('an ordinary strided view (a transpose) within its storage still reads', () => {
    const v = readTorchCheckpoint(torchZip([3, 2], [1, 3], 6), 'ok.pth') as Map<string, Tensor>;
    const t = v.get('w')!;
    expect(t.shape).toEqual([3, 2]);
    expect(t.toArray()).toEqual([[1.5, 1.5], [1.5, 1.5], [1.5, 1.5]]);
    t.dispose();
  });
});
