import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerPack } from '../../lib/cli/commands/pack.js';
import { data } from '../../lib/index.js';
import { makeDatasets } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecf-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ecacface pack', () => {
  it('packs an image folder into a RecordIO that reads back identically', async () => {
    const { folder, labels } = await makeDatasets(tmp, [2, 1, 3]);
    const program = new Command('ecacface').exitOverride();
    registerPack(program);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await program.parseAsync(['node', 'ecacface', 'pack', folder, join(tmp, 'packed'), '--quiet']);
    expect(log.mock.calls[0]![0]).toMatch(/packed 6 images of 3 identities \(8x6\)/);
    log.mockRestore();
    const src = data.openImageFolder(folder);
    const ds = data.openRecordIO(join(tmp, 'packed'));
    expect([ds.length, ds.numClasses]).toEqual([6, 3]);
    expect(ds.imageSize).toEqual([6, 8]);
    for (let i = 0; i < 6; i++) {
      const s = ds.read(i);
      expect(s.label).toBe(labels[i]);
      expect(Buffer.compare(s.image, src.read(i).image)).toBe(0);
    }
    ds.close();
  });
});
