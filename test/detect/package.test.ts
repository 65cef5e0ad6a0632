import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('detection in the package', () => {
  it('ships the MTCNN weights with their licence and provenance', () => {
    const out = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--silent'], { cwd: root, encoding: 'utf8' })) as { files: { path: string }[] }[];
    const files = out[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['weights/mtcnn/mtcnn.safetensors', 'weights/mtcnn/LICENSE', 'weights/mtcnn/README.md']));
  });

  it('exports the detector from the package entry', () => {
    expect(typeof api.FaceDetector).toBe('function');
    expect(typeof api.detect).toBe('function');
    expect(typeof api.alignPhotos).toBe('function');
  });
});
