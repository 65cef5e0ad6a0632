/**
 * The training loop: batches → backbone → head → loss → backward → SGD, with the LR schedule,
 * logging, validation, checkpoints and export at their intervals, Ctrl-C and NaN handling.
 * `trainStep()` is one step; `TrainRun` (run.ts) the run's setup and services; hooks (hooks.ts)
 * are how other features join the loop. `train()` (train.ts) builds the components from a config;
 * `runTraining()` takes them.
 */
import type { Head, HeadStats } from '../heads/head.js';
import type { Backbone } from '../models/backbone.js';
import type { Device } from '../tensor/device.js';
import { autocast, type AutocastDtype } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainConfig } from './config.js';
import type { GradScaler } from './grad-scaler.js';
import { isLogStep } from './metrics.js';
import { TrainRun, type TrainOptions, type TrainSummary } from './run.js';
import type { SGD } from './sgd.js';
import type { BatchSource, TrainBatch, TrainComponents } from './types.js';

/** Thrown when the loss becomes NaN or infinite; the last good checkpoint is kept. */
export class DivergenceError extends Error {
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly loss: number,
    readonly checkpoint: string | null,
  ) {
    super(
      `training diverged: the loss is ${loss} at step ${step} (epoch ${epoch}, 0-based); stopped.` +
        (checkpoint ? ` The last good checkpoint is kept: ${checkpoint}` : ' No checkpoint had been written yet.'),
    );
    this.name = 'DivergenceError';
  }
}

/** What one step needs besides the batch. */
export interface StepParts {
  backbone: Backbone;
  head: Head;
  optimizer: SGD;
  scaler: GradScaler;
  /** The parameters the optimizer steps (their gradients are unscaled). */
  params: Tensor[];
  device: Device;
  /** CUDA autocast dtype for the backbone's forward; null: full precision. */
  autocast: AutocastDtype | null;
  /** Called before each micro-batch's backward; `last` for the step's last one (arms the all-reduce). */
  beforeBackward?: (last: boolean) => void;
  /** Called after backward, before unscaling and the optimizer step (gradient all-reduce). */
  afterBackward?: () => void;
  /** Micro-batches per step: the batch is split into this many, their gradients accumulated (default 1). */
  accumulate?: number;
}

/** What one step reports. */
export interface StepResult {
  /** The batch's mean loss (NaN/inf: nothing was stepped). */
  loss: number;
  stats: HeadStats;
  /** Images in the batch. */
  images: number;
  /** False when the step was skipped (non-finite loss, or a float16 gradient overflow). */
  stepped: boolean;
}

/**
 * One training step: forward (backbone under autocast when asked, head in float32), backward of
 * the scaled loss, optimizer step through the scaler, gradients cleared. Frees the batch and every
 * temporary. A non-finite loss is returned without backward or step.
 */
export function trainStep(batch: TrainBatch, p: StepParts): StepResult {
  const images = batch.labels.shape[0] ?? 0;
  const k = p.accumulate ?? 1;
  let r: { loss: number; stats: HeadStats };
  try {
    r = scope(() => {
      const x = batch.images.device === p.device ? batch.images : batch.images.to(p.device);
      const y = batch.labels.device === p.device ? batch.labels : batch.labels.to(p.device);
      // Gradient accumulation: micro-batches of batchSize (BatchNorm statistics per micro-batch),
      // each loss weighted 1/k; the step reports the mean loss and the last micro-batch's stats.
      const xs = k > 1 ? x.chunk(k, 0) : [x];
      const ys = k > 1 ? y.chunk(k, 0) : [y];
      let sum = 0;
      let stats: HeadStats = { positiveCosine: NaN };
      for (let i = 0; i < xs.length; i++) {
        const m = scope(() => {
          const forward = (): Tensor => p.backbone.forward(xs[i]!);
          const emb = p.autocast ? autocast(p.autocast, forward) : forward();
          const out = p.head.forward(emb.dtype === 'float32' ? emb : emb.float(), ys[i]!);
          const loss = out.loss.item();
          if (Number.isFinite(loss)) {
            p.beforeBackward?.(i === xs.length - 1);
            p.scaler.scaleLoss(xs.length > 1 ? out.loss.mul(1 / xs.length) : out.loss).backward();
          }
          return { loss, stats: out.stats };
        });
        sum += m.loss;
        stats = m.stats;
        if (!Number.isFinite(m.loss)) return { loss: m.loss, stats };
      }
      return { loss: sum / xs.length, stats };
    });
  } finally {
    batch.images.dispose();
    batch.labels.dispose();
  }
  let stepped = false;
  if (Number.isFinite(r.loss)) {
    p.afterBackward?.();
    stepped = p.scaler.step(p.optimizer, p.params);
  }
  p.optimizer.zeroGrad();
  return { ...r, images, stepped };
}

/** Batches `from`..`to`−1 of an epoch with the time each took to arrive. */
async function* timedBatches(source: BatchSource, epoch: number, from: number, to: number): AsyncGenerator<{ batch: TrainBatch; tWait: number; waitMs: number }> {
  if (from >= to) return;
  const it = source.epoch(epoch, from)[Symbol.asyncIterator]();
  try {
    for (let b = from; b < to; b++) {
      const tWait = performance.now();
      const next = await it.next();
      if (next.done) return;
      yield { batch: next.value, tWait, waitMs: performance.now() - tWait };
    }
  } finally {
    await it.return?.();
  }
}

