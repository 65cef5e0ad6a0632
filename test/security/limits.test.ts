// Sizes and counts a file or an argument names are bounded, with clear errors (issue 17).
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encodePng, MAX_PHOTO_PIXELS } from '../../lib/data/codec.js';
import { synthParams } from '../../lib/data/synth-files.js';
import { align } from '../../lib/data/align.js';
import { readLandmarks } from '../../lib/eval/landmarks.js';
import { loadBatch } from '../../lib/eval/images.js';
import { readBin } from '../../lib/data/bin.js';
import { loadModel } from '../../lib/eval/model.js';
import { readConfigFile } from '../../lib/train/config.js';
import { getNumThreads, maxThreads, setNumThreads, zeros } from '../../lib/tensor/index.js';
import { TO_ARRAY_MAX_ELEMENTS } from '../../lib/tensor/tensor.js';
import { crc32 } from '../../lib/io/zip.js';
import { loadNative } from '../../lib/native.js';
import { alignPhotos, FaceDetector } from '../../lib/detect/detect.js';
import { loadPhoto } from '../../lib/detect/photos.js';
import { readRegularFile, readRegularFileAsync } from '../../lib/io/regular-file.js';
import { constants as bufferConstants } from 'node:buffer';

const cli = join(__dirname, '../../dist/lib/cli/main.js');

const input = { size: 112, colorOrder: 'RGB' as const, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** A PNG of w×h whose IHDR claims `claimW`×`claimH` (a header-only bomb; CRC fixed). */
function lyingPng(claimW: number, claimH: number): Buffer {
  const png = Buffer.from(encodePng(new Uint8Array(4 * 4 * 3), 4, 4));
  png.writeUInt32BE(claimW, 16);
  png.writeUInt32BE(claimH, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A minimal baseline JPEG header (SOI, SOF0) declaring w×h, grey, then EOI: no scan data. */
function lyingJpeg(w: number, h: number): Buffer {
  const sof = [0xff, 0xc0, 0, 11, 8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0];
  const dqt = [0xff, 0xdb, 0, 67, 0, ...new Array(64).fill(1)];
  const dht = [0xff, 0xc4, 0, 20, 0, 1, ...new Array(15).fill(0), 0]; // one 1-bit code for symbol 0
  const sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0];
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, 0x00, 0xff, 0xd9]);
}

