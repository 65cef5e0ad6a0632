import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/train/config.js';
import { lrText, writeReport } from '../../lib/train/report.js';

const dir = mkdtempSync(join(tmpdir(), 'ecf-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report.md', () => {
  it('states the LR decay that was configured, not always ÷10', () => {
    const at = { lr: 0.1, milestones: [28, 38, 46] };
    expect(lrText({ ...at, gamma: 0.1 })).toBe('lr 0.1 ÷10 at epochs 28/38/46');
    expect(lrText({ ...at, gamma: 0.5 })).toBe('lr 0.1 ÷2 at epochs 28/38/46');
    expect(lrText({ ...at, gamma: 0.3 })).toBe('lr 0.1 ×0.3 at epochs 28/38/46');
    expect(lrText({ ...at, gamma: 1 })).toBe('lr 0.1 constant');
    expect(lrText({ lr: 0.05, gamma: 0.1, milestones: [] })).toBe('lr 0.05 constant');
  });

  it('writes the run, its schedule and the verification table', () => {
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      [
        { type: 'val', step: 0, epoch: 0, name: 'lfw', accuracy: 0.5, std: 0.01, time: '' },
        { type: 'val', step: 8, epoch: 2, name: 'lfw', accuracy: 0.75, std: 0.02, time: '' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const config = validateConfig(
      { backbone: 'mobilefacenet', imageSize: 16, epochs: 4, milestones: [2, 3], gamma: 0.25, data: { train: { type: 'folder', path: dir } } },
      { checkFiles: false },
    );
    const last = { step: 8, epoch: 4, modelDir: join(dir, 'model-last'), checkpoint: join(dir, 'checkpoint.safetensors') };
    const path = writeReport({ runDir: dir, steps: 8, epochs: 4, best: null, last, validation: [], interrupted: false, timeLimited: false, finalLoss: 1, metricsPath: join(dir, 'metrics.jsonl'), seconds: 3 }, config);
    const md = readFileSync(path, 'utf8');
    expect(md.split('\n')[0]).toBe(`# Training run ${dir}`);
    expect(md).toContain('lr 0.1 ÷4 at epochs 2/3, 16px');
    expect(md).toContain('| lfw | 50.00 ± 1.00 | 75.00 ± 2.00 (step 8) | 75.00 ± 2.00 (8) | 50.00 |');
  });
});
