/**
 * Pictures of a run (PNG and SVG): loss, verification accuracy with its ±std band over the folds,
 * CurricularFace's t, the hard-negative fraction, the positive cosine, the LR as a step line (every
 * change the trainer logged: warm-up ramp, milestone drops) and a ROC curve per validation set (first,
 * best and last validation) — the curves of the paper's figures 5–8.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type LineSeries } from '../plot/charts.js';
import { readMetrics, type LrRecord, type TrainRecord, type ValRecord } from './metrics.js';

/** Files written by {@link plotRun}. */
export interface RunPlots {
  dir: string;
  files: string[];
}

interface Chart {
  file: string;
  title: string;
  xLabel?: string;
  yLabel: string;
  series: LineSeries[];
  yMin?: number;
  yMax?: number;
  logX?: boolean;
}

/** The LR as a step line: each logged change holds until the next; the last value runs to `lastStep`. */
export function lrSeries(lr: readonly LrRecord[], train: readonly TrainRecord[]): LineSeries {
  const lastStep = Math.max(0, ...train.map((r) => r.step), ...lr.map((r) => r.step));
  // a resumed run logs its LR again from the resumed step: keep the last word for each step
  const byStep = new Map<number, number>();
  const src = lr.length ? lr.map((r) => [r.step, r.lr] as const) : train.map((r) => [r.step, r.lr] as const);
  for (const [s, v] of src) if (Number.isFinite(v)) byStep.set(s, v);
  const pts = [...byStep].sort((a, b) => a[0] - b[0]);
  if (pts.length && pts[pts.length - 1]![0] < lastStep) pts.push([lastStep, pts[pts.length - 1]![1]]);
  return { name: 'lr', x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), step: 'end' };
}

/** Renders the run's curves from `runDir/metrics.jsonl` into `runDir/plots/`. */
export function plotRun(runDir: string): RunPlots {
  const recs = readMetrics(join(runDir, 'metrics.jsonl'));
  const train = recs.filter((r): r is TrainRecord => r.type === 'train');
  const val = recs.filter((r): r is ValRecord => r.type === 'val');
  const lr = recs.filter((r): r is LrRecord => r.type === 'lr');
  if (train.length === 0) throw new Error(`${join(runDir, 'metrics.jsonl')}: no training records to plot`);
  const dir = join(runDir, 'plots');
  mkdirSync(dir, { recursive: true });
  const line = (name: string, pick: (r: TrainRecord) => number): LineSeries => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const r of train) {
      const v = pick(r);
      if (Number.isFinite(v)) {
        xs.push(r.step);
        ys.push(v);
      }
    }
    return { name, x: xs, y: ys };
  };
  const charts: Chart[] = [
    { file: 'loss', title: 'Training loss', yLabel: 'loss', series: [line('loss', (r) => r.loss)] },
    { file: 't', title: "CurricularFace's t", yLabel: 't', series: [line('t', (r) => r.t)] },
    { file: 'hard-negatives', title: 'Hard-negative fraction', yLabel: 'fraction of negatives', series: [line('hard negatives', (r) => r.hardFraction)], yMin: 0 },
    { file: 'positive-cosine', title: 'Mean positive cosine', yLabel: 'cos θ_y', series: [line('cos θ_y', (r) => r.positiveCosine)] },
    { file: 'lr', title: 'Learning rate', yLabel: 'lr', series: [lrSeries(lr, train)], yMin: 0 },
  ];
  const names = [...new Set(val.map((v) => v.name))];
  if (names.length) {
    charts.push({
      file: 'accuracy',
      title: 'Verification accuracy (10-fold, band: ± std over the folds)',
      yLabel: 'accuracy (%)',
      series: names.map((n) => {
        const vs = val.filter((v) => v.name === n);
        return {
          name: n,
          x: vs.map((v) => v.step),
          y: vs.map((v) => v.accuracy * 100),
          band: { lower: vs.map((v) => (v.accuracy - v.std) * 100), upper: vs.map((v) => (v.accuracy + v.std) * 100) },
        };
      }),
    });
  }
  for (const n of names) {
    const withRoc = val.filter((v) => v.name === n && v.roc && v.roc.fpr.length > 1);
    if (!withRoc.length) continue;
    const best = withRoc.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const picks = new Map<ValRecord, string>();
    const label = (v: ValRecord, what: string) => `${what} (step ${v.step}, ${(v.accuracy * 100).toFixed(2)}%)`;
    picks.set(withRoc[0]!, label(withRoc[0]!, withRoc[0]!.step === 0 ? 'untrained' : 'first'));
    if (!picks.has(best)) picks.set(best, label(best, 'best'));
    const last = withRoc[withRoc.length - 1]!;
    if (!picks.has(last)) picks.set(last, label(last, 'last'));
    charts.push({
      file: `roc-${n.replace(/[^A-Za-z0-9._-]/g, '_')}`,
      title: `ROC on ${n} (10-fold mean, flip TTA)`,
      xLabel: 'false positive rate',
      yLabel: 'true positive rate',
      series: [...picks].map(([v, name]) => ({ name, x: v.roc!.fpr, y: v.roc!.tpr })),
      logX: true,
      yMin: 0,
      yMax: 1,
    });
  }
  const files: string[] = [];
  for (const c of charts) {
    if (c.series.every((s) => s.x.length === 0)) continue;
    const r = lineChart({
      title: c.title,
      xLabel: c.xLabel ?? 'step',
      yLabel: c.yLabel,
      series: c.series,
      ...(c.logX ? { logX: true } : {}),
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
