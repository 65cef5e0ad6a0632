// Photos a user hands the CLI (issue 26 J and minor items): outputs that would collide get unique
// names and the counts match the files written; nothing produced is an error; damaged or CMYK
// photos; landmarks far outside the photo; a bad --device.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encodeJpeg, encodePng } from '../../lib/data/codec.js';
import { align, ARCFACE_TEMPLATE } from '../../lib/data/align.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const fx = join(root, 'test/fixtures');
const work = mkdtempSync(join(tmpdir(), 'ecf-inputs-cli-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Every file under `dir`, relative, sorted. */
function files(dir: string, pre = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? files(join(dir, d.name), `${pre}${d.name}/`) : [`${pre}${d.name}`]))
    .sort();
}

const astroJpg = readFileSync(join(fx, 'detect/astronaut.jpg'));
const astro = decode(astroJpg);
const astroPng = encodePng(astro.data, 512, 512);
const noFace = encodePng(new Uint8Array(160 * 120 * 3).fill(70), 160, 120);
const put = (rel: string, data: Uint8Array): void => {
  mkdirSync(join(work, rel, '..'), { recursive: true });
  writeFileSync(join(work, rel), data);
};

put('same/x.jpg', astroJpg);
put('same/x.png', astroPng);
put('same/y.png', astroPng);
put('two/a/x.jpg', astroJpg);
put('two/b/x.jpg', astroJpg);
put('empty/p/a.png', noFace);
put('empty/p/b.png', noFace);

describe('outputs never collide silently', () => {
  it('align (detect mode): x.jpg and x.png give x.png and x-2.png, and the count is the files written', () => {
    const r = run('align', 'same', '--out', 'al-same');
    expect(r.code, r.err).toBe(0);
    expect(files(join(work, 'al-same'))).toEqual(['x-2.png', 'x.png', 'y.png']);
    expect(r.out).toContain('aligned 3 faces from 3 of 3 photos');
    expect(r.err).toMatch(/align: 1 output name was already taken by another output and got a -N suffix: x\.png → x-2\.png/);
  }, 300_000);

  it('align --landmarks: the same, for names from the landmarks file', () => {
    const lm = ARCFACE_TEMPLATE.map((v) => v + 150);
    writeFileSync(join(work, 'lm-same.json'), JSON.stringify({ 'x.jpg': lm, 'x.png': lm }));
    const r = run('align', 'same', '--landmarks', 'lm-same.json', '--out', 'al-lm');
    expect(r.code, r.err).toBe(0);
    expect(files(join(work, 'al-lm'))).toEqual(['x-2.png', 'x.png']);
    expect(r.out).toContain('aligned 2 of 2 images');
  }, 300_000);

  it('detect --draw: a/x.jpg and b/x.jpg give x.png and x-2.png, each named in the JSON', () => {
    const r = run('detect', 'two/a/x.jpg', 'two/b/x.jpg', '--draw', 'drawn-two');
    expect(r.code, r.err).toBe(0);
    expect(files(join(work, 'drawn-two'))).toEqual(['x-2.png', 'x.png']);
    const json = JSON.parse(r.out) as { file: string; drawing: string }[];
    expect(json.map((j) => j.drawing)).toEqual([join('drawn-two', 'x.png'), join('drawn-two', 'x-2.png')]);
    expect(r.err).toMatch(/2 drawings in drawn-two/);
  }, 300_000);
});

describe('nothing produced is an error', () => {
  it('align and pack --detect exit non-zero when no photo has a face, and write nothing', () => {
    const a = run('align', 'empty', '--out', 'al-empty');
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/align: no face found in any of the 2 photos under 'empty'; nothing was written/);
    expect(existsSync(join(work, 'al-empty'))).toBe(false);
    const p = run('pack', 'empty', 'rec-empty', '--detect', '--quiet');
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/pack --detect: no face found in any of the 2 photos under 'empty'; nothing was written/);
    expect(existsSync(join(work, 'rec-empty'))).toBe(false);
  }, 300_000);
});

