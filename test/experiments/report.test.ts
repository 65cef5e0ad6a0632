/**
 * The table of an experiment from finished results: means and stds over seeds, pairing by seed for
 * the test against the baseline, Holm over the rows; the result store's fingerprints; the epoch plan
 * of a step budget. No training here (the scripts' own test runs them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { epochPlan } from '../../experiments/lib/experiment';
import { markdownTable, summarise } from '../../experiments/lib/report';
import { holm, pairedTTest } from '../../experiments/lib/stats';
import { canonicalJson, differingKeys, fingerprint, ResultStore, SettingsMismatchError, type RunResult } from '../../experiments/lib/store';

const dir = mkdtempSync(join(tmpdir(), 'ecacface-exp-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(row: string, seed: number, val: number, hard: number, settings: Record<string, unknown> = { row }): RunResult {
  return {
    experiment: 't',
    row,
    seed,
    fingerprint: fingerprint(settings),
    settings,
    steps: 10,
    trainSeconds: 1,
    trainImagesPerSec: 100 + seed,
    evalImagesPerSec: 300,
    params: 1234,
    finalLoss: 1,
    sets: [
      { name: 'val', pairs: 40, accuracy: val, std: 0.05, folds: [] },
      { name: 'hard', pairs: 40, accuracy: hard, std: 0.05, folds: [] },
    ],
    load: { start: 1, end: 1, cores: 2 },
    device: 'cpu',
    finishedAt: '',
    runDir: '',
  };
}

describe('experiments/lib/report', () => {
  const results = new Map<string, RunResult[]>([
    ['base', [result('base', 1, 0.8, 0.7), result('base', 2, 0.82, 0.72), result('base', 3, 0.78, 0.7)]],
    // seed 3 missing here: paired on seeds 1 and 2 only
    ['a', [result('a', 2, 0.85, 0.75), result('a', 1, 0.84, 0.74)]],
    ['b', [result('b', 1, 0.79, 0.69), result('b', 2, 0.8, 0.71), result('b', 3, 0.79, 0.69)]],
    ['empty', []],
  ]);
  const rows = ['base', 'a', 'b', 'empty'].map((name) => ({ name, label: name.toUpperCase(), paper: name === 'base' ? { text: 'best', source: 'spec' } : null }));
  const s = summarise('t', 'T', rows, results, 'base', ['a note']);

  it('means and sample stds over seeds, per set and of the per-seed mean over the sets', () => {
    const base = s.rows[0]!;
    expect(base.seeds).toEqual([1, 2, 3]);
    expect(base.sets[0]!.perSeed).toEqual([0.8, 0.82, 0.78]);
    expect(base.sets[0]!.mean).toBeCloseTo(0.8, 15);
    expect(base.sets[0]!.std).toBeCloseTo(0.02, 15);
    expect(base.overall.perSeed).toEqual([0.75, 0.77, 0.74]);
    expect(base.test).toBeNull();
    expect(base.trainImagesPerSec).toBe(102); // the median over seeds
  });

  it('tests each row against the baseline on the seeds both have, with Holm over the rows', () => {
    const a = s.rows[1]!;
    expect(a.seeds).toEqual([1, 2]);
    expect(a.test!.pairedSeeds).toEqual([1, 2]);
    const ref = pairedTTest([0.79, 0.8], [0.75, 0.77]);
    expect(a.test!.p).toBeCloseTo(ref.p!, 14);
    const b = s.rows[2]!;
    const refB = pairedTTest([0.74, 0.755, 0.74], [0.75, 0.77, 0.74]);
    expect(b.test!.meanDiff).toBeCloseTo(refB.meanDiff, 15);
    const adjusted = holm([ref.p, refB.p]);
    expect(a.test!.pHolm).toBeCloseTo(adjusted[0]!, 14);
    expect(b.test!.pHolm).toBeCloseTo(adjusted[1]!, 14);
    expect(s.rows[3]!.seeds).toEqual([]);
    expect(s.rows[3]!.test).toBeNull();
  });

  it('renders a markdown table with a row per definition, the baseline marked and the paper column', () => {
    const md = markdownTable(s);
    const lines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(lines[0]).toMatch(/^\| row \| seeds \| params \| train img\/s \| eval img\/s \| val % \| hard % \| mean % \| Δ vs base/);
    expect(lines).toHaveLength(2 + 4);
    expect(lines[2]).toContain('| BASE | 3 | 1,234 |');
    expect(lines[2]).toContain('| baseline |');
    expect(lines[2]).toMatch(/\| best \|$/);
    expect(lines[2]).toContain('80.0 ± 2.0');
    expect(lines[5]).toMatch(/^\| EMPTY \| 0 \| – \|/);
    expect(md).toContain('- a note');
  });
});

describe('experiments/lib/store', () => {
  it('fingerprints settings independently of key order and names the keys that differ', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe('{"a":{"c":null,"d":[1,2]},"b":1}');
    expect(fingerprint({ a: 1, b: 2 })).toBe(fingerprint({ b: 2, a: 1 }));
    expect(differingKeys({ train: { lr: 0.1, epochs: 4 }, data: 'x' }, { train: { lr: 0.05, epochs: 4, warmup: 3 }, data: 'x' })).toEqual(['train.lr', 'train.warmup']);
  });

  it('reads back a finished result only under the same settings', () => {
    const store = new ResultStore(join(dir, 'exp'));
    const r = result('a', 1, 0.8, 0.7, { train: { lr: 0.05 } });
    store.write(r);
    expect(store.read('a', 1, { train: { lr: 0.05 } })).toEqual(r);
    expect(store.read('a', 2, { train: { lr: 0.05 } })).toBeNull();
    expect(() => store.read('a', 1, { train: { lr: 0.1 } })).toThrow(SettingsMismatchError);
    expect(() => store.read('a', 1, { train: { lr: 0.1 } })).toThrow(/seed-1\.json was computed with other settings \(differing: train\.lr\)/);
    // a setting added by a later version (absent from the file) does not invalidate it; a changed one does
    expect(store.read('a', 1, { train: { lr: 0.05, newKey: true } })).toEqual(r);
    expect(() => store.read('a', 1, { train: { lr: 0.1, newKey: true } })).toThrow(/differing: train\.lr\)/);
    writeFileSync(store.resultPath('a', 3), '{ torn');
    expect(() => store.read('a', 3, {})).toThrow(/seed-3\.json: not a readable result .*delete it to recompute/);
  });
});

describe('epochPlan', () => {
  it('splits a step budget into at least 4 epochs within the data, LR drop on the last quarter', () => {
    expect(epochPlan(300, 125, null)).toEqual({ epochs: 4, stepsPerEpoch: 75, milestones: [3] });
    expect(epochPlan(1000, 125, null)).toEqual({ epochs: 8, stepsPerEpoch: 125, milestones: [6] });
    expect(epochPlan(4, 3, null)).toEqual({ epochs: 4, stepsPerEpoch: 1, milestones: [3] });
    expect(epochPlan(2, 125, null)).toEqual({ epochs: 2, stepsPerEpoch: 1, milestones: [1] });
    expect(epochPlan(1, 125, null)).toEqual({ epochs: 1, stepsPerEpoch: 1, milestones: [] });
    expect(epochPlan(300, 125, [2])).toEqual({ epochs: 4, stepsPerEpoch: 75, milestones: [2] });
    expect(() => epochPlan(10, 0, null)).toThrow(/fewer images than one batch/);
  });
});