describe('decoded pixels are capped per use, from the header, before allocating', () => {
  it('decode() refuses a 16384×16384 JPEG/PNG header by default; a smaller cap refuses a smaller one', () => {
    loadNative(); // libtorch loads on first use: keep its own memory out of the measurement
    const rss0 = process.memoryUsage().rss;
    expect(() => decode(lyingJpeg(16384, 16384))).toThrow(/JPEG header declares 16384x16384 \(268435456 pixels\), more than the 50000000 allowed here/);
    expect(() => decode(lyingPng(16384, 16384))).toThrow(/PNG header declares 16384x16384/);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
    expect(MAX_PHOTO_PIXELS).toBe(50_000_000);
    expect(() => decode(lyingPng(640, 480), { maxPixels: 1000 })).toThrow(/640x480 \(307200 pixels\), more than the 1000 allowed/);
  });

  it('align() refuses it; embed (the batch decoder) refuses anything bigger than its face size before decoding', async () => {
    expect(() => align(lyingJpeg(16384, 16384), [[40, 50], [70, 50], [56, 70], [42, 90], [70, 90]])).toThrow(/16384x16384/);
    const rss0 = process.memoryUsage().rss;
    await expect(loadBatch([lyingJpeg(16384, 16384)], input)).rejects.toThrow(/image 0: JPEG header declares 16384x16384 .* more than the 12544 allowed here \(expected 112x112\)/);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('only regular files are read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecf-fifo-'));
  const fifo = join(dir, 'pipe.jpg');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(dir, 'adir.jpg'));

  it('embed on a FIFO or a directory fails at once, naming it', async () => {
    await expect(loadBatch([fifo], input)).rejects.toThrow(/pipe\.jpg is not a regular file \(a FIFO\)/);
    await expect(loadBatch([join(dir, 'adir.jpg')], input)).rejects.toThrow(/adir\.jpg is not a regular file \(a directory\)/);
  });

  it('detect, embed --detect and compare --detect (loadPhoto) refuse a FIFO at once, naming it', async () => {
    const detector = new FaceDetector();
    try {
      await expect(detector.detect(fifo)).rejects.toThrow(/photo 0 \('.*pipe\.jpg'\): file '.*pipe\.jpg' is a FIFO \(named pipe\), not a regular file/);
      await expect(alignPhotos(detector, [fifo])).rejects.toThrow(/1 of 1 photos could not be read: .*FIFO/);
      await expect(loadPhoto(join(dir, 'adir.jpg'))).rejects.toThrow(/is a directory, not a regular file/);
    } finally {
      detector.dispose();
    }
    const r = spawnSync(process.execPath, [cli, 'detect', fifo], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)[0].error).toMatch(/FIFO/);
  }, 90_000);

  it('every read of a user path in lib/ goes through lib/io/regular-file.ts', () => {
    // package files, our own cache marker and a directory opened to fsync it are not a user's
    const allowed = new Set(['native-load.ts', 'cli/version.ts', 'data/synth-files.ts', 'io/regular-file.ts', 'io/atomic.ts']);
    const libDir = join(__dirname, '../../lib');
    const offenders: string[] = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(libDir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else if (r.endsWith('.ts') && !allowed.has(r)) {
          readFileSync(join(libDir, r), 'utf8').split('\n').forEach((line, i) => {
            if (/^\s*(\*|\/\/)/.test(line)) return; // comments and TSDoc examples
            if (/'package\.json'/.test(line)) return; // the package's own package.json (its version)
            if (/\breadFileSync\(|\breadFile\(|\bcreateReadStream\(|\bopenSync\([^)]*['"]r['"]|from 'node:fs\/promises'/.test(line)) offenders.push(`lib/${r}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk('');
    expect(offenders).toEqual([]);
  });

  it('a file too large for one read is refused naming it and the limit (sparse files: no disk used)', async () => {
    const big = join(mkdtempSync(join(tmpdir(), 'ecf-big-')), 'huge.jpg');
    try {
      writeFileSync(big, '');
      truncateSync(big, bufferConstants.MAX_LENGTH + 1);
      expect(() => readRegularFile(big, 'photo')).toThrow(new RegExp(`photo '.*huge\\.jpg' is ${bufferConstants.MAX_LENGTH + 1} bytes, more than one read can hold \\(${bufferConstants.MAX_LENGTH}\\)`));
      truncateSync(big, 2 ** 31);
      await expect(readRegularFileAsync(big, 'photo')).rejects.toThrow(/photo '.*huge\.jpg' is 2147483648 bytes, more than one read can hold \(2147483647\)/);
    } finally {
      rmSync(big, { force: true });
    }
  });

  it('every reader of a user file refuses a FIFO by name (none blocks)', () => {
    expect(() => readBin(fifo)).toThrow(/is a FIFO \(named pipe\), not a regular file/);
    expect(() => readLandmarks(fifo)).toThrow(/FIFO/);
    expect(() => loadModel(fifo)).toThrow(/FIFO/);
    expect(() => readConfigFile(fifo)).toThrow(/FIFO/);
    expect(() => readBin(join(dir, 'adir.jpg'))).toThrow(/is a directory, not a regular file/);
  });
});

describe('sizes from arguments', () => {
  it('synth --pairs 1e9 is refused with the bound (the CLI exits cleanly, no V8 abort)', () => {
    expect(() => synthParams({ valPairs: 1_000_000_000 })).toThrow(/valPairs must be an integer in \[0, 100000\], got 1000000000/);
    const cli = join(__dirname, '../../dist/lib/cli/main.js');
    const r = spawnSync(process.execPath, [cli, 'synth', '--pairs', '1000000000', '--cache', join(tmpdir(), 'ecf-synth-never')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--pairs must be an integer in \[0, 100000\], got 1000000000/);
    expect(r.stderr).not.toMatch(/valPairs/);
    const odd = spawnSync(process.execPath, [cli, 'synth', '--pairs', '7', '--images', '1', '--cache', join(tmpdir(), 'ecf-synth-never')], { encoding: 'utf8', timeout: 60_000 });
    expect(odd.status).toBe(1);
    expect(odd.stderr).toMatch(/--images must be an integer in \[2, 10000\], got 1.*--pairs must be even/);
  });

  it('toArray() above 2^24 elements refuses (toTypedArray works)', () => {
    const t = zeros([TO_ARRAY_MAX_ELEMENTS + 1], { dtype: 'uint8' });
    expect(() => t.toArray()).toThrow(/16777217 elements is more than the 16777216 .* use toTypedArray\(\)/);
    expect(t.toTypedArray().length).toBe(TO_ARRAY_MAX_ELEMENTS + 1);
    t.dispose();
  });

  it('thread counts are bounded by 4 × cores (at least 8)', () => {
    const before = getNumThreads();
    expect(maxThreads()).toBe(Math.min(1024, Math.max(8, 4 * availableParallelism())));
    expect(() => setNumThreads(10000)).toThrow(/setNumThreads: threads must be at most \d+ on this machine/);
    expect(() => setNumThreads(1e9)).toThrow(RangeError);
    expect(getNumThreads()).toBe(before);
    setNumThreads(maxThreads());
    setNumThreads(before);
  });
});
