// Symbolic links in a user's folder (issue 26 K): pack, align and pack --detect follow the links
// that stay inside the input folder and report, with a count, the ones they skip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encodePng } from '../../lib/data/codec.js';
import { openImageFolder } from '../../lib/data/image-folder.js';
import { openRecordIO } from '../../lib/data/recordio.js';
import { listPhotos } from '../../lib/detect/folder.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const astroJpg = readFileSync(join(root, 'test/fixtures/detect/astronaut.jpg'));
const work = mkdtempSync(join(tmpdir(), 'ecf-links-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * in/alice/a.jpg, in/bob/b.jpg; links inside: in/alice/link.jpg → ../bob/b.jpg, in/carol → alice;
 * links that leave: in/alice/out.jpg → ../../secret/s.jpg, in/dave → ../secret; a broken one:
 * in/bob/gone.jpg; a cycle: in/bob/loop → .. (back to in/).
 */
function tree(name: string, image: Uint8Array): string {
  const base = join(work, name);
  const put = (rel: string): void => {
    mkdirSync(join(base, rel, '..'), { recursive: true });
    writeFileSync(join(base, rel), image);
  };
  put('in/alice/a.jpg');
  put('in/bob/b.jpg');
  put('secret/s.jpg');
  symlinkSync('../bob/b.jpg', join(base, 'in/alice/link.jpg'));
  symlinkSync('alice', join(base, 'in/carol'));
  symlinkSync('../../secret/s.jpg', join(base, 'in/alice/out.jpg'));
  symlinkSync('../secret', join(base, 'in/dave'));
  symlinkSync('nowhere.jpg', join(base, 'in/bob/gone.jpg'));
  symlinkSync('..', join(base, 'in/bob/loop'));
  symlinkSync('../secret/notes.txt', join(base, 'in/alice/notes.txt')); // not an image: not listed, not reported
  return base;
}

describe('folder listings follow links inside the root and report the others', () => {
  const small = encodePng(new Uint8Array(16 * 16 * 3).fill(50), 16, 16);

  it('openImageFolder: carol (a link to alice) and alice/link.jpg are read; out.jpg, dave, gone.jpg are skipped', () => {
    const base = tree('api', small);
    const ds = openImageFolder(join(base, 'in'));
    expect(ds.classes).toEqual(['alice', 'bob', 'carol']);
    expect(ds.files.map((f) => f.slice(base.length + 4))).toEqual(['alice/a.jpg', 'alice/link.jpg', 'bob/b.jpg', 'carol/a.jpg', 'carol/link.jpg']);
    const skipped = ds.skipped.map((s) => `${s.path.slice(base.length + 4)}: ${s.reason}`).sort();
    expect(skipped).toEqual([
      `alice/out.jpg: a symbolic link that leads out of ${join(base, 'in')}`,
      'bob/gone.jpg: a broken symbolic link',
      `carol/out.jpg: a symbolic link that leads out of ${join(base, 'in')}`,
      `dave: a symbolic link that leads out of ${join(base, 'in')}`,
    ]);
  });

  it('listPhotos: links inside are followed (without looping), the others listed as skipped', () => {
    const base = tree('list', small);
    const l = listPhotos(join(base, 'in'));
    expect(l.files).toEqual(['alice/a.jpg', 'alice/link.jpg', 'bob/b.jpg', 'carol/a.jpg', 'carol/link.jpg']);
    expect(l.skipped.map((s) => s.path.slice(base.length + 4)).sort()).toEqual(['alice/out.jpg', 'bob/gone.jpg', 'bob/loop', 'carol/out.jpg', 'dave']);
    expect(l.skipped.find((s) => s.path.endsWith('loop'))!.reason).toMatch(/cycle/);
  });

  it('pack: packs the images behind inside links and counts the skipped entries in its summary', () => {
    tree('pack', small);
    const r = run('pack', 'pack/in', 'pack/rec', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/packed 5 images of 3 identities/);
    expect(r.err).toMatch(/pack: skipped 4 entries that are not a regular file or folder inside the input folder: .*alice\/out\.jpg \(a symbolic link that leads out of pack\/in\)/);
    const ds = openRecordIO(join(work, 'pack/rec'));
    expect(ds.length).toBe(5);
    ds.close();
  });

  it('align and pack --detect: the same, with detection', () => {
    tree('det', astroJpg);
    const a = run('align', 'det/in', '--out', 'det/aligned');
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/aligned 5 faces from 5 of 5 photos/);
    expect(a.err).toMatch(/align: skipped 5 entries .*bob\/loop \(a symbolic link back to a folder that contains it \(a cycle\)\)/);
    expect(readdirSync(join(work, 'det/aligned')).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(existsSync(join(work, 'det/aligned/dave'))).toBe(false);
    expect(decode(readFileSync(join(work, 'det/aligned/carol/link.png'))).width).toBe(112);
    const p = run('pack', 'det/in', 'det/rec', '--detect', '--quiet');
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/packed 5 aligned faces of 3 identities/);
    expect(p.err).toMatch(/pack: skipped 4 entries/);
  }, 600_000);

  it('align --landmarks: a key that reaches out of the folder through a link is refused', () => {
    const base = tree('lm', astroJpg);
    const lm = [203, 101.5, 246.5, 102.5, 223, 127, 203, 140, 244, 141.5];
    writeFileSync(join(base, 'lm.json'), JSON.stringify({ 'alice/a.jpg': lm, 'alice/out.jpg': lm, 'dave/s.jpg': lm }));
    const r = run('align', 'lm/in', '--landmarks', 'lm/lm.json', '--out', 'lm/aligned');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/aligned 1 of 3 images/);
    expect(r.err).toMatch(/alice\/out\.jpg: '.*lm\/in\/alice\/out\.jpg' leads out of lm\/in through a symbolic link/);
    expect(r.err).toMatch(/dave\/s\.jpg: .* leads out of lm\/in through a symbolic link/);
  }, 300_000);
});
