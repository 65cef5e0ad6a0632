/**
 * One row × seed of an experiment: `train()` (continuing its checkpoint when an earlier attempt was
 * interrupted), then `evaluate()` of the run's last model on the verification sets, reduced to a
 * {@link RunResult}.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { evaluate, loadModel, readMetrics, train, validateConfig, type ProgressEvent, type TrainConfigInput, type TrainRecord } from 'ecacface-torch';
import { fingerprint, type ResultStore, type RunResult } from './store';

/** Thrown when Ctrl-C stopped a run: its checkpoint is kept and a rerun continues it. */
export class Interrupted extends Error {}

/** What {@link runOne} needs besides the configuration. */
export interface RunTask {
  experiment: string;
  row: string;
  seed: number;
  config: TrainConfigInput;
  settings: Record<string, unknown>;
  bins: string[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Trains and evaluates one row × seed; `log` gets a progress line about every tenth of the steps. */
export async function runOne(t: RunTask, store: ResultStore, log: ((line: string) => void) | null): Promise<RunResult> {
  const runDir = store.runDir(t.row, t.seed);
  // an interrupted run continues from its last checkpoint; anything else in its folder is replaced
  const resume = existsSync(join(runDir, 'checkpoint.safetensors'));
  const load0 = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  let lastPrinted = 0;
  const onProgress = (e: ProgressEvent) => {
    if (!log || e.kind !== 'step') return;
    if (e.step - lastPrinted >= Math.max(1, Math.round(e.totalSteps / 10)) || e.step === e.totalSteps) {
      lastPrinted = e.step;
      log(`    ${t.row} seed ${t.seed}: step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(3)}  lr ${e.lr.toPrecision(3)}  ${e.imagesPerSec.toFixed(1)} img/s`);
    }
  };
  if (resume) log?.(`    ${t.row} seed ${t.seed}: continuing the interrupted run from its checkpoint`);
  const r = await train(t.config, { onProgress, ...(resume ? { resume: true } : { overwrite: true }) });
  if (r.interrupted) throw new Interrupted(`${t.row} seed ${t.seed}: interrupted at step ${r.steps}; its checkpoint is kept (rerun the same command to continue)`);
  const load1 = loadavg()[0]!;
  const cpu1 = process.cpuUsage();
  const records = readMetrics(r.metricsPath).filter((m): m is TrainRecord => m.type === 'train');
  // the first window holds the first iterations' warm-up cost
  const rates = records.slice(records.length > 1 ? 1 : 0).map((m) => m.imagesPerSec).filter(Number.isFinite);
  const c = validateConfig(t.config, { checkFiles: false });
  const model = loadModel(r.last.modelDir, { device: c.device as 'cpu' });
  try {
    const params = model.backbone.parameters().reduce((a, p) => a + p.numel, 0);
    const evaluated = await evaluate(model, t.bins, { batchSize: 64, threads: Math.max(1, c.data.workers) });
    const images = evaluated.reduce((a, s) => a + 4 * s.pairs, 0); // two images a pair, each also mirrored
    const seconds = evaluated.reduce((a, s) => a + s.seconds, 0);
    const cpu2 = process.cpuUsage();
    const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1e6;
    return {
      experiment: t.experiment,
      row: t.row,
      seed: t.seed,
      fingerprint: fingerprint(t.settings),
      settings: t.settings,
      steps: r.steps,
      trainSeconds: r.seconds,
      trainImagesPerSec: median(rates),
      evalImagesPerSec: images / seconds,
      params,
      finalLoss: r.finalLoss,
      sets: evaluated.map((s) => ({ name: s.name, pairs: s.pairs, accuracy: s.result.accuracy, std: s.result.std, folds: s.result.folds })),
      cpuSeconds: { train: cpu(cpu0, cpu1), eval: cpu(cpu1, cpu2) },
      load: { start: load0, end: load1, cores: cpus().length },
      device: c.device,
      finishedAt: new Date().toISOString(),
      runDir: relative(store.dir, r.runDir),
    };
  } finally {
    model.dispose();
  }
}
