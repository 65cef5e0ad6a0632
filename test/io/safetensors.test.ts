import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor, DTYPES, type DType } from '../../lib/tensor/index.js';
import { CHECKSUM_META, loadSafetensors, parseSafetensors, parseSafetensorsHeader, readSafetensorsHeader, saveSafetensors, serializeSafetensors } from '../../lib/io/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'ecf-st-'));

function header(buf: Buffer): Record<string, unknown> {
  const n = Number(buf.readBigUInt64LE(0));
  return JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
}

/** A hand-built file: 8-byte length, JSON, data. */
function build(h: object, data: Buffer, pad = true): Buffer {
  let j = Buffer.from(JSON.stringify(h));
  if (pad && j.length % 8) j = Buffer.concat([j, Buffer.alloc(8 - (j.length % 8), 0x20)]);
  const l = Buffer.alloc(8);
  l.writeBigUInt64LE(BigInt(j.length));
  return Buffer.concat([l, j, data]);
}

describe('safetensors', () => {
  it('round-trips every dtype bit-exactly, with metadata, through bytes and a file', () => {
    const src = new Map<string, ReturnType<typeof tensor>>();
    for (const dt of DTYPES) {
      const vals = dt === 'bool' ? [1, 0, 1, 1, 0, 1] : [1.5, -2, 3.25, 0, 7, -0.5].map((v) => (dt.startsWith('int') || dt === 'uint8' ? Math.round(Math.abs(v)) : v));
      src.set(`w.${dt}`, tensor(vals, { dtype: dt as DType }).reshape(2, 3));
    }
    src.set('empty', tensor([], { dtype: 'float32' }));
    const bytes = serializeSafetensors(src, { format: 'pt', arch: 'ir50' });
    expect(bytes.readBigUInt64LE(0) % 8n).toBe(0n);
    const h = header(bytes) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    // the metadata as given, plus each tensor's SHA-256 (checked here from the bytes themselves)
    const { [CHECKSUM_META]: sums, ...given } = h.__metadata__ as unknown as Record<string, string>;
    expect(given).toEqual({ format: 'pt', arch: 'ir50' });
    const start = 8 + Number(bytes.readBigUInt64LE(0));
    const want = Object.fromEntries(
      Object.entries(h)
        .filter(([k]) => k !== '__metadata__')
        .map(([k, e]) => [k, createHash('sha256').update(bytes.subarray(start + e.data_offsets[0]!, start + e.data_offsets[1]!)).digest('hex')]),
    );
    expect(JSON.parse(sums!)).toEqual(want);
    expect(h['w.bfloat16']).toEqual({ dtype: 'BF16', shape: [2, 3], data_offsets: expect.any(Array) });
    // reference ordering: 8-byte types first, then by name
    const order = Object.entries(h).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0]! - b[1].data_offsets[0]!).map(([k]) => k);
    expect(order.slice(0, 2)).toEqual(['w.float64', 'w.int64']);
    const path = join(dir, 'all.safetensors');
    saveSafetensors(path, src, { format: 'pt', arch: 'ir50' });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    for (const loaded of [parseSafetensors(bytes), loadSafetensors(path)]) {
      expect(loaded.metadata).toEqual({ format: 'pt', arch: 'ir50' });
      expect([...loaded.tensors.keys()].sort()).toEqual([...src.keys()].sort());
      for (const [k, t] of src) {
        const u = loaded.tensors.get(k)!;
        expect(u.dtype).toBe(t.dtype);
        expect(u.shape).toEqual(t.shape);
        expect(u.toBuffer().equals(t.toBuffer())).toBe(true);
        u.dispose();
      }
    }
    expect(readSafetensorsHeader(path).tensors.get('w.int16')).toMatchObject({ dtype: 'int16', shape: [2, 3] });
    // a subset by name: only those are read
    const some = loadSafetensors(path, (k) => k === 'w.int64' || k === 'empty');
    expect([...some.tensors.keys()].sort()).toEqual(['empty', 'w.int64']);
    expect(some.tensors.get('w.int64')!.toBuffer().equals(src.get('w.int64')!.toBuffer())).toBe(true);
    for (const t of some.tensors.values()) t.dispose();
    for (const t of src.values()) t.dispose();
  });

  it('reads a hand-built file with known little-endian bytes', () => {
    const data = Buffer.alloc(4 * 2 + 2);
    data.writeFloatLE(1.25, 0);
    data.writeFloatLE(-3, 4);
    data.writeUInt16LE(0x3c00, 8); // float16 1.0
    const f = build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, h: { dtype: 'F16', shape: [], data_offsets: [8, 10] } }, data, false);
    const { tensors, metadata } = parseSafetensors(f);
    expect(metadata).toEqual({});
    expect(tensors.get('a')!.toArray()).toEqual([1.25, -3]);
    expect(tensors.get('h')!.shape).toEqual([]);
    expect(tensors.get('h')!.item()).toBe(1);
  });

  it('verifies the recorded checksums: a flipped bit, a missing or stray entry are errors naming the tensor', () => {
    const src = new Map([
      ['a', tensor([1, 2, 3, 4], { dtype: 'float32' })],
      ['b', tensor([5, 6], { dtype: 'int64' })],
    ]);
    const bytes = serializeSafetensors(src, { note: 'x' });
    const h = parseSafetensorsHeader(bytes, bytes.length);
    const flipped = Buffer.from(bytes);
    flipped[h.dataStart + h.tensors.get('a')!.begin + 6]! ^= 0x02;
    expect(() => parseSafetensors(flipped, 'f.st')).toThrow(/^f\.st: tensor 'a': its bytes do not match the SHA-256 recorded when the file was written/);
    writeFileSync(join(dir, 'flipped.st'), flipped);
    expect(() => loadSafetensors(join(dir, 'flipped.st'))).toThrow(/flipped\.st: tensor 'a': its bytes do not match/);
    // a subset that leaves the damaged tensor out still reads
    const some = loadSafetensors(join(dir, 'flipped.st'), (k) => k === 'b');
    expect(some.tensors.get('b')!.toArray()).toEqual([5, 6]);
    // the checksum entry itself must be whole
    const raw = header(bytes) as Record<string, unknown> & { __metadata__: Record<string, string> };
    const sums = JSON.parse(raw.__metadata__[CHECKSUM_META]!) as Record<string, string>;
    const data = bytes.subarray(h.dataStart);
    const withSums = (s: unknown) => build({ ...raw, __metadata__: { ...raw.__metadata__, [CHECKSUM_META]: JSON.stringify(s) } }, data, false);
    expect(() => parseSafetensors(withSums({ a: sums.a }))).toThrow(/has no checksum for tensor 'b'/);
    expect(() => parseSafetensors(withSums({ ...sums, c: sums.a }))).toThrow(/names tensor 'c', which the file does not hold/);
    expect(() => parseSafetensors(withSums({ ...sums, a: 'nope' }))).toThrow(/the checksum of 'a' is not a SHA-256 digest/);
    expect(parseSafetensors(withSums(sums)).metadata).toEqual({ note: 'x' });
    for (const t of [...src.values(), ...some.tensors.values()]) t.dispose();
  });

  it('rejects malformed files with errors naming the problem', () => {
    const d = Buffer.alloc(8);
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(() => parseSafetensors(Buffer.alloc(4), 'x.st')).toThrow(/x.st: file is 4 bytes/);
    const big = Buffer.alloc(16);
    big.writeBigUInt64LE(1000n);
    expect(() => parseSafetensors(big)).toThrow(/header length 1000 runs past the end/);
    expect(() => parseSafetensors(build({ a: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, d))).toThrow(/dtype "F8" is not supported/);
    expect(() => parseSafetensors(build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d))).toThrow(/needs 12 bytes but data_offsets span 8/);
    expect(() => parseSafetensors(build(ok, Buffer.alloc(12)))).toThrow(/data section is 12 bytes but the tensors cover 8/);
    expect(() =>
      parseSafetensors(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d)),
    ).toThrow(/overlaps/);
    expect(() => parseSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d))).toThrow(/hole in the data section/);
    const bad = build(ok, d);
    bad[8] = 0x21; // corrupt the JSON
    expect(() => parseSafetensors(bad)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'short.st'), build(ok, Buffer.alloc(4)));
    expect(() => loadSafetensors(join(dir, 'short.st'))).toThrow(/short.st: tensor 'a': data_offsets end 8 is past the 4-byte data section/);
  });
});
