// RecordIO labels and class counts from a file are checked (issue 17).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeJpeg } from '../../lib/data/codec.js';
import { openRecordIO, sparseClassLimit } from '../../lib/data/recordio.js';
import { encodeRecord, packIR } from '../../lib/data/recordio-format.js';
import { openTrainData } from '../../lib/train/components.js';
import { applyOverrides, ConfigError, validateConfig } from '../../lib/train/config.js';

const img = encodeJpeg(new Uint8Array(16 * 16 * 3).fill(100), 16, 16, 90);

/** A header-less pack (keys 1..n, no key-0 header record, no property) with these labels. */
function pack(labels: number[], property?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecf-rec-'));
  const recs: Buffer[] = [];
  const idx: string[] = [];
  let off = 0;
  labels.forEach((l, i) => {
    const r = encodeRecord(packIR(l, img));
    idx.push(`${i + 1}\t${off}`);
    recs.push(r);
    off += r.length;
  });
  writeFileSync(join(dir, 'train.rec'), Buffer.concat(recs));
  writeFileSync(join(dir, 'train.idx'), idx.join('\n') + '\n');
  if (property !== undefined) writeFileSync(join(dir, 'property'), property);
  return dir;
}

describe('RecordIO labels and class counts', () => {
  it('a header-less pack with integer labels gets max + 1 classes', () => {
    const ds = openRecordIO(pack([0, 2, 1, 2]));
    expect(ds.numClasses).toBe(3);
    ds.close();
  });

  it.each([
    ['NaN', NaN],
    ['−1', -1],
    ['Infinity', Infinity],
    ['2.5', 2.5],
  ])('a %s label is refused by record key', (_, bad) => {
    expect(() => openRecordIO(pack([0, 1, bad, 1]))).toThrow(new RegExp(`record key 3 has label ${String(bad).replace('.', '\\.')}, not a finite non-negative integer`));
  });

  it('a label of 3e6 among 4 records is refused unless the count is confirmed', () => {
    const dir = pack([0, 1, 3e6, 1]);
    expect(() => openRecordIO(dir)).toThrow(/3000001 classes for 4 records \(more than 1028\).*numClasses: 3000001/);
    const ds = openRecordIO(dir, { numClasses: 3_000_001 });
    expect(ds.numClasses).toBe(3_000_001);
    ds.close();
    expect(() => openRecordIO(dir, { numClasses: 5 })).toThrow(/has 3000001 classes, not the 5 given/);
  });

  it('a property file that claims far more classes than records is refused the same way', () => {
    expect(sparseClassLimit(4)).toBe(1028);
    expect(() => openRecordIO(pack([0, 1, 0, 1], '5000000,16,16\n'))).toThrow(/property: .*5000000 classes for 4 records/);
    const ok = openRecordIO(pack([0, 1, 0, 1], '1000,16,16\n'));
    expect(ok.numClasses).toBe(1000);
    ok.close();
  });

  it('a training config confirms the count with data.numClasses (also as --set), and a wrong count is an error', () => {
    const dir = pack([0, 1, 3e6, 1]);
    const base = { backbone: 'mobilefacenet', data: { train: { type: 'recordio', path: dir } } };
    expect(() => openTrainData(validateConfig(base))).toThrow(/3000001 classes for 4 records.*--set data\.numClasses=3000001/);
    const ds = openTrainData(validateConfig(applyOverrides(base, ['data.numClasses=3000001'])));
    expect(ds.numClasses).toBe(3_000_001);
    ds.close();
    expect(() => openTrainData(validateConfig(applyOverrides(base, ['data.numClasses=7'])))).toThrow(/has 3000001 classes, not the 7 given.*data\.numClasses/);
    expect(() => validateConfig(applyOverrides(base, ['data.numClasses=-3']))).toThrow(ConfigError);
  });

  it('an image folder with another class count than data.numClasses is a config error', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecf-folder-'));
    for (const id of ['a', 'b']) {
      mkdirSync(join(root, id));
      writeFileSync(join(root, id, '0.jpg'), img);
    }
    const config = validateConfig({ backbone: 'mobilefacenet', data: { train: { type: 'folder', path: root }, numClasses: 3 } });
    expect(() => openTrainData(config)).toThrow(/data\.numClasses: 3, but .* has 2 class folders/);
  });
});
