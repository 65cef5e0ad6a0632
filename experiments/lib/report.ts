/**
 * An experiment's table: per row the mean ± std over seeds of each verification set and of their
 * mean, the training and evaluation throughput, the parameter count, the paired t-test against the
 * baseline row (with Holm's adjustment over the rows) and the paper's published value where the
 * spec gives one. Rendered as markdown and as JSON.
 */
import { holm, meanStd, pairedTTest, type PairedTest } from './stats';
import type { RunResult } from './store';

/** A published number as the paper prints it, with where it comes from. */
export interface PaperValue {
  text: string;
  source: string;
}

/** One row of an experiment's definition. */
export interface RowSummary {
  name: string;
  label: string;
  seeds: number[];
  params: number | null;
  trainImagesPerSec: number | null;
  evalImagesPerSec: number | null;
  /** Per verification set: mean and sample std (ddof 1) over seeds of the 10-fold accuracy, and the per-seed values. */
  sets: { name: string; pairs: number; mean: number; std: number; perSeed: number[] }[];
  /** The mean accuracy over the sets, per seed, and its mean and std over seeds: what the test compares. */
  overall: { mean: number; std: number; perSeed: number[] };
  /** Paired t-test of this row's per-seed mean accuracy against the baseline's (null for the baseline itself). */
  test: (PairedTest & { pHolm: number | null; pairedSeeds: number[] }) | null;
  paper: PaperValue | null;
}

export interface ExperimentSummary {
  experiment: string;
  title: string;
  baseline: string | null;
  test: string;
  rows: RowSummary[];
  notes: string[];
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The per-seed mean accuracy over the verification sets. */
const overallOf = (r: RunResult): number => r.sets.reduce((a, s) => a + s.accuracy, 0) / r.sets.length;

export const TEST_DESCRIPTION =
  'two-sided paired t-test over seeds on the mean accuracy over the sets (same seeds, data order and schedule in every row; ' +
  'the 10 folds of one run share its training and are averaged, not counted as replicates; docs/decisions/experiments.md)';

/**
 * Summarises the finished runs of each row (rows without any result are listed with empty values)
 * and tests every row against `baseline` (null: no tests).
 */
export function summarise(
  experiment: string,
  title: string,
  rows: { name: string; label: string; paper: PaperValue | null }[],
  results: Map<string, RunResult[]>,
  baseline: string | null,
  notes: string[],
): ExperimentSummary {
  const base = baseline ? (results.get(baseline) ?? []) : [];
  const summaries: RowSummary[] = rows.map((row) => {
    const rs = [...(results.get(row.name) ?? [])].sort((a, b) => a.seed - b.seed);
    const setNames = rs[0]?.sets.map((s) => s.name) ?? [];
    const sets = setNames.map((name) => {
      const perSeed = rs.map((r) => r.sets.find((s) => s.name === name)?.accuracy ?? NaN);
      return { name, pairs: rs[0]!.sets.find((s) => s.name === name)!.pairs, ...meanStd(perSeed), perSeed };
    });
    const perSeed = rs.map(overallOf);
    let test: RowSummary['test'] = null;
    if (baseline && row.name !== baseline && rs.length) {
      const paired = rs.filter((r) => base.some((b) => b.seed === r.seed));
      const a = paired.map(overallOf);
      const b = paired.map((r) => overallOf(base.find((x) => x.seed === r.seed)!));
      test = { ...pairedTTest(a, b), pHolm: null, pairedSeeds: paired.map((r) => r.seed) };
    }
    return {
      name: row.name,
      label: row.label,
      seeds: rs.map((r) => r.seed),
      params: rs[0]?.params ?? null,
      trainImagesPerSec: median(rs.map((r) => r.trainImagesPerSec)),
      evalImagesPerSec: median(rs.map((r) => r.evalImagesPerSec)),
      sets,
      overall: { ...meanStd(perSeed), perSeed },
      test,
      paper: row.paper,
    };
  });
  const adjusted = holm(summaries.map((s) => s.test?.p ?? null));
  summaries.forEach((s, i) => {
    if (s.test) s.test.pHolm = adjusted[i]!;
  });
  return { experiment, title, baseline, test: TEST_DESCRIPTION, rows: summaries, notes };
}

const pct = (x: number, d = 1) => (Number.isFinite(x) ? (x * 100).toFixed(d) : '–');
const pm = (m: number, s: number, n: number) => (n === 0 ? '–' : n === 1 ? pct(m) : `${pct(m)} ± ${pct(s)}`);
const pv = (p: number | null | undefined) => (p === null || p === undefined ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));
const int = (x: number | null) => (x === null ? '–' : x.toLocaleString('en-US'));
const rate = (x: number | null) => (x === null ? '–' : x.toFixed(0));

/** The markdown table with its legend. */
export function markdownTable(s: ExperimentSummary): string {
  const setNames = s.rows.find((r) => r.sets.length)?.sets.map((x) => x.name) ?? [];
  const head = ['row', 'seeds', 'params', 'train img/s', 'eval img/s', ...setNames.map((n) => `${n} %`), 'mean %', `Δ vs ${s.baseline ?? '–'} (95% CI), pp`, 'p', 'p (Holm)', 'paper'];
  const lines = s.rows.map((r) => {
    const n = r.seeds.length;
    const t = r.test;
    const delta =
      r.name === s.baseline
        ? 'baseline'
        : t
          ? `${t.meanDiff >= 0 ? '+' : ''}${pct(t.meanDiff, 2)}${t.ci95 ? ` (${pct(t.ci95[0], 2)}, ${pct(t.ci95[1], 2)})` : ''}`
          : '–';
    return [
      r.label,
      String(n),
      int(r.params),
      rate(r.trainImagesPerSec),
      rate(r.evalImagesPerSec),
      ...setNames.map((name) => {
        const x = r.sets.find((y) => y.name === name);
        return x ? pm(x.mean, x.std, n) : '–';
      }),
      pm(r.overall.mean, r.overall.std, n),
      delta,
      pv(t?.p),
      pv(t?.pHolm),
      r.paper ? r.paper.text : '—',
    ];
  });
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [
    `### ${s.title}`,
    '',
    row(head),
    row(align),
    ...lines.map(row),
    '',
    `Accuracy: 10-fold verification accuracy in %, mean ± sample std over seeds; "mean %" averages the sets per seed. ` +
      `Test: ${s.test}. img/s: median over seeds (training: over logged windows after the first).`,
    '',
    ...s.notes.map((n) => `- ${n}`),
  ].join('\n');
}
