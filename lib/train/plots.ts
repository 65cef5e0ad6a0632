/**
 * Pictures of a run (PNG and SVG): loss, verification accuracy, CurricularFace's t, the
 * hard-negative fraction and the LR against steps — the curves of the paper's figures 5–8.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type LineSeries } from '../plot/charts.js';
import { readMetrics, type TrainRecord, type ValRecord } from './metrics.js';

/** Files written by {@link plotRun}. */
export interface RunPlots {
  dir: string;
  files: string[];
}

/** Renders the run's curves from `runDir/metrics.jsonl` into `runDir/plots/`. */
export function plotRun(runDir: string): RunPlots {
  const recs = readMetrics(join(runDir, 'metrics.jsonl'));
  const train = recs.filter((r): r is TrainRecord => r.type === 'train');
  const val = recs.filter((r): r is ValRecord => r.type === 'val');
  if (train.length === 0) throw new Error(`${join(runDir, 'metrics.jsonl')}: no training records to plot`);
  const dir = join(runDir, 'plots');
  mkdirSync(dir, { recursive: true });
  const steps = train.map((r) => r.step);
  const line = (name: string, pick: (r: TrainRecord) => number): LineSeries => {
    const xs: number[] = [];
    const ys: number[] = [];
    train.forEach((r, i) => {
      const v = pick(r);
      if (Number.isFinite(v)) {
        xs.push(steps[i]!);
        ys.push(v);
      }
    });
    return { name, x: xs, y: ys };
  };
  const charts: { file: string; title: string; yLabel: string; series: LineSeries[]; yMin?: number; yMax?: number }[] = [
    { file: 'loss', title: 'Training loss', yLabel: 'loss', series: [line('loss', (r) => r.loss)] },
    { file: 't', title: "CurricularFace's t", yLabel: 't', series: [line('t', (r) => r.t)] },
    { file: 'hard-negatives', title: 'Hard-negative fraction', yLabel: 'fraction of negatives', series: [line('hard negatives', (r) => r.hardFraction)], yMin: 0 },
    { file: 'positive-cosine', title: 'Mean positive cosine', yLabel: 'cos θ_y', series: [line('cos θ_y', (r) => r.positiveCosine)] },
    { file: 'lr', title: 'Learning rate', yLabel: 'lr', series: [line('lr', (r) => r.lr)], yMin: 0 },
  ];
  const names = [...new Set(val.map((v) => v.name))];
  if (names.length) {
    charts.push({
      file: 'accuracy',
      title: 'Verification accuracy (10-fold)',
      yLabel: 'accuracy (%)',
      series: names.map((n) => {
        const vs = val.filter((v) => v.name === n);
        return { name: n, x: vs.map((v) => v.step), y: vs.map((v) => v.accuracy * 100) };
      }),
    });
  }
  const files: string[] = [];
  for (const c of charts) {
    if (c.series.every((s) => s.x.length === 0)) continue;
    const r = lineChart({
      title: c.title,
      xLabel: 'step',
      yLabel: c.yLabel,
      series: c.series,
      ...(c.yMin !== undefined ? { yMin: c.yMin } : {}),
      ...(c.yMax !== undefined ? { yMax: c.yMax } : {}),
    });
    const svg = join(dir, `${c.file}.svg`);
    const png = join(dir, `${c.file}.png`);
    writeFileSync(svg, r.svg);
    writeFileSync(png, r.png);
    files.push(png, svg);
  }
  return { dir, files };
}
