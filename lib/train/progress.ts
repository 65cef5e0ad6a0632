/**
 * Live progress of a run: a cli-progress bar on a terminal, plain log lines otherwise (and always
 * in `training.log`, lib/train/run-log.ts). Each step line shows loss, LR, CurricularFace's t,
 * positive cosine, hard-negative fraction, images/s, the share of time spent waiting for data,
 * the time since the start of this session and the estimated time to the end, and with ESCA gate
 * statistics a short summary (`gates: 2/30 saturated`). A warning line comes once when a gate
 * first saturates and once when every block has (the collapse of docs/training.md, "The demo");
 * the per-block line of every logging step is for `training.log` (and TensorBoard) only.
 */
import cliProgress from 'cli-progress';
import { formatGateStats, gatesCollapsed, gateSummary, saturatedGates, type BlockGateStats } from './gate-stats.js';
import type { ProgressEvent } from './types.js';

type StepEvent = Extract<ProgressEvent, { kind: 'step' }>;

function f(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function pct(v: number, digits: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : '–';
}

/** `m:ss` or `h:mm:ss` (`–` when not finite). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Elapsed time and ETA of a counted job: the rate is measured over this session (from `start`, or the first report),
 * so a resumed run's ETA does not count the steps done before.
 */
export class EtaClock {
  private t0 = 0;
  private done0 = 0;
  private started = false;
  constructor(private readonly now: () => number = () => performance.now() / 1000) {}

  /** Starts (or restarts) the clock at `done` units done. */
  start(done = 0): void {
    this.t0 = this.now();
    this.done0 = done;
    this.started = true;
  }

  /** Seconds since `start` and the estimated seconds left to `total` (NaN before any progress). */
  at(done: number, total: number): { elapsed: number; eta: number } {
    if (!this.started) this.start(done); // never started: measure from the first report
    const elapsed = this.now() - this.t0;
    const rate = (done - this.done0) / elapsed;
    return { elapsed, eta: rate > 0 && Number.isFinite(rate) ? Math.max(0, total - done) / rate : NaN };
  }
}

function stepStats(e: StepEvent): string {
  return (
    `loss ${f(e.loss, 4)}  lr ${e.lr.toPrecision(3)}  t ${f(e.t, 4)}  cos+ ${f(e.positiveCosine, 3)}  ` +
    `hard ${pct(e.hardFraction, 2)}  ${f(e.imagesPerSec, 1)} img/s  data-wait ${pct(e.dataWait, 1)}` +
    (e.gates?.length ? `  ${gateSummary(e.gates)}` : '')
  );
}

/**
 * The gate warnings of a run, each given once: when a gate first saturates, and when every block
 * has a saturated gate (the network has collapsed).
 */
class GateWatch {
  #saturated = false;
  #collapsed = false;

  warnings(step: number, stats: readonly BlockGateStats[]): string[] {
    const out: string[] = [];
    const sat = saturatedGates(stats);
    if (sat.length && !this.#saturated) {
      this.#saturated = true;
      const shown = sat.slice(0, 3).join(', ') + (sat.length > 3 ? ` and ${sat.length - 3} more` : '');
      out.push(`warning: ESCA gates saturated at step ${step}: ${shown} (per-block statistics: training.log, TensorBoard)`);
    }
    if (gatesCollapsed(stats) && !this.#collapsed) {
      this.#collapsed = true;
      out.push(
        `warning: every ESCA block has a saturated gate at step ${step}: the network has likely collapsed (every face gets the same ` +
          'embedding); a lower learning rate or a warm-up avoids it (docs/training.md, "The demo")',
      );
    }
    return out;
  }
}

/** Formats validation results as `name 97.83±0.71`. */
export function formatValidation(results: { name: string; accuracy: number; std: number }[]): string {
  return results.map((r) => `${r.name} ${(r.accuracy * 100).toFixed(2)}±${(r.std * 100).toFixed(2)}`).join('  ');
}

/**
 * Turns progress events into plain text lines for the console (off a terminal) and `training.log`.
 * Keeps the clock for elapsed time and ETA, and the gate warnings given. With `gateDetail` (the
 * log) every logging step also gets the per-block gate line.
 */
export class ProgressFormatter {
  readonly clock: EtaClock;
  readonly #gates = new GateWatch();
  readonly #gateDetail: boolean;
  constructor(options: { now?: () => number; gateDetail?: boolean } = {}) {
    this.clock = new EtaClock(options.now);
    this.#gateDetail = options.gateDetail ?? false;
  }

  /** `0:32 elapsed, ETA 6:13` for a step. */
  timing(step: number, totalSteps: number): string {
    const { elapsed, eta } = this.clock.at(step, totalSteps);
    return `${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}`;
  }

  /** After a step line: the per-block gate line (with `gateDetail`) and the warnings due. */
  gateLines(s: StepEvent): string[] {
    if (!s.gates?.length) return [];
    return [...(this.#gateDetail ? [formatGateStats(s.gates)] : []), ...this.#gates.warnings(s.step, s.gates)];
  }

  /** The lines of one event (none for routine checkpoints). */
  lines(e: ProgressEvent): string[] {
    switch (e.kind) {
      case 'start':
        this.clock.start(e.startStep);
        return [`${e.resumed ? 'resuming' : 'training'} in ${e.runDir}: ${e.numImages} images, ${e.numClasses} identities, steps ${e.startStep}/${e.totalSteps}`];
      case 'step': {
        const s = e;
        return [`step ${s.step}/${s.totalSteps} epoch ${s.epoch + 1}/${s.epochs}  ${stepStats(s)}  [${this.timing(s.step, s.totalSteps)}]`, ...this.gateLines(s)];
      }
      case 'validation':
        return [`validation at step ${e.step}: ${formatValidation(e.results)}`];
      case 'checkpoint':
        return e.reason !== 'every' && e.reason !== 'epoch' ? [`checkpoint (${e.reason}) at step ${e.step}: ${e.path}`] : [];
      case 'message':
        return [e.text];
    }
  }
}

/** A progress reporter: pass `reporter.onProgress` to `train()`, call `stop()` at the end. */
export interface ProgressReporter {
  onProgress(e: ProgressEvent): void;
  stop(): void;
}

/**
 * The default reporter: a bar with elapsed time and ETA when `stream` is a TTY (unless `plain`),
 * else one plain line per event; gate warnings are printed above the bar.
 */
export function progressReporter(options: { stream?: NodeJS.WriteStream; plain?: boolean; now?: () => number } = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = !options.plain && stream.isTTY === true;
  const fmt = new ProgressFormatter(options.now ? { now: options.now } : {});
  let bar: cliProgress.SingleBar | null = null;
  let lastStart: { total: number; value: number; payload: Record<string, string> } | null = null;
  // The live bar is erased when a line is printed above it (`clear`); the last one stays on screen.
  const newBar = (clear = true) =>
    new cliProgress.SingleBar(
      { format: 'epoch {epoch} [{bar}] {value}/{total} steps | {timing} | {stats}', stream, hideCursor: true, clearOnComplete: clear, barsize: 24 },
      cliProgress.Presets.shades_classic,
    );
  const log = (s: string) => {
    if (bar) bar.stop();
    stream.write(s + '\n');
    if (bar && lastStart) {
      bar = newBar();
      bar.start(lastStart.total, lastStart.value, lastStart.payload);
    }
  };
  return {
    onProgress(e) {
      if (!tty) {
        for (const l of fmt.lines(e)) stream.write(l + '\n');
        return;
      }
      if (e.kind === 'step') {
        const s = e;
        const payload = { epoch: `${s.epoch + 1}/${s.epochs}`, stats: stepStats(s), timing: fmt.timing(s.step, s.totalSteps) };
        lastStart = { total: s.totalSteps, value: s.step, payload };
        bar?.update(s.step, payload);
        for (const l of fmt.gateLines(s)) log(l);
        return;
      }
      for (const l of fmt.lines(e)) log(l);
      if (e.kind === 'start') {
        bar = newBar();
        lastStart = { total: e.totalSteps, value: e.startStep, payload: { epoch: '-', stats: '', timing: '' } };
        bar.start(e.totalSteps, e.startStep, lastStart.payload);
      }
    },
    stop() {
      bar?.stop();
      if (bar && lastStart) {
        const last = newBar(false);
        last.start(lastStart.total, lastStart.value, lastStart.payload);
        last.stop();
      }
      bar = null;
      lastStart = null;
    },
  };
}
