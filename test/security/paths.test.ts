// File names that come from a file never leave their folder (issue 17): `ecacface align` keys and
// a model card's `weights`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../lib/data/codec.js';
import { ARCFACE_TEMPLATE } from '../../lib/data/align.js';
import { loadModel } from '../../lib/eval/model.js';
import { confinedPath, UnsafePathError } from '../../lib/io/confined-path.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');

function run(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Every file under `dir`, relative. */
function files(dir: string, pre = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name), `${pre}${d.name}/`) : [`${pre}${d.name}`]));
}

describe('confinedPath', () => {
  it('keeps relative names inside and refuses absolute, NUL and escaping names', () => {
    expect(confinedPath('/a/b', 'c/d.png', 'f')).toBe('/a/b/c/d.png');
    expect(confinedPath('/a/b', 'c/../d.png', 'f')).toBe('/a/b/d.png');
    for (const bad of ['../x.png', 'c/../../x.png', '/etc/passwd', 'C:\\x.png', 'a\0b', '', '.', 'c/..']) {
      expect(() => confinedPath('/a/b', bad, 'lm.json'), bad).toThrow(UnsafePathError);
    }
  });
});

describe('ecacface align refuses landmark keys that leave the input or output folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'ecf-trav-'));
  const img = new Uint8Array(160 * 160 * 3).fill(90);
  mkdirSync(join(work, 'in/photos'), { recursive: true });
  writeFileSync(join(work, 'in/photos/ok.png'), encodePng(img, 160, 160));
  writeFileSync(join(work, 'in/trav.png'), encodePng(img, 160, 160)); // outside the input folder
  const lm = ARCFACE_TEMPLATE.map((v) => v + 20);

  it.each([
    ['a key that walks up out of both folders', '../trav.png'],
    ['an absolute key', join(work, 'in/trav.png')],
    ['a key that climbs two levels', 'x/../../trav.png'],
  ])('%s: rc ≠ 0, nothing written anywhere', (_, key) => {
    const lmFile = join(work, `lm-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(lmFile, JSON.stringify({ 'ok.png': lm, [key]: lm }));
    const before = files(work).length;
    const r = run(join(work, 'in'), 'align', 'photos', '--landmarks', lmFile, '--out', 'out_trav/sub');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/leaves|absolute/);
    expect(r.err).toContain(JSON.stringify(key));
    expect(files(work).length).toBe(before); // not even the good entry: the file is refused whole
    expect(existsSync(join(work, 'in/out_trav'))).toBe(false);
  });

  it('text landmark files are checked the same way', () => {
    writeFileSync(join(work, 'lm.txt'), `ok.png ${lm.join(' ')}\n../../evil.png ${lm.join(' ')}\n`);
    const r = run(join(work, 'in'), 'align', 'photos', '--landmarks', join(work, 'lm.txt'), '--out', 'o2');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('"../../evil.png"');
    expect(existsSync(join(work, 'in/o2'))).toBe(false);
  });

  it('good keys (sub-folders included) still align', () => {
    mkdirSync(join(work, 'in/photos/sub'), { recursive: true });
    writeFileSync(join(work, 'in/photos/sub/b.png'), encodePng(img, 160, 160));
    writeFileSync(join(work, 'lm-ok.json'), JSON.stringify({ 'ok.png': lm, 'sub/b.png': lm }));
    const r = run(join(work, 'in'), 'align', 'photos', '--landmarks', join(work, 'lm-ok.json'), '--out', 'o3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(files(join(work, 'in/o3')).sort()).toEqual(['ok.png', 'sub/b.png']);
  });
});

describe('a model card cannot point its weights outside its folder', () => {
  it('refuses ../ and absolute weights names', () => {
    const work = mkdtempSync(join(tmpdir(), 'ecf-card-'));
    mkdirSync(join(work, 'm'));
    const card = {
      format: 'ecacface-model-card', version: 1, arch: 'x', attention: 'none', embeddingSize: 8,
      spec: { block: 'ir' }, input: { size: 112, channels: 3, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      flipTTA: true, validation: [], weights: '../secret.safetensors',
    };
    writeFileSync(join(work, 'm/model.json'), JSON.stringify(card));
    expect(() => loadModel(join(work, 'm'))).toThrow(/weights file name "\.\.\/secret\.safetensors" leaves/);
    writeFileSync(join(work, 'm/model.json'), JSON.stringify({ ...card, weights: '/etc/hostname' }));
    expect(() => loadModel(join(work, 'm'))).toThrow(/absolute/);
  });
});
