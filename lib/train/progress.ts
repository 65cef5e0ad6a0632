/**
 * Live progress of a run: a cli-progress bar on a terminal, plain log lines otherwise. Each
 * update shows loss, LR, CurricularFace's t, positive cosine, hard-negative fraction, images/s
 * and the share of time spent waiting for data.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from './trainer.js';

function f(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function pct(v: number, digits: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : '–';
}

function stepLine(e: Extract<ProgressEvent, { kind: 'step' }>): string {
  return (
    `loss ${f(e.loss, 4)}  lr ${e.lr.toPrecision(3)}  t ${f(e.t, 4)}  cos+ ${f(e.positiveCosine, 3)}  ` +
    `hard ${pct(e.hardFraction, 2)}  ${f(e.imagesPerSec, 1)} img/s  data-wait ${pct(e.dataWait, 1)}`
  );
}

/** Formats validation results as `name 97.83±0.71`. */
export function formatValidation(results: { name: string; accuracy: number; std: number }[]): string {
  return results.map((r) => `${r.name} ${(r.accuracy * 100).toFixed(2)}±${(r.std * 100).toFixed(2)}`).join('  ');
}

/** A progress reporter: pass `reporter.onProgress` to `train()`, call `stop()` at the end. */
export interface ProgressReporter {
  onProgress(e: ProgressEvent): void;
  stop(): void;
}

/**
 * The default reporter: a bar when `stream` is a TTY (unless `plain`), else one line per event.
 */
export function progressReporter(options: { stream?: NodeJS.WriteStream; plain?: boolean } = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = !options.plain && stream.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  const log = (s: string) => {
    if (bar) bar.stop();
    stream.write(s + '\n');
    if (bar && lastStart) {
      bar = newBar();
      bar.start(lastStart.total, lastStart.value, lastStart.payload);
    }
  };
  let lastStart: { total: number; value: number; payload: Record<string, string> } | null = null;
  const newBar = () =>
    new cliProgress.SingleBar(
      { format: 'epoch {epoch} [{bar}] {value}/{total} steps | {stats}', stream, hideCursor: true, clearOnComplete: false, barsize: 24 },
      cliProgress.Presets.shades_classic,
    );
  return {
    onProgress(e) {
      switch (e.kind) {
        case 'start':
          log(`${e.resumed ? 'resuming' : 'training'} in ${e.runDir}: ${e.numImages} images, ${e.numClasses} identities, steps ${e.startStep}/${e.totalSteps}`);
          if (tty) {
            bar = newBar();
            lastStart = { total: e.totalSteps, value: e.startStep, payload: { epoch: '-', stats: '' } };
            bar.start(e.totalSteps, e.startStep, lastStart.payload);
          }
          break;
        case 'step': {
          const payload = { epoch: `${e.epoch + 1}/${e.epochs}`, stats: stepLine(e) };
          if (bar && lastStart) {
            lastStart = { total: e.totalSteps, value: e.step, payload };
            bar.update(e.step, payload);
          } else stream.write(`step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1}/${e.epochs}  ${payload.stats}\n`);
          break;
        }
        case 'validation':
          log(`validation at step ${e.step}: ${formatValidation(e.results)}`);
          break;
        case 'checkpoint':
          if (e.reason !== 'every' && e.reason !== 'epoch') log(`checkpoint (${e.reason}) at step ${e.step}: ${e.path}`);
          break;
        case 'message':
          log(e.text);
          break;
      }
    },
    stop() {
      bar?.stop();
      bar = null;
      lastStart = null;
    },
  };
}
