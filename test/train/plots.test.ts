import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { thinRoc, type MetricRecord } from '../../lib/train/metrics.js';
import { lrSeries, plotRun } from '../../lib/train/plots.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The points of an SVG path `d` ("M x y L x y …"). */
function pathPoints(d: string): [number, number][] {
  const nums = d.match(/-?\d+(\.\d+)?/g)!.map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < nums.length; i += 2) out.push([nums[i]!, nums[i + 1]!]);
  return out;
}

const train = (step: number, lr: number): MetricRecord => ({
  type: 'train', step, epoch: 0, loss: 10 - step / 100, lr, t: 0.1, positiveCosine: 0.2, hardFraction: 0.1, imagesPerSec: 1, dataWait: 0, time: '',
});

function run(records: MetricRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'plots-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  return dir;
}

describe('run plots', () => {
  it('draws the LR as a step line from its logged changes: warm-up steps and milestone drops at their step', () => {
    const recs: MetricRecord[] = [];
    for (let s = 1; s <= 4; s++) recs.push({ type: 'lr', step: s, epoch: 0, lr: 0.1 * (s / 4) });
    recs.push({ type: 'lr', step: 61, epoch: 1, lr: 0.01 });
    for (let s = 20; s <= 100; s += 20) recs.push(train(s, s <= 60 ? 0.1 : 0.01));
    const lr = recs.filter((r) => r.type === 'lr') as never[];
    const series = lrSeries(lr, recs.filter((r) => r.type === 'train') as never[]);
    expect(series.step).toBe('end');
    expect(Array.from(series.x)).toEqual([1, 2, 3, 4, 61, 100]);
    expect(Array.from(series.y)).toEqual([0.025, 0.05, 0.07500000000000001, 0.1, 0.01, 0.01]);

    const dir = run(recs);
    plotRun(dir);
    const svg = readFileSync(join(dir, 'plots', 'lr.svg'), 'utf8');
    const d = [...svg.matchAll(/<path d="([^"]+)" fill="none"[^>]*stroke="#1f77b4"/g)].map((m) => m[1]!);
    expect(d).toHaveLength(1);
    const pts = pathPoints(d[0]!);
    // a step line: every segment is horizontal or vertical, and the drop at step 61 is vertical
    for (let i = 1; i < pts.length; i++) expect(pts[i]![0] === pts[i - 1]![0] || pts[i]![1] === pts[i - 1]![1]).toBe(true);
    const verticals = pts.filter((p, i) => i > 0 && p[0] === pts[i - 1]![0] && p[1] !== pts[i - 1]![1]);
    expect(verticals.length).toBe(4); // three warm-up rises and the milestone drop
  });

  it('falls back to the sampled LR of the train records for older runs', () => {
    const s = lrSeries([], [train(10, 0.1) as never, train(20, 0.1) as never, train(30, 0.01) as never]);
    expect(Array.from(s.x)).toEqual([10, 20, 30]);
  });

  it('draws accuracy with a ±std band centred on the line, and a ROC per validation set', () => {
    const roc = (a: number) => ({ fpr: [0, 0.01, 0.1, 0.5, 1], tpr: [0, a / 3, a / 2, a, 1] });
    const recs: MetricRecord[] = [train(10, 0.1), train(20, 0.1)];
    for (const [step, acc, std] of [[0, 0.6, 0.08], [10, 0.7, 0.05], [20, 0.8, 0.02]] as const) {
      recs.push({ type: 'val', step, epoch: 0, name: 'set-a', accuracy: acc, std, roc: roc(acc), time: '' });
      recs.push({ type: 'val', step, epoch: 0, name: 'set b', accuracy: acc - 0.1, std, time: '' });
    }
    const dir = run(recs);
    const files = plotRun(dir).files.map((f) => f.slice(dir.length + 1));
    expect(files).toContain('plots/roc-set-a.png');
    expect(files).not.toContain('plots/roc-set_b.png'); // no ROC stored for that set
    const svg = readFileSync(join(dir, 'plots', 'accuracy.svg'), 'utf8');
    const band = [...svg.matchAll(/<path d="([^"]+)" fill="#1f77b4" fill-opacity="0.18"/g)].map((m) => pathPoints(m[1]!));
    expect(band).toHaveLength(1);
    const line = pathPoints([...svg.matchAll(/<path d="([^"]+)" fill="none"[^>]*stroke="#1f77b4" stroke-width="2"(?! stroke-opacity="0")/g)][0]![1]!);
    expect(line).toHaveLength(3);
    // the band polygon: upper edge left to right, lower edge back; its mid-height is the line
    const poly = band[0]!;
    const upper = poly.slice(0, 3);
    const lower = poly.slice(3, 6).reverse();
    line.forEach(([x, y], i) => {
      expect(upper[i]![0]).toBeCloseTo(x, 3);
      expect(lower[i]![0]).toBeCloseTo(x, 3);
      expect((upper[i]![1] + lower[i]![1]) / 2).toBeCloseTo(y, 1);
    });
    // band heights ∝ std: 0.08 : 0.05 : 0.02
    const h = upper.map((u, i) => lower[i]![1] - u[1]);
    expect(h[0]! / h[2]!).toBeCloseTo(4, 1);
    expect(h[1]! / h[2]!).toBeCloseTo(2.5, 1);
    const rocSvg = readFileSync(join(dir, 'plots', 'roc-set-a.svg'), 'utf8');
    expect(rocSvg).toContain('untrained (step 0, 60.00%)');
    expect(rocSvg).toContain('best (step 20, 80.00%)');
    expect(existsSync(join(dir, 'plots', 'roc-set-a.png'))).toBe(true);
  });

  it('thins a stored ROC: repeats dropped, ends kept, at most the asked points', () => {
    const fpr = [0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 1, 1, 1];
    const tpr = [0, 0, 0, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1];
    expect(thinRoc({ fpr, tpr })).toEqual({ fpr: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 1], tpr: [0, 0.5, 0.6, 0.7, 0.8, 0.9, 1] });
    const t = thinRoc({ fpr, tpr }, 3);
    expect(t).toEqual({ fpr: [0, 0.3, 1], tpr: [0, 0.7, 1] });
  });
});
