import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor/index.js';
import { extractStateDict, readTorchCheckpoint } from '../../lib/io/pytorch.js';
import { ZipReader } from '../../lib/io/zip.js';

const dir = join(__dirname, '../fixtures/checkpoints');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  keys: string[];
  tensors: Record<string, { dtype: string; shape: number[]; sum: number; sumsq: number }>;
};

function fingerprint(t: Tensor): { sum: number; sumsq: number } {
  const v = t.toTypedArray();
  let s = 0;
  let q = 0;
  for (let i = 0; i < v.length; i++) {
    const x = Number(v[i]);
    s += x;
    q += x * x;
  }
  return { sum: s, sumsq: q };
}

describe('readTorchCheckpoint', () => {
  it('reads a torch.save state_dict (zip, stored entries): names, dtypes, shapes, values', () => {
    const sd = extractStateDict(readTorchCheckpoint(join(dir, 'ir_tiny.pt')));
    expect([...sd.keys()]).toEqual(expected.keys);
    for (const [k, t] of sd) {
      const e = expected.tensors[k]!;
      expect(t.dtype, k).toBe(e.dtype);
      expect(t.shape, k).toEqual(e.shape);
      const f = fingerprint(t);
      expect(f.sum).toBeCloseTo(e.sum, 4);
      expect(f.sumsq).toBeCloseTo(e.sumsq, 4);
      t.dispose();
    }
  });

  it("reads deflate entries and strips DataParallel's 'module.' prefix", () => {
    const a = extractStateDict(readTorchCheckpoint(join(dir, 'ir_tiny.pt')));
    const b = extractStateDict(readTorchCheckpoint(readFileSync(join(dir, 'ir_tiny_module.pt')), 'ir_tiny_module.pt'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(b.get(k)!.toBuffer().equals(t.toBuffer()), k).toBe(true);
    for (const t of [...a.values(), ...b.values()]) t.dispose();
  });

  it('rebuilds views (transposed, offset rows), every dtype and nested dicts', () => {
    const v = readTorchCheckpoint(join(dir, 'misc.pt')) as Map<string, unknown>;
    const t = v.get('t') as Tensor;
    expect(t.shape).toEqual([6, 4]);
    expect((t.toArray() as number[][])[1]).toEqual([1, 7, 13, 19]);
    expect((v.get('row') as Tensor).toArray()).toEqual([12, 13, 14, 15, 16, 17]);
    expect((v.get('half') as Tensor).dtype).toBe('float16');
    expect((v.get('half') as Tensor).toArray()).toEqual([1.5, -2]);
    expect((v.get('bf16') as Tensor).toArray()).toEqual([0.5, 3]);
    expect((v.get('i64') as Tensor).toArray()).toEqual([7, -9]);
    expect((v.get('b') as Tensor).toArray()).toEqual([true, false]);
    expect(((v.get('nested') as Map<string, Tensor>).get('a') as Tensor).dtype).toBe('int32');
    expect(v.get('n')).toBe(3);
  });

  it('refuses code in the pickle, the legacy format and non-checkpoints with clear errors', () => {
    expect(() => readTorchCheckpoint(join(dir, 'evil.pt'))).toThrow(/evil.pt: refusing global (posix|os)\.system: a checkpoint may reference only tensors/);
    expect(() => readTorchCheckpoint(join(dir, 'codecs.pt'))).toThrow(/codecs.pt: refusing global _codecs.encode/);
    expect(() => readTorchCheckpoint(join(dir, 'legacy.pt'))).toThrow(/legacy \(pre-1.6\) torch.save format.*torch.save\(torch.load/);
    expect(() => readTorchCheckpoint(join(dir, 'faces.u8'))).toThrow(/faces.u8: not a torch.save zip checkpoint/);
    const bytes = Buffer.from(readFileSync(join(dir, 'ir_tiny.pt')));
    const e = ZipReader.fromBuffer(bytes).entries.get('ir_tiny/data/0')!;
    const start = e.localHeaderOffset + 30 + bytes.readUInt16LE(e.localHeaderOffset + 26) + bytes.readUInt16LE(e.localHeaderOffset + 28);
    bytes[start + 5] ^= 0xff; // corrupt one storage byte
    expect(() => readTorchCheckpoint(bytes, 'corrupt.pt')).toThrow(/corrupt.pt: entry 'ir_tiny\/data\/0' fails its CRC-32 check/);
  });
});
