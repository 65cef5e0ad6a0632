// detect, and --detect / detection on embed, compare, align and pack, run as a user would
// (node dist/lib/cli/main.js; `npm test` builds dist first through scripts/setup.sh).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encodeJpeg, encodePng } from '../../lib/data/codec.js';
import { rotateCcw, withOrientation } from '../detect/photos.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const fx = join(root, 'test/fixtures');
const work = mkdtempSync(join(tmpdir(), 'ecf-detect-cli-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json' (npm test does it)`).toBe(true);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const astro = join(fx, 'detect/astronaut.jpg');
const px = decode(readFileSync(astro));
const rot = rotateCcw(px.data, 512, 512);
const noFace = encodePng(new Uint8Array(160 * 120 * 3).fill(70), 160, 120);
const put = (rel: string, data: Uint8Array): void => {
  mkdirSync(join(work, rel, '..'), { recursive: true });
  writeFileSync(join(work, rel), data);
};
put('photos/a/astro.jpg', readFileSync(astro));
put('photos/b/empty.png', noFace);
put('rotated.jpg', withOrientation(encodeJpeg(rot.data, rot.width, rot.height, 92), 6));
put('broken.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]));

describe('ecacface detect / align / embed / compare / pack with detection', () => {
  it('detect writes boxes and landmarks as JSON, draws them, and reports unreadable photos', () => {
    const r = run('detect', 'photos/a/astro.jpg', 'photos/b/empty.png', 'broken.jpg', '--draw', 'drawn', '--out', 'faces.json');
    expect(r.code).toBe(1); // broken.jpg
    expect(r.err).toMatch(/detect: 1 faces in 2 photos; 1 could not be read/);
    const json = JSON.parse(readFileSync(join(work, 'faces.json'), 'utf8')) as { file: string; faces?: { box: number[]; landmarks: number[][] }[]; error?: string }[];
    expect(json.map((j) => j.faces?.length ?? j.error)).toEqual([1, 0, expect.stringMatching(/^photo 2 \('broken.jpg'\): /)]);
    const [lx, ly] = json[0]!.faces![0]!.landmarks[0]!;
    expect(Math.hypot(lx! - 203, ly! - 101.5)).toBeLessThan(4);
    const png = decode(readFileSync(join(work, 'drawn/astro.png')));
    expect([png.width, png.height]).toEqual([512, 512]);
    // the box edge is drawn in green where the photo is not
    const [x1, y1] = json[0]!.faces![0]!.box;
    const at = (Math.floor(y1! + 20) * 512 + Math.floor(x1!)) * 3;
    expect([png.data[at], png.data[at + 1], png.data[at + 2]]).toEqual([0, 230, 64]);
  });

  it('align without --landmarks detects, aligns, and lists photos without a face', () => {
    const r = run('align', 'photos', '--out', 'al');
    expect(r.code).toBe(0);
    expect(r.out).toContain('aligned 1 faces from 1 of 2 photos');
    expect(r.err).toContain('no face found in 1 photos: b/empty.png');
    const a = decode(readFileSync(join(work, 'al/a/astro.png')));
    expect([a.width, a.height]).toEqual([112, 112]);
  });

  it('embed --detect equals embedding the aligned crop; compare --detect handles EXIF rotation', () => {
    const expected = JSON.parse(readFileSync(join(fx, 'checkpoints/expected.json'), 'utf8')) as { spec: unknown };
    writeFileSync(join(work, 'spec.json'), JSON.stringify(expected.spec));
    const m = ['-m', join(fx, 'checkpoints/ir_tiny.pt'), '--spec', 'spec.json'];
    const e1 = run('embed', ...m, '--detect', 'photos/a/astro.jpg');
    const e2 = run('embed', ...m, 'al/a/astro.png');
    expect(e1.code, e1.err).toBe(0);
    expect(e2.code, e2.err).toBe(0);
    const v1 = (JSON.parse(e1.out) as { embedding: number[] }[])[0]!.embedding;
    const v2 = (JSON.parse(e2.out) as { embedding: number[] }[])[0]!.embedding;
    expect(Math.max(...v1.map((v, i) => Math.abs(v - v2[i]!)))).toBeLessThan(1e-5);
    const c = run('compare', ...m, '--detect', '--threshold', '1', 'photos/a/astro.jpg', 'rotated.jpg');
    expect(c.code, c.err).toBe(0);
    expect(Number(/cosine (\S+)/.exec(c.out)![1])).toBeGreaterThan(0.9);
    const none = run('embed', ...m, '--detect', 'photos/b/empty.png');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no face found in 1 of 1 photos: photo 0 \('photos\/b\/empty.png'\)/);
  });

  it('pack --detect stores aligned faces, skips and lists photos without one, keeps labels contiguous', () => {
    mkdirSync(join(work, 'raw/id0'), { recursive: true });
    mkdirSync(join(work, 'raw/id1'), { recursive: true });
    mkdirSync(join(work, 'raw/id2'), { recursive: true });
    copyFileSync(astro, join(work, 'raw/id0/a.jpg'));
    copyFileSync(join(work, 'rotated.jpg'), join(work, 'raw/id0/b.jpg'));
    writeFileSync(join(work, 'raw/id1/x.png'), noFace);
    copyFileSync(astro, join(work, 'raw/id2/c.jpg'));
    const r = run('pack', 'raw', 'rec', '--detect', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/packed 3 aligned faces of 2 identities \(112x112\) from 4 photos/);
    expect(r.err).toContain('1 identities had no photo with a face');
    expect(readFileSync(join(work, 'rec/skipped.txt'), 'utf8')).toMatch(/raw\/id1\/x.png\tno face found/);
    expect(readFileSync(join(work, 'rec/property'), 'utf8').trim()).toBe('2,112,112');
  });
});
