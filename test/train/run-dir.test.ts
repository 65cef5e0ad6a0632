import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/train/config.js';
import { checkRunName, markRunDir, prepareRunDir, RUN_MARKER, runDirOf, RunExistsError } from '../../lib/train/run-dir.js';

const root = mkdtempSync(join(tmpdir(), 'rundir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder as an earlier run left it (with the run marker unless `marker` is false). */
function oldRun(name: string, marker = true): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'model-best'), { recursive: true });
  mkdirSync(join(dir, 'tensorboard'), { recursive: true });
  writeFileSync(join(dir, 'model-best', 'model.safetensors'), 'weights');
  writeFileSync(join(dir, 'metrics.jsonl'), '{}\n');
  writeFileSync(join(dir, '.checkpoint.safetensors.tmp-12-34'), 'x');
  writeFileSync(join(dir, 'checkpoint.rank1.safetensors'), 'shard');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  if (marker) markRunDir(dir);
  return dir;
}

describe('run directories', () => {
  it('creates a new directory and accepts an empty one', () => {
    prepareRunDir(join(root, 'a', 'b'));
    expect(existsSync(join(root, 'a', 'b'))).toBe(true);
    prepareRunDir(join(root, 'a', 'b'));
  });

  it('refuses a non-empty directory and leaves it untouched', () => {
    const dir = oldRun('taken');
    const before = readdirSync(dir).sort();
    expect(() => prepareRunDir(dir)).toThrow(RunExistsError);
    expect(() => prepareRunDir(dir)).toThrow(/is not empty \(\.checkpoint\.safetensors\.tmp-12-34, checkpoint\.rank1\.safetensors, metrics\.jsonl, model-best, notes\.txt, tensorboard\).*--resume.*--overwrite/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('resume keeps everything; overwrite removes what a run wrote and nothing else', () => {
    const dir = oldRun('again');
    prepareRunDir(dir, { resume: true });
    expect(readdirSync(dir)).toHaveLength(7);
    prepareRunDir(dir, { overwrite: true });
    expect(readdirSync(dir).sort()).toEqual([RUN_MARKER, 'notes.txt']);
    expect(() => prepareRunDir(dir, { resume: true, overwrite: true })).toThrow(/exclude each other/);
  });

  it('a new run leaves the marker; --overwrite refuses a folder without one and removes nothing', () => {
    const fresh = join(root, 'fresh');
    prepareRunDir(fresh);
    expect(readdirSync(fresh)).toEqual([RUN_MARKER]);
    // what `name: ..` pointed --overwrite at: someone's folder with a config.json, report.md, plots/
    const sandbox = join(root, 'sandbox');
    mkdirSync(join(sandbox, 'plots'), { recursive: true });
    writeFileSync(join(sandbox, 'config.json'), '{}');
    writeFileSync(join(sandbox, 'report.md'), '# mine');
    writeFileSync(join(sandbox, 'plots', 'a.svg'), '<svg/>');
    expect(() => prepareRunDir(sandbox, { overwrite: true })).toThrow(/was not made by an ecacface run \(it has no \.ecacface-run marker\), so nothing in it is removed/);
    expect(readdirSync(sandbox).sort()).toEqual(['config.json', 'plots', 'report.md']);
    expect(readdirSync(join(sandbox, 'plots'))).toEqual(['a.svg']);
    // a directory named like the marker is no marker
    mkdirSync(join(sandbox, RUN_MARKER));
    expect(() => prepareRunDir(sandbox, { overwrite: true })).toThrow(/no \.ecacface-run marker/);
    const old = oldRun('unmarked', false);
    expect(() => prepareRunDir(old, { overwrite: true })).toThrow(/no \.ecacface-run marker/);
    expect(readdirSync(old)).toHaveLength(6);
  });

  it('a run name is one folder inside outDir', () => {
    for (const bad of ['.', '..', 'a/b', '../x', '']) expect(() => checkRunName(bad), bad).toThrow(/not one folder name inside outDir/);
    expect(() => runDirOf({ outDir: join(root, 'runs'), name: '..' })).toThrow(/not one folder name/);
    expect(runDirOf({ outDir: join(root, 'runs'), name: '...' })).toBe(join(root, 'runs', '...'));
    const base = { backbone: 'mobilefacenet', data: { train: { type: 'recordio', path: 'x.rec' } } };
    for (const name of ['.', '..']) {
      expect(() => validateConfig({ ...base, name }, { checkFiles: false }), name).toThrow(/name.*not "\." or "\.\."/s);
    }
    expect(validateConfig({ ...base, name: 'run.2' }, { checkFiles: false }).name).toBe('run.2');
  });

  it('refuses a path that is a file', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => prepareRunDir(join(root, 'file'))).toThrow(/not a directory/);
  });
});

describe('an outDir on a read-only file system', () => {
  // a read-only tmpfs where the machine lets us mount one (root with CAP_SYS_ADMIN: CI's container),
  // mounted and unmounted inside the test, so that a filtered or failed run leaves no mount behind
  it('is reported as read-only, naming the folder (Node says ENOENT)', (ctx) => {
    const ro = join(root, 'ro');
    mkdirSync(ro);
    if (process.platform !== 'linux' || spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'none', ro]).status !== 0) ctx.skip();
    try {
      const dir = join(ro, 'runs', 'r1');
      expect(() => prepareRunDir(dir)).toThrow(`creating the run directory ${dir} failed: EROFS: read-only file system, mkdir '${join(ro, 'runs')}' (a read-only file system)`);
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});
