// Many photos through the detector within a byte budget of decoded pixels (issue 26 E): the batch
// and the read-ahead share it, and the detections do not depend on it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, encodeJpeg } from '../../lib/data/codec.js';
import { FaceDetector } from '../../lib/detect/detect.js';
import { DEFAULT_DECODED_BYTES, PixelBudget } from '../../lib/detect/pixel-budget.js';
import { detectStream, type StreamedPhoto } from '../../lib/detect/stream.js';

const astronaut = decode(readFileSync(join(__dirname, '../fixtures/detect/astronaut.jpg')));

/** A JPEG of w×h grey with the 512×512 astronaut pasted at (x, y). */
function photo(w: number, h: number, x: number, y: number): Buffer {
  const px = new Uint8Array(w * h * 3).fill(96);
  for (let r = 0; r < 512 && y + r < h; r++) {
    px.set(astronaut.data.subarray(r * 512 * 3, (r * 512 + Math.min(512, w - x)) * 3), ((y + r) * w + x) * 3);
  }
  return encodeJpeg(px, w, h, 90);
}

const detector = new FaceDetector();
afterAll(() => detector.dispose());

async function all(photos: readonly (Buffer | string)[], options: Parameters<typeof detectStream>[2]): Promise<StreamedPhoto[]> {
  const out: StreamedPhoto[] = [];
  // faces of at least 60 px (the astronaut's is 90): a small pyramid keeps the test quick
  for await (const r of detectStream(detector, photos, { minFaceSize: 60, ...options })) out.push({ ...r, image: undefined });
  return out;
}

describe('detectStream', () => {
  // eight photos of three sizes (decoded: 0.79, 1.47 and 2.36 MB)
  const sizes: [number, number][] = [[512, 512], [800, 612], [1024, 768], [512, 512], [1024, 768], [800, 612], [1024, 768], [512, 512]];
  const photos = sizes.map(([w, h], i) => photo(w, h, (i * 37) % (w - 511), (i * 23) % (h - 511)));
  const bytes = sizes.map(([w, h]) => w * h * 3);

  it('keeps the decoded bytes in flight within the budget, and finds the same faces as one photo at a time', async () => {
    const limit = 3_000_000; // about two photos: batches of 1–3 photos, read-ahead included
    const budget = new PixelBudget(limit);
    const budgeted = await all(photos, { batch: 16, budget });
    expect(budget.peak).toBeGreaterThanOrEqual(bytes[0]! + bytes[1]!); // two photos at once
    expect(budget.peak).toBeLessThanOrEqual(limit);
    expect(budget.used).toBe(0);
    const alone = await all(photos, { batch: 1 });
    const roomy = new PixelBudget(DEFAULT_DECODED_BYTES);
    const together = await all(photos, { batch: 16, budget: roomy });
    expect(roomy.peak).toBe(bytes.reduce((a, b) => a + b, 0)); // one batch of all eight
    for (const r of [budgeted, together]) {
      expect(r.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      r.forEach((x, i) => {
        expect(x.faces.length, `photo ${i}`).toBe(1);
        const [a, b] = [x.faces[0]!, alone[i]!.faces[0]!];
        expect(Math.max(...a.box.map((v, k) => Math.abs(v - b.box[k]!)))).toBeLessThan(1e-3);
        expect(Math.abs(a.score - b.score)).toBeLessThan(1e-5);
      });
    }
  }, 300_000);

  it('a photo larger than the whole budget is detected alone; unreadable photos give their error and the rest go on', async () => {
    const budget = new PixelBudget(1_000_000);
    const r = await all([photos[2]!, '/nonexistent/x.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]), photos[0]!], { budget });
    expect(budget.peak).toBe(bytes[2]); // alone, 2.36 MB > 1 MB
    expect(r.map((x) => x.faces.length)).toEqual([1, 0, 0, 1]);
    expect(r[1]!.error).toMatch(/photo 1 \('\/nonexistent\/x.jpg'\): cannot read \(ENOENT\)/);
    expect(r[2]!.error).toMatch(/^photo 2: decode: /);
  }, 120_000);

  it('leaving the loop early stops the reader and gives the budget back', async () => {
    const budget = new PixelBudget(2_000_000);
    for await (const r of detectStream(detector, photos, { budget, batch: 2 })) {
      expect(r.index).toBe(0);
      break;
    }
    expect(budget.used).toBe(0);
  }, 120_000);
});

const entry = fileURLToPath(new URL('../../dist/lib/index.js', import.meta.url));

describe('detection memory is bounded by the budget, not by batch × photo size', () => {
  // ECF_DETECT_49MP=1 runs the case: 16 photos of 49 MP (8.4 GB before the budget) within
  // 2 GiB with the default budget. The default: 8 photos of 12 MP (36 MB each decoded, 288 MB
  // together; growth 470 MB before the budget) with a 40 MiB budget and a minimum face of 60 px (a
  // small pyramid: the decoded photos dominate).
  const big = process.env.ECF_DETECT_49MP === '1';
  const [w, h, n, budget, minFace, boundMB] = big ? [8576, 5712, 16, undefined, 20, 2048] : [4000, 3000, 8, 40 * 1024 * 1024, 60, 300];
  it(`${n} photos of ${((w * h) / 1e6).toFixed(1)} MP, 16 per batch: RSS grows by less than ${boundMB} MiB`, () => {
    const script = `
      const m = await import(${JSON.stringify(entry)});
      const { detectAlignFiles } = await import(${JSON.stringify(entry.replace(/index\.js$/, 'detect/folder.js'))});
      const { writeFileSync, mkdtempSync, readFileSync } = await import('node:fs');
      const dir = mkdtempSync(${JSON.stringify(join(tmpdir(), 'ecf-bigphotos-'))});
      const W = ${w}, H = ${h};
      const face = m.data.decode(readFileSync(${JSON.stringify(join(__dirname, '../fixtures/detect/astronaut.jpg'))}));
      const px = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { const i = (y * W + x) * 3; px[i] = (x * 7) & 255; px[i + 1] = (y * 5) & 255; px[i + 2] = 96; }
      // the astronaut twice as large (nearest neighbour), in the middle
      for (let r = 0; r < 1024; r++) for (let c = 0; c < 1024; c++) {
        const s = ((r >> 1) * 512 + (c >> 1)) * 3, d = ((H / 2 - 512 + r) * W + W / 2 - 512 + c) * 3;
        px[d] = face.data[s]; px[d + 1] = face.data[s + 1]; px[d + 2] = face.data[s + 2];
      }
      const jpg = m.data.encodeJpeg(px, W, H, 85);
      const files = Array.from({ length: ${n} }, (_, i) => { const f = dir + '/p' + i + '.jpg'; writeFileSync(f, jpg); return f; });
      const detector = new m.FaceDetector();
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const faces = [];
      for await (const r of detectAlignFiles(detector, files, { batch: 16, minFaceSize: ${minFace}, maxDecodedBytes: ${budget} })) {
        peak = Math.max(peak, process.memoryUsage().rss);
        faces.push(r.faces.map((f) => f.face.box.map((v) => Math.round(v * 100) / 100)));
      }
      clearInterval(timer);
      console.log(JSON.stringify({ grownMB: (peak - rss0) / 1048576, faces }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 1_800_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { grownMB: number; faces: number[][][] };
    expect(r.faces).toHaveLength(n);
    for (const f of r.faces) expect(f).toEqual(r.faces[0]); // the same photo n times: the same face every time
    expect(r.faces[0]!.length).toBe(1);
    expect(r.grownMB).toBeLessThan(boundMB);
  }, 1_800_000);
});