describe('damaged, CMYK and out-of-frame inputs', () => {
  it('a truncated JPEG is detected with a warning (in the JSON and on stderr)', () => {
    const sos = astroJpg.indexOf(Buffer.from([0xff, 0xda]));
    put('cut.jpg', astroJpg.subarray(0, sos + Math.floor((astroJpg.length - sos) * 0.8)));
    const r = run('detect', 'cut.jpg');
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { warning?: string }[])[0]!.warning).toMatch(/photo 0 \('cut.jpg'\): JPEG: Premature end of JPEG file/);
    expect(r.err).toMatch(/detect: warning: photo 0 \('cut.jpg'\): JPEG: Premature end of JPEG file/);
  }, 300_000);

  it('embed --detect: a CMYK JPEG embeds like its RGB original; an unreadable photo is reported and the others go on', () => {
    const expected = JSON.parse(readFileSync(join(fx, 'checkpoints/expected.json'), 'utf8')) as { spec: unknown };
    writeFileSync(join(work, 'spec.json'), JSON.stringify(expected.spec));
    put('broken.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]));
    const m = ['-m', join(fx, 'checkpoints/ir_tiny.pt'), '--spec', 'spec.json'];
    const r = run('embed', ...m, '--detect', join(fx, 'detect/astronaut_cmyk.jpg'), 'broken.jpg', join(fx, 'detect/astronaut.jpg'));
    expect(r.code).toBe(1); // broken.jpg
    expect(r.err).toMatch(/embed: 1 of 3 photos could not be read: photo 1 \('broken.jpg'\): /);
    const rows = JSON.parse(r.out) as { file: string; embedding?: number[]; error?: string }[];
    expect(rows.map((x) => x.embedding !== undefined)).toEqual([true, false, true]);
    expect(rows[1]!.error).toMatch(/broken\.jpg/);
    const [a, b] = [rows[0]!.embedding!, rows[2]!.embedding!];
    expect(a.reduce((s, v, i) => s + v * b[i]!, 0)).toBeGreaterThan(0.98); // cosine of unit vectors
  }, 300_000);

  it('embed (aligned faces, the batch decoder) warns of a truncated JPEG and embeds it as decoded', () => {
    const face = align(astroJpg, [[203, 101.5], [246.5, 102.5], [223, 127], [203, 140], [244, 141.5]]);
    const jpg = encodeJpeg(face.data, 112, 112, 95);
    const sos = jpg.indexOf(Buffer.from([0xff, 0xda]));
    put('cut-face.jpg', jpg.subarray(0, sos + Math.floor((jpg.length - sos) * 0.7)));
    const expected = JSON.parse(readFileSync(join(fx, 'checkpoints/expected.json'), 'utf8')) as { spec: unknown };
    writeFileSync(join(work, 'spec.json'), JSON.stringify(expected.spec));
    const r = run('embed', '-m', join(fx, 'checkpoints/ir_tiny.pt'), '--spec', 'spec.json', 'cut-face.jpg');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/embed: warning: image 0 \('cut-face.jpg'\): JPEG: Premature end of JPEG file/);
    expect((JSON.parse(r.out) as { embedding: number[] }[])[0]!.embedding).toHaveLength(16); // ir-tiny's embedding size
  }, 300_000);

  it('landmarks far outside the photo (1e308) are refused, in the API and the CLI', () => {
    const far = [1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308];
    expect(() => align(astroJpg, far)).toThrow(/landmark 0 \(1e\+308, 1e\+308\) lies far outside the 512×512 image/);
    expect(() => align(astroJpg, ARCFACE_TEMPLATE.map((v) => 200 + v / 1000))).toThrow(/span less than a pixel: not five distinct points/);
    writeFileSync(join(work, 'lm-far.json'), JSON.stringify({ 'x.jpg': far }));
    const r = run('align', 'same', '--landmarks', 'lm-far.json', '--out', 'al-far');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/align: x\.jpg: align: landmark 0 .* lies far outside/);
    expect(existsSync(join(work, 'al-far'))).toBe(false);
  }, 300_000);

  it('detect --device bogus names the device, not a dtype', () => {
    const r = run('detect', 'same/x.jpg', '--device', 'bogus');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--device/);
    expect(r.err).not.toMatch(/dtype/);
  }, 300_000);
});
