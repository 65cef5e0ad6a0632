/**
 * bench/detect — MTCNN photos per second on 640×480 photos with one face each (the astronaut photo scaled
 * into a 640×480 frame at several sizes and places), against the same cascade written in Python with
 * PyTorch ops on the same libtorch (bench/detect_ref.py), side by side in one run:
 * - ours, all photos in one `detectImages` call (P-Net batched per pyramid level over the photos, R-Net and
 *   O-Net over all candidates, native resampling and NMS);
 * - ours, photo by photo;
 * - the Python reference, photo by photo (its usual structure).
 * Both print the landmarks of photo 0 (they should agree to about a pixel: the resampling filters differ).
 *
 * Both sides use the same number of intra-op threads (--threads, default 2).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/detect.js [--photos 8] [--repeats 5] [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from '../lib/data/codec.js';
import { FaceDetector } from '../lib/detect/detect.js';
import type { RgbImage } from '../lib/detect/mtcnn.js';
import { defaultMtcnnWeights } from '../lib/detect/weights.js';
import { setNumThreads } from '../lib/tensor/runtime.js';
import { referencePython } from './python.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const N = Number(arg('photos', '8'));
const R = Number(arg('repeats', '5'));
const T = Number(arg('threads', '2'));
setNumThreads(T);
const W = 640;
const H = 480;
const root = fileURLToPath(new URL('../..', import.meta.url));

const astro = decode(readFileSync(join(root, 'test', 'fixtures', 'detect', 'astronaut.jpg')));
function photo(k: number): RgbImage {
  const side = 300 + ((k * 37) % 180); // 300..479 px: faces of about 60..95 px
  const ox = (k * 53) % (W - side);
  const oy = (k * 29) % (H - side + 1);
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = (y * W + x) * 3;
      const u = x - ox;
      const v = y - oy;
      if (u >= 0 && v >= 0 && u < side && v < side) {
        const s = (Math.floor((v * 512) / side) * 512 + Math.floor((u * 512) / side)) * 3;
        data[d] = astro.data[s]!;
        data[d + 1] = astro.data[s + 1]!;
        data[d + 2] = astro.data[s + 2]!;
      } else {
        data[d] = 90 + (x >> 3);
        data[d + 1] = 120;
        data[d + 2] = 160 - (y >> 3);
      }
    }
  }
  return { data, width: W, height: H };
}
const photos = Array.from({ length: N }, (_, k) => photo(k));

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const detector = new FaceDetector();
detector.detectImages([photos[0]!]); // warm-up
const batched: number[] = [];
const single: number[] = [];
let faces0 = detector.detectImages([photos[0]!])[0]!;
const counts: number[] = [];
for (let r = 0; r < R; r++) {
  let t0 = performance.now();
  const all = detector.detectImages(photos);
  batched.push((performance.now() - t0) / 1000);
  counts.splice(0, counts.length, ...all.map((f) => f.length));
  t0 = performance.now();
  photos.forEach((p, k) => {
    const f = detector.detectImages([p])[0]!;
    if (k === 0) faces0 = f;
  });
  single.push((performance.now() - t0) / 1000);
}
detector.dispose();

const dir = mkdtempSync(join(tmpdir(), 'bench-detect-'));
const rgb = join(dir, 'photos.rgb');
writeFileSync(rgb, Buffer.concat(photos.map((p) => Buffer.from(p.data))));
const ref = JSON.parse(
  execFileSync(referencePython(), [join(root, 'bench', 'detect_ref.py'), defaultMtcnnWeights(), rgb, String(N), String(W), String(H), String(R), String(T)], { encoding: 'utf8' }),
) as { seconds: number[]; faces: [number[], number, number[][]][]; threads: number };

const ps = (s: number): string => (N / s).toFixed(1);
console.log(`bench:detect — ${N} photos ${W}×${H}, one face each; median of ${R} runs; ${T} threads each side; faces per photo (ours): ${counts.join(' ')}`);
console.log(`  ours, batched         ${ps(median(batched))} photos/s  (${((median(batched) / N) * 1000).toFixed(1)} ms/photo)`);
console.log(`  ours, photo by photo  ${ps(median(single))} photos/s  (${((median(single) / N) * 1000).toFixed(1)} ms/photo)`);
console.log(`  python+torch ref      ${ps(median(ref.seconds))} photos/s  (${((median(ref.seconds) / N) * 1000).toFixed(1)} ms/photo, ${ref.threads} threads)`);
console.log(`  ratio batched/ref ${(median(ref.seconds) / median(batched)).toFixed(2)}×, photo-by-photo/ref ${(median(ref.seconds) / median(single)).toFixed(2)}×`);
const fmt = (lm: number[][]): string => lm.map(([x, y]) => `(${x!.toFixed(1)}, ${y!.toFixed(1)})`).join(' ');
console.log(`  photo 0 landmarks: ours ${faces0[0] ? fmt(faces0[0].landmarks) : '—'}`);
console.log(`                     ref  ${ref.faces[0] ? fmt(ref.faces[0][2]) : '—'}`);
