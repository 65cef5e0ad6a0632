// The eval/embed/compare/align commands, run as a user would (node dist/lib/cli/main.js; `npm test`
// builds dist first through scripts/setup.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeJpeg, encodePng } from '../../lib/data/codec.js';
import { ARCFACE_TEMPLATE } from '../../lib/data/align.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const fx = join(root, 'test/fixtures/checkpoints');
const work = mkdtempSync(join(tmpdir(), 'ecf-cli-'));
const faces = readFileSync(join(fx, 'faces.u8'));
const face = (i: number): Buffer => faces.subarray(i * 37632, (i + 1) * 37632);

function run(...args: string[]): { code: number; out: string; err: string } {
  expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json' (npm test does it)`).toBe(true);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('ecacface eval / embed / compare / align', () => {
  it('eval prints the table, writes ROC SVG+PNG and exports a model with a calibrated threshold', () => {
    const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as { spec: unknown; bin: { printed: string } };
    writeFileSync(join(work, 'spec.json'), JSON.stringify(expected.spec));
    const r = run('eval', '-m', join(fx, 'ir_tiny.pt'), '--spec', 'spec.json', '--bin', join(fx, 'pairs_tiny.bin'), '--batch-size', '32', '--out', 'ev', '--save-model', 'model', '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^set\s+pairs\s+accuracy \(%\)/);
    expect(r.out).toContain(expected.bin.printed);
    expect(readFileSync(join(work, 'ev/roc.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(work, 'ev/roc.png')).subarray(1, 4).toString()).toBe('PNG');
    const card = JSON.parse(readFileSync(join(work, 'model/model.json'), 'utf8'));
    expect(card.threshold.source).toBe('pairs_tiny');
    expect(card.validation[0].set).toBe('pairs_tiny');
  });

  it('align → compare → embed on files', () => {
    // face 0 pasted into a bigger picture at (40, 30): its landmarks are the template shifted
    const W = 200;
    const H = 180;
    const img = new Uint8Array(W * H * 3);
    for (let y = 0; y < 112; y++) img.set(face(0).subarray(y * 336, (y + 1) * 336), ((y + 30) * W + 40) * 3);
    mkdirSync(join(work, 'photos'), { recursive: true });
    writeFileSync(join(work, 'photos/p.png'), encodePng(img, W, H));
    writeFileSync(join(work, 'photos/q.jpg'), encodeJpeg(img, W, H, 95));
    const lm = ARCFACE_TEMPLATE.map((v, i) => v + (i % 2 ? 30 : 40));
    writeFileSync(join(work, 'lm.json'), JSON.stringify({ 'p.png': lm, 'q.jpg': lm }));
    const a = run('align', 'photos', '--landmarks', 'lm.json', '--out', 'al');
    expect(a.code).toBe(0);
    expect(a.out).toContain('aligned 2 of 2 images');
    writeFileSync(join(work, 'f0.png'), encodePng(face(0), 112, 112));
    const same = run('compare', '-m', 'model', 'f0.png', 'al/p.png');
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/cosine 1\.0000 {2}distance 0\.0000 .*same person/);
    const e = run('embed', '-m', 'model', 'f0.png', 'al/q.png');
    expect(e.code).toBe(0);
    const rows = JSON.parse(e.out) as { file: string; embedding: number[] }[];
    expect(rows.map((x) => x.file)).toEqual(['f0.png', 'al/q.png']);
    expect(rows[0]!.embedding).toHaveLength(16);
  });
});
