/**
 * The scripted experiments in examples/ run as documented (`npx tsx examples/<name>.ts`), chained
 * on the synthetic set: train a preset (a few steps) → evaluate the model on the .bin sets →
 * embed and compare photos with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let cwd: string;
const tsx = (script: string, args: string[] = []) =>
  execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'examples', script), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, STEPS: '4' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'ecacface-examples-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('examples/', () => {
  let train: { modelDir: string; steps: number; bins: string[] };
  it('train-preset.ts trains the preset on the synthetic RecordIO set and exports a model', () => {
    train = lastJson(tsx('train-preset.ts'));
    expect(train.steps).toBe(4);
    expect(existsSync(join(train.modelDir, 'model.json'))).toBe(true);
    expect(train.bins).toHaveLength(2);
  });

  it('evaluate.ts evaluates that model on a .bin set (10-fold table)', () => {
    const out = tsx('evaluate.ts', [train.modelDir, train.bins[0]!]);
    expect(out).toMatch(/^set\s+pairs\s+accuracy/m);
    const r = lastJson(out) as { sets: { name: string; pairs: number; accuracy: number }[] };
    expect(r.sets.map((s) => s.name)).toEqual(['synth-val']);
    for (const s of r.sets) {
      expect(s.pairs).toBe(60);
      expect(s.accuracy).toBeGreaterThanOrEqual(0);
      expect(s.accuracy).toBeLessThanOrEqual(1);
    }
  });

  it('embed-compare.ts embeds three photos and compares every pair', () => {
    const rows = lastJson(tsx('embed-compare.ts', [train.modelDir])) as { a: string; b: string; cosine: number; same: boolean }[];
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(Math.abs(r.cosine)).toBeLessThanOrEqual(1.0001);
      expect(typeof r.same).toBe('boolean');
    }
  });
});
