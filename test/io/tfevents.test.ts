import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from '../../lib/io/crc32c.js';
import { EventFileWriter } from '../../lib/io/tfevents.js';
import { readEventsIndependently } from './tfevents-reader.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tfevents-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('CRC-32C', () => {
  it('matches the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
    const c = crc32c(new Uint8Array(0));
    expect(c).toBe(0);
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });
});

describe('EventFileWriter', () => {
  it('writes files that an independent reader decodes with valid CRCs', () => {
    const dir = tmp();
    const w = new EventFileWriter(dir);
    w.scalars(1, { 'train/loss': 12.5, 'train/lr': 0.1, 'train/t': NaN });
    w.scalars(20, [
      { tag: 'train/loss', value: 3.25 },
      { tag: 'val/lfw/accuracy', value: 0.9783 },
    ], 1_700_000_000.5);
    w.write({ wallTime: 1_700_000_001, step: 2 ** 40, sessionStart: true });
    w.close();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\..+/);
    const r = readEventsIndependently(join(dir, files[0]!));
    expect(r.crc32c_check).toBe(0xe3069283);
    expect(r.events).toHaveLength(4);
    expect(r.events[0]!.file_version).toBe('brain.Event:2');
    expect(r.events[1]).toMatchObject({ step: 1, scalars: { 'train/loss': 12.5, 'train/lr': Math.fround(0.1) } });
    expect(Object.keys(r.events[1]!.scalars!)).not.toContain('train/t'); // NaN left out
    expect(r.events[2]).toEqual({ step: 20, wall_time: 1_700_000_000.5, scalars: { 'train/loss': 3.25, 'val/lfw/accuracy': Math.fround(0.9783) } });
    expect(r.events[3]).toMatchObject({ step: 2 ** 40, session_status: 1 });
    expect(Math.abs(r.events[0]!.wall_time - Date.now() / 1000)).toBeLessThan(60);
  });

  it('is caught by the reader when a byte is corrupted', () => {
    const dir = tmp();
    const w = new EventFileWriter(dir);
    w.scalars(3, { a: 1 });
    w.close();
    const path = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(path);
    bytes[bytes.length - 6] ^= 0x01; // inside the last record's payload
    writeFileSync(path, bytes);
    expect(() => readEventsIndependently(path)).toThrow(/data CRC mismatch/);
  });

  it('never reuses a file name and refuses writes after close', () => {
    const dir = tmp();
    const a = new EventFileWriter(dir);
    const b = new EventFileWriter(dir);
    expect(a.path).not.toBe(b.path);
    a.close();
    b.close();
    expect(() => a.scalars(1, { x: 1 })).toThrow(/closed/);
  });
});
