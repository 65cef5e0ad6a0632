import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareRunDir, RunExistsError } from '../../lib/train/run-dir.js';

const root = mkdtempSync(join(tmpdir(), 'rundir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function oldRun(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'model-best'), { recursive: true });
  mkdirSync(join(dir, 'tensorboard'), { recursive: true });
  writeFileSync(join(dir, 'model-best', 'model.safetensors'), 'weights');
  writeFileSync(join(dir, 'metrics.jsonl'), '{}\n');
  writeFileSync(join(dir, '.checkpoint.safetensors.tmp-12-34'), 'x');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
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
    expect(() => prepareRunDir(dir)).toThrow(/is not empty \(\.checkpoint\.safetensors\.tmp-12-34, metrics\.jsonl, model-best, notes\.txt, tensorboard\).*--resume.*--overwrite/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('resume keeps everything; overwrite removes what a run wrote and nothing else', () => {
    const dir = oldRun('again');
    prepareRunDir(dir, { resume: true });
    expect(readdirSync(dir)).toHaveLength(5);
    prepareRunDir(dir, { overwrite: true });
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(() => prepareRunDir(dir, { resume: true, overwrite: true })).toThrow(/exclude each other/);
  });

  it('refuses a path that is a file', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => prepareRunDir(join(root, 'file'))).toThrow(/not a directory/);
  });
});