/** Resolves after one turn of the event loop (signals, timers and I/O callbacks run). */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Runs the training loop on given components. The random generators are not reseeded here: seed
 * them (`manualSeed(config.seed)`) before building the components, as `train()` does, so the
 * initial weights and the run come from one seed; a resumed run restores them from its checkpoint.
 */
export async function runTraining(config: TrainConfig, c: TrainComponents, options: TrainOptions = {}): Promise<TrainSummary> {
  const t0 = Date.now();
  const run = new TrainRun(config, c, options);
  const { state, stop, context: ctx } = run;
  const { backbone, head, optimizer, scaler, params, device, autocast } = run;
  const parts: StepParts = {
    backbone,
    head,
    optimizer,
    scaler,
    params,
    device,
    autocast,
    accumulate: config.gradAccumSteps,
    beforeBackward: (last) => run.hooks.forEach((h) => h.beforeBackward?.(ctx, last)),
    afterBackward: () => run.hooks.forEach((h) => h.afterBackward?.(ctx)),
  };
  const { window } = run;
  let lastLoss = NaN;
  let interrupted = false;
  let timeLimited = false;
  try {
    run.emit({ kind: 'start', runDir: run.runDir, totalSteps: run.totalSteps, startStep: state.step, resumed: run.resumed, numImages: c.source.numImages, numClasses: c.source.numClasses });
    backbone.train(true);
    head.train(true);
    await run.callHooks('onStart');
    if (config.valAtStart && !run.resumed && state.step === 0) await run.validate();
    const tTrain = performance.now();
    // The first step this process runs is its warm-up (see StepSample.warmUp): logged on its own,
    // kept out of the img/s of the first log line.
    const warmUpStep = state.step + 1;
    outer: for (let epoch = state.position.epoch; epoch < config.epochs; epoch++) {
      state.position = { epoch, batch: epoch === state.position.epoch ? state.position.batch : 0 };
      for await (const { batch, tWait, waitMs } of timedBatches(c.source, epoch, state.position.batch, run.batchesPerEpoch)) {
        const lr = run.schedule.lrAt(epoch, state.step);
        optimizer.setLr(lr);
        const r = trainStep(batch, parts);
        if (!Number.isFinite(r.loss)) throw new DivergenceError(state.step + 1, epoch, r.loss, run.lastCheckpoint);
        state.step++;
        state.position = { epoch, batch: state.position.batch + 1 };
        lastLoss = r.loss;
        const { t = NaN, positiveCosine = NaN, hardFraction = NaN } = r.stats;
        // images over all ranks: the progress shows the global img/s
        const totalMs = performance.now() - tWait;
        const warmUp = state.step === warmUpStep;
        window.add({ loss: r.loss, t, positiveCosine, hardFraction, images: r.images * run.worldSize, waitMs, totalMs, warmUp });
        if (warmUp && run.isMain) {
          run.emit({
            kind: 'message',
            text: `warm-up: step ${state.step} took ${(totalMs / 1000).toFixed(1)} s (first use: libtorch creates its kernels, memory is mapped, JavaScript compiles); img/s counts from step ${state.step + 1}`,
          });
        }
        const endOfEpoch = state.position.batch === run.batchesPerEpoch;
        if (isLogStep(state.step, state.position.batch, config.logEvery, run.batchesPerEpoch)) run.log(window.flush(state.step, epoch, lr));
        await run.callHooks('afterStep');
        // Prefetched batches arrive as already-settled promises, so awaiting them never leaves the
        // microtask queue: give the event loop one turn per step, or Ctrl-C (a signal event)
        // would wait for the end of the run.
        await yieldToEventLoop();
        if (stop.requested && !stop.timeLimit) {
          interrupted = true;
          run.checkpoint('interrupt');
          break outer;
        }
        // In a distributed run the ranks agree on the time limit (lib/train/data-parallel-hooks.ts):
        // a rank that stopped here alone would leave the others waiting in a collective.
        const overTime = run.worldSize === 1 && config.maxMinutes > 0 && performance.now() - tTrain > config.maxMinutes * 60_000;
        if (stop.timeLimit || overTime) {
          timeLimited = true;
          run.emit({ kind: 'message', text: `time limit of ${config.maxMinutes} min reached at step ${state.step}: validating and saving` });
          await run.validate();
          run.checkpoint('time limit');
          break outer;
        }
        if (config.valEvery > 0 && state.step % config.valEvery === 0 && !endOfEpoch) await run.validate();
        if (config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0 && !endOfEpoch) run.checkpoint('every');
      }
      state.position = { epoch: epoch + 1, batch: 0 };
      await run.validate();
      run.checkpoint('epoch');
    }
  } catch (err) {
    run.runLog.write(`stopped by an error: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  } finally {
    stop.dispose();
    run.close();
  }
  return run.finish({ t0, interrupted, timeLimited, finalLoss: lastLoss });
}
