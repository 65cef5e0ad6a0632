import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';
import { LoaderSource } from '../../lib/train/components.js';
import { validateConfig } from '../../lib/train/config.js';

const S = 16; // square (the config has one imageSize), a multiple of 16 (MobileFaceNet)
const tmp = mkdtempSync(join(tmpdir(), 'ecf-components-'));
const folder = join(tmp, 'faces');
beforeAll(() => {
  // 20 images of 4 identities; red rises from left (0) to right (150), so a flip puts 150 first
  const rgb = Buffer.alloc(S * S * 3);
  for (let i = 0; i < S * S; i++) rgb[i * 3] = 10 * (i % S);
  for (let i = 0; i < 20; i++) {
    const dir = join(folder, `id${i % 4}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${i}.png`), data.encodePng(rgb, S, S));
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('LoaderSource', () => {
  it('flips training images with the configured data.flip probability', async () => {
    const rate = async (flip: number): Promise<number> => {
      const config = validateConfig(
        { backbone: 'mobilefacenet', imageSize: S, batchSize: 20, data: { train: { type: 'folder', path: folder }, flip, workers: 2 } },
        { checkFiles: false },
      );
      const ds = data.openImageFolder(folder);
      const source = new LoaderSource(ds, config);
      let flipped = 0;
      let seen = 0;
      for (let e = 0; e < 60; e++) {
        for await (const b of source.epoch(e, 0)) {
          const flat = b.images.toTypedArray() as Float32Array;
          // pixel (0, 0) of the red plane: −1 unflipped (0), > 0 flipped (150)
          for (let r = 0; r < b.images.shape[0]!; r++) if (flat[r * 3 * S * S]! > 0) flipped++;
          seen += b.images.shape[0]!;
          b.images.dispose();
          b.labels.dispose();
        }
      }
      source.close();
      return flipped / seen;
    };
    // 1200 samples a rate: σ ≈ 0.012 at p = 0.2
    expect(Math.abs((await rate(0.2)) - 0.2)).toBeLessThan(0.05);
    expect(await rate(0)).toBe(0);
  });
});
