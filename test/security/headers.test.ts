// Headers are refused early, before they cost memory (issue 26 I): safetensors nesting depth and
// tensor count, the size of a model card.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/eval/model.js';
import { MAX_CARD_BYTES, readModelCard } from '../../lib/io/model-card.js';
import {
  MAX_SAFETENSORS_HEADER_DEPTH,
  MAX_SAFETENSORS_TENSORS,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  serializeSafetensors,
} from '../../lib/io/safetensors.js';
import { zeros } from '../../lib/tensor/index.js';

const work = mkdtempSync(join(tmpdir(), 'ecf-headers-'));

/** A safetensors file whose header is `json` (padded to 8 bytes), with `data` after it. */
function withHeader(json: string | Buffer, data = Buffer.alloc(0)): Buffer {
  const body = Buffer.isBuffer(json) ? json : Buffer.from(json);
  const pad = (8 - (body.length % 8)) % 8;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.length + pad));
  return Buffer.concat([len, body, Buffer.alloc(pad, 0x20), data]);
}

describe('safetensors headers', () => {
  it('a header of nested brackets is refused by its depth before JSON.parse builds it (16 MiB of "[")', () => {
    const file = withHeader(Buffer.alloc(16 * 1024 * 1024, '['));
    const rss0 = process.memoryUsage().rss;
    expect(() => parseSafetensors(file, 'deep.safetensors')).toThrow(/deep\.safetensors: header nests deeper than the format's 3 levels \(at byte 3\)/);
    writeFileSync(join(work, 'deep.safetensors'), file);
    expect(() => readSafetensorsHeader(join(work, 'deep.safetensors'))).toThrow(/nests deeper/);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 * 1024);
    expect(MAX_SAFETENSORS_HEADER_DEPTH).toBe(3);
    // brackets inside strings are not nesting
    const t = zeros([2]);
    const ok = serializeSafetensors({ a: t }, { note: '[[[[{{{{' });
    const back = parseSafetensors(ok);
    expect(back.metadata.note).toBe('[[[[{{{{');
    back.tensors.get('a')!.dispose();
    t.dispose();
  });

  it(`more than ${MAX_SAFETENSORS_TENSORS} tensors are refused before they are parsed (zero-size tensors cost nothing else)`, () => {
    const entry = (i: number): string => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
    const many = `{${Array.from({ length: MAX_SAFETENSORS_TENSORS + 1 }, (_, i) => entry(i)).join(',')}}`;
    expect(() => parseSafetensors(withHeader(many), 'many.safetensors')).toThrow(`many.safetensors: header names more than ${MAX_SAFETENSORS_TENSORS} tensors`);
    // at the cap (plus __metadata__) the header reads
    const atCap = withHeader(`{"__metadata__":{"a":"b"},${Array.from({ length: MAX_SAFETENSORS_TENSORS }, (_, i) => entry(i)).join(',')}}`);
    expect(parseSafetensorsHeader(atCap, atCap.length, 'cap.safetensors').tensors.size).toBe(MAX_SAFETENSORS_TENSORS);
  });

  it('a header of many values in one tensor entry is refused (a shape of 2 million dimensions)', () => {
    const header = `{"t":{"dtype":"F32","shape":[${new Array(2_000_000).fill(1).join(',')}],"data_offsets":[0,4]}}`;
    expect(() => parseSafetensors(withHeader(header, Buffer.alloc(4)), 'wide.safetensors')).toThrow(/wide\.safetensors: header holds more than 1600000 JSON values/);
  });
});

describe('model cards', () => {
  it(`a model.json over ${MAX_CARD_BYTES} bytes is refused before it is read`, () => {
    const dir = mkdtempSync(join(work, 'card-'));
    const path = join(dir, 'model.json');
    const text = `{"format":"ecacface-model-card","pad":"${'x'.repeat(MAX_CARD_BYTES)}"}`;
    writeFileSync(path, text);
    expect(() => readModelCard(path)).toThrow(new RegExp(`model card '.*model\\.json' is ${text.length} bytes, more than the ${MAX_CARD_BYTES} allowed`));
    expect(() => loadModel(dir)).toThrow(/more than the 1048576 allowed/);
    expect(MAX_CARD_BYTES).toBe(1024 * 1024);
  });
});
