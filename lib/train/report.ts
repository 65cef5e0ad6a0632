/** `report.md` of a run: what was trained, the verification table, and where the files are. */
import { writeFileSync } from 'node:fs';
import { namingFile } from '../io/write-error.js';
import { join, relative } from 'node:path';
import { readMetrics, type ValRecord } from './metrics.js';
import type { TrainConfig } from './config.js';
import type { TrainSummary } from './run.js';

/** The verification table (markdown): one row per set, first and last validation, and the best. */
export function verificationTable(runDir: string): { markdown: string; rows: { name: string; pairs: number | undefined; start?: ValRecord; last: ValRecord; best: ValRecord }[] } {
  const val = readMetrics(join(runDir, 'metrics.jsonl')).filter((r): r is ValRecord => r.type === 'val');
  const names = [...new Set(val.map((v) => v.name))];
  const rows = names.map((name) => {
    const vs = val.filter((v) => v.name === name);
    const best = vs.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const start = vs[0]!.step === 0 ? vs[0] : undefined;
    return { name, pairs: undefined as number | undefined, ...(start ? { start } : {}), last: vs[vs.length - 1]!, best };
  });
  const pct = (r: ValRecord | undefined) => (r ? `${(r.accuracy * 100).toFixed(2)} ± ${(r.std * 100).toFixed(2)}` : '–');
  const lines = [
    '| set | untrained (step 0) | last | best (step) | chance |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${pct(r.start)} | ${pct(r.last)} (step ${r.last.step}) | ${pct(r.best)} (${r.best.step}) | 50.00 |`),
  ];
  return { markdown: lines.join('\n'), rows };
}

/** The LR schedule in words: `lr 0.1 ÷10 at epochs 28/38/46` (×gamma when 1/gamma is not whole). */
export function lrText(config: Pick<TrainConfig, 'lr' | 'gamma' | 'milestones'>): string {
  if (!config.milestones.length || config.gamma === 1) return `lr ${config.lr} constant`;
  const inverse = 1 / config.gamma;
  const whole = Math.round(inverse);
  const step = Math.abs(inverse - whole) < 1e-9 * inverse ? `÷${whole}` : `×${config.gamma}`;
  return `lr ${config.lr} ${step} at epochs ${config.milestones.join('/')}`;
}

/** Writes `runDir/report.md` and returns its path. */
export function writeReport(summary: TrainSummary & { plots?: string[] }, config: TrainConfig, extra: string[] = []): string {
  const dir = summary.runDir;
  const rel = (p: string) => relative(dir, p) || '.';
  const pngs = (summary.plots ?? []).filter((p) => p.endsWith('.png'));
  const md = [
    `# Training run ${dir}`,
    '',
    `${config.backbone} + ${config.attention} attention, ${config.head.type} head; ${summary.steps} steps (${summary.epochs} epochs of ${config.epochs}), ` +
      `batch ${config.batchSize}, ${lrText(config)}, ${config.imageSize}px, ${config.device} ${config.precision}, ${summary.seconds.toFixed(0)} s.`,
    ...(summary.interrupted ? ['', `Stopped by Ctrl-C at step ${summary.steps} (checkpoint saved; \`ecacface train --resume ${dir}\` continues).`] : []),
    ...(summary.timeLimited ? ['', `Stopped at the time limit (maxMinutes ${config.maxMinutes}) at step ${summary.steps}.`] : []),
    '',
    ...extra,
    '## Verification (10-fold accuracy, %, flip TTA)',
    '',
    verificationTable(dir).markdown,
    '',
    '## Files',
    '',
    `- metrics: \`${rel(summary.metricsPath)}\``,
    '- log: `training.log`',
    '- TensorBoard: `tensorboard/` (`tensorboard --logdir <runs folder>` shows runs side by side)',
    `- checkpoint: \`${rel(summary.last.checkpoint)}\``,
    `- last model: \`${rel(summary.last.modelDir)}\``,
    ...(summary.best ? [`- best model: \`${rel(summary.best.modelDir)}\``] : []),
    '',
    ...(pngs.length ? ['## Curves', '', ...pngs.map((p) => `![${rel(p)}](${rel(p)})`), ''] : []),
  ].join('\n');
  const path = join(dir, 'report.md');
  namingFile(path, 'writing', () => writeFileSync(path, md));
  return path;
}
