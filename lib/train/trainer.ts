/**
 * The training loop: batches → backbone → head → loss → backward → SGD, with the LR schedule per
 * epoch, per-step disposal of every temporary (memory stays flat), metrics, validation, best/last
 * models, atomic checkpoints, exact resume on CPU, Ctrl-C and NaN handling, and mixed precision on
 * CUDA. `train()` (train.ts) builds the components from a config; `runTraining()` takes them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { native } from '../native.js';
import { dtypeCode } from '../tensor/dtype.js';
import { getRngState, manualSeed, noGrad, setNumThreads, setRngState } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadTensors, saveTensors } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { MetricsWriter, type TrainRecord, type ValRecord } from './metrics.js';
import { MultiStepSchedule } from './schedule.js';
import { SGD } from './sgd.js';
import type { BackboneLike, BatchSource, HeadLike, HeadStats, SourcePosition, ValidationResult, Validator } from './types.js';

/** Everything the loop trains and reads. */
export interface TrainComponents {
  backbone: BackboneLike;
  head: HeadLike;
  source: BatchSource;
  /** Validation on the configured sets; none → no validation. */
  validator?: Validator;
  /**
   * Weight-decay groups of the backbone (spec D7), called after the modules moved to the device
   * (moving replaces the parameter tensors); default: every parameter decays.
   */
  backboneGroups?: () => { decay: Tensor[]; noDecay: Tensor[] };
  /** Writes the exported backbone (safetensors + model card) into a folder; default: plain safetensors. */
  exportModel?: (dir: string, info: { validation: ValidationResult[]; step: number; epoch: number }) => void;
}

/** Progress events (for bars, logs, or a UI). */
export type ProgressEvent =
  | ({ kind: 'step'; totalSteps: number; epochs: number; batchesPerEpoch: number } & Omit<TrainRecord, 'type' | 'time'>)
  | { kind: 'validation'; step: number; epoch: number; results: ValidationResult[] }
  | { kind: 'checkpoint'; step: number; epoch: number; path: string; reason: string }
  | { kind: 'start'; runDir: string; totalSteps: number; startStep: number; resumed: boolean; numImages: number; numClasses: number }
  | { kind: 'message'; text: string };

export interface TrainOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Resume from the run's checkpoint (true: `outDir/name/checkpoint.safetensors`, or a path). */
  resume?: boolean | string;
  /** Stops cleanly (checkpoint saved) at the end of the current step when aborted. */
  signal?: AbortSignal;
  /** Install a SIGINT handler that aborts the run (default true). */
  handleSigint?: boolean;
}

/** What `train()` resolves to. */
export interface TrainSummary {
  runDir: string;
  steps: number;
  epochs: number;
  /** Best validation (by mean accuracy over the sets) and where its model is. */
  best: { step: number; epoch: number; meanAccuracy: number; results: ValidationResult[]; modelDir: string } | null;
  /** The last model and its validation. */
  last: { step: number; epoch: number; modelDir: string; checkpoint: string };
  validation: ValidationResult[];
  interrupted: boolean;
  /** True when the run stopped at `maxMinutes` (validated, checkpointed and exported like a finished run). */
  timeLimited: boolean;
  /** Mean training loss over the last logged window. */
  finalLoss: number;
  metricsPath: string;
  seconds: number;
}

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

function num(v: number | Tensor | undefined): number {
  if (v === undefined) return NaN;
  return typeof v === 'number' ? v : v.item();
}

interface CkptMeta {
  format: 'ecacface-train-checkpoint';
  version: 1;
  step: number;
  position: SourcePosition;
  lossScale: number;
  goodSteps: number;
  optimizer: ReturnType<SGD['stateDict']>['groups'];
  optimizerSteps: number;
  best: TrainSummary['best'];
  lastValidation: ValidationResult[];
  config: TrainConfig;
}

/** The run directory of a config: `outDir/name`. */
export function runDirOf(config: TrainConfig): string {
  return resolve(config.outDir, config.name ?? new Date().toISOString().replace(/[:.]/g, '-'));
}

/** Runs the training loop on given components. */
export async function runTraining(config: TrainConfig, c: TrainComponents, options: TrainOptions = {}): Promise<TrainSummary> {
  const t0 = Date.now();
  const emit = options.onProgress ?? (() => {});
  const runDir = typeof options.resume === 'string' && !options.resume.endsWith('.safetensors') ? resolve(options.resume) : runDirOf(config);
  mkdirSync(runDir, { recursive: true });
  const ckptPath = typeof options.resume === 'string' && options.resume.endsWith('.safetensors') ? resolve(options.resume) : join(runDir, 'checkpoint.safetensors');
  const metrics = new MetricsWriter(join(runDir, 'metrics.jsonl'));
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');

  if (config.threads > 0) setNumThreads(config.threads);
  manualSeed(config.seed);
  const device = config.device;
  const cudaAmp = device !== 'cpu' && config.precision !== 'fp32';
  if (device !== 'cpu') {
    c.backbone.to?.(device);
    c.head.to?.(device);
  }

  const { backbone, head, source } = c;
  const groups = c.backboneGroups ? c.backboneGroups() : { decay: backbone.parameters(), noDecay: [] };
  const opt = new SGD(
    [
      { params: [...groups.decay, ...head.parameters()], weightDecay: config.weightDecay, name: 'decay' },
      { params: groups.noDecay, weightDecay: 0, name: 'no_decay' },
    ],
    { lr: config.lr, momentum: config.momentum },
  );
  const allParams = opt.paramGroups.flatMap((g) => g.params);
  const schedule = new MultiStepSchedule({ lr: config.lr, milestones: config.milestones, epochs: config.epochs, gamma: config.gamma, warmupSteps: config.warmup });
  const perEpoch = config.stepsPerEpoch > 0 ? Math.min(config.stepsPerEpoch, source.batchesPerEpoch) : source.batchesPerEpoch;
  const totalSteps = perEpoch * config.epochs;

  let step = 0;
  let position: SourcePosition = { epoch: 0, batch: 0 };
  let lossScale = config.precision === 'fp16' ? config.lossScale : 1;
  let goodSteps = 0;
  let best: TrainSummary['best'] = null;
  let lastValidation: ValidationResult[] = [];
  let lastCheckpoint: string | null = null;
  const resumed = options.resume !== undefined && options.resume !== false;

  if (resumed) {
    if (!existsSync(ckptPath)) throw new Error(`cannot resume: no checkpoint at ${ckptPath}`);
    const { tensors, metadata } = loadTensors(ckptPath);
    try {
      const meta = JSON.parse(metadata.train ?? 'null') as CkptMeta | null;
      if (!meta || meta.format !== 'ecacface-train-checkpoint') throw new Error(`${ckptPath}: not a training checkpoint (no 'train' metadata)`);
      const pick = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
      backbone.loadStateDict(pick('backbone.'));
      head.loadStateDict(pick('head.'));
      const flat = allParams.length;
      const bufs = Array.from({ length: flat }, (_, i) => tensors.get(`optimizer.momentum.${i}`) ?? null);
      opt.loadStateDict({ groups: meta.optimizer, momentumBuffers: bufs, steps: meta.optimizerSteps });
      const rng = tensors.get('rng.cpu');
      if (rng) setRngState(rng);
      step = meta.step;
      position = meta.position;
      lossScale = meta.lossScale;
      goodSteps = meta.goodSteps;
      best = meta.best;
      lastValidation = meta.lastValidation;
      lastCheckpoint = ckptPath;
      metrics.truncateAfter(step);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  const saveCheckpoint = (reason: string): string => {
    scope(() => {
      const ts = new Map<string, Tensor>();
      for (const [k, v] of backbone.stateDict()) ts.set(`backbone.${k}`, v);
      for (const [k, v] of head.stateDict()) ts.set(`head.${k}`, v);
      const st = opt.stateDict();
      st.momentumBuffers.forEach((b, i) => {
        if (b) ts.set(`optimizer.momentum.${i}`, b);
      });
      ts.set('rng.cpu', getRngState());
      const meta: CkptMeta = {
        format: 'ecacface-train-checkpoint',
        version: 1,
        step,
        position,
        lossScale,
        goodSteps,
        optimizer: st.groups,
        optimizerSteps: st.steps,
        best,
        lastValidation,
        config,
      };
      saveTensors(ckptPath, ts, { train: JSON.stringify(meta) });
    });
    lastCheckpoint = ckptPath;
    emit({ kind: 'checkpoint', step, epoch: position.epoch, path: ckptPath, reason });
    return ckptPath;
  };

  const exportTo = (dir: string, validation: ValidationResult[]): void => {
    mkdirSync(dir, { recursive: true });
    if (c.exportModel) c.exportModel(dir, { validation, step, epoch: position.epoch });
    else saveTensors(join(dir, 'backbone.safetensors'), backbone.stateDict(), { step: String(step) });
  };

  const validate = async (): Promise<void> => {
    if (!c.validator) return;
    backbone.eval();
    let results: ValidationResult[];
    try {
      results = await c.validator(backbone);
    } finally {
      backbone.train(true);
    }
    lastValidation = results;
    const now = new Date().toISOString();
    for (const r of results) {
      const rec: ValRecord = { type: 'val', step, epoch: position.epoch, name: r.name, accuracy: r.accuracy, std: r.std, time: now };
      if (r.threshold !== undefined) rec.threshold = r.threshold;
      metrics.append(rec);
    }
    emit({ kind: 'validation', step, epoch: position.epoch, results });
    const mean = results.length ? results.reduce((a, r) => a + r.accuracy, 0) / results.length : NaN;
    if (results.length && (!best || mean > best.meanAccuracy)) {
      const modelDir = join(runDir, 'model-best');
      best = { step, epoch: position.epoch, meanAccuracy: mean, results, modelDir };
      exportTo(modelDir, results);
    }
  };

  // Ctrl-C / abort: finish the current step, checkpoint, return.
  let stopRequested = false;
  const onAbort = () => {
    stopRequested = true;
  };
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) stopRequested = true;
  const sigint = () => {
    if (stopRequested) process.exit(130); // a second Ctrl-C exits at once
    stopRequested = true;
    emit({ kind: 'message', text: 'interrupt: saving a checkpoint after this step (Ctrl-C again to quit now)' });
  };
  const handleSigint = options.handleSigint ?? true;
  if (handleSigint) process.on('SIGINT', sigint);

  emit({ kind: 'start', runDir, totalSteps, startStep: step, resumed, numImages: source.numImages, numClasses: source.numClasses });
  backbone.train(true);
  head.train(true);
  if (config.valAtStart && !resumed && step === 0) await validate();

  // window statistics for the log lines
  let win = { n: 0, loss: 0, t: 0, pos: 0, hard: 0, images: 0, wait: 0, time: 0 };
  let lastLoss = NaN;
  let interrupted = false;
  let timeLimited = false;
  const tTrain = performance.now();
  try {
    outer: for (let epoch = position.epoch; epoch < config.epochs; epoch++) {
      const from = epoch === position.epoch ? position.batch : 0;
      position = { epoch, batch: from };
      if (from < perEpoch) {
        const it = source.epoch(epoch, from)[Symbol.asyncIterator]();
        try {
          for (let b = from; b < perEpoch; b++) {
            const tWait = performance.now();
            const next = await it.next();
            if (next.done) break;
            const tStart = performance.now();
            const batch = next.value;
            const lr = schedule.lrAt(epoch, step);
            opt.setLr(lr);
            let loss = NaN;
            let stats: { t: number; pos: number; hard: number } = { t: NaN, pos: NaN, hard: NaN };
            const n = batch.labels.shape[0] ?? 0;
            try {
              const r = scope(() => {
                const x = batch.images.device === device ? batch.images : batch.images.to(device as 'cpu');
                const y = batch.labels.device === device ? batch.labels : batch.labels.to(device as 'cpu');
                if (cudaAmp) native.setAutocast(true, dtypeCode(config.precision === 'bf16' ? 'bfloat16' : 'float16'));
                let emb: Tensor;
                try {
                  emb = backbone.forward(x);
                } finally {
                  if (cudaAmp) native.setAutocast(false);
                }
                const out = head.forward(emb.dtype === 'float32' ? emb : emb.float(), y);
                const l = out.loss.item();
                if (!Number.isFinite(l)) return { l, st: {} };
                if (lossScale !== 1) out.loss.mul(lossScale).backward();
                else out.loss.backward();
                const st: HeadStats = out.stats ?? {};
                return { l, st: { t: num(st.t), positiveCosine: num(st.positiveCosine), hardFraction: num(st.hardFraction) } };
              });
              loss = r.l;
              const st = r.st as { t?: number; positiveCosine?: number; hardFraction?: number };
              stats = { t: st.t ?? NaN, pos: st.positiveCosine ?? NaN, hard: st.hardFraction ?? NaN };
            } finally {
              batch.images.dispose();
              batch.labels.dispose();
            }
            if (!Number.isFinite(loss)) {
              opt.zeroGrad();
              throw new DivergenceError(step + 1, epoch, loss, lastCheckpoint);
            }
            let skip = false;
            if (lossScale !== 1) {
              const overflow = native.unscaleGrads(allParams.map((p) => p.handle), 1 / lossScale);
              if (overflow) {
                skip = true;
                lossScale /= 2;
                goodSteps = 0;
              } else if (++goodSteps >= 2000) {
                lossScale *= 2;
                goodSteps = 0;
              }
            }
            if (!skip) opt.step();
            opt.zeroGrad();
            step++;
            position = { epoch, batch: b + 1 };
            lastLoss = loss;
            const tEnd = performance.now();
            win.n++;
            win.loss += loss;
            win.t = stats.t;
            win.pos += stats.pos;
            win.hard += stats.hard;
            win.images += n;
            win.wait += tStart - tWait;
            win.time += tEnd - tWait;
            if (step % config.logEvery === 0 || b + 1 === perEpoch) {
              const rec: TrainRecord = {
                type: 'train',
                step,
                epoch,
                loss: win.loss / win.n,
                lr,
                t: win.t,
                positiveCosine: win.pos / win.n,
                hardFraction: win.hard / win.n,
                imagesPerSec: win.images / (win.time / 1000),
                dataWait: win.wait / win.time,
                time: new Date().toISOString(),
              };
              metrics.append(rec);
              const { type: _t, time: _tm, ...rest } = rec;
              emit({ kind: 'step', totalSteps, epochs: config.epochs, batchesPerEpoch: perEpoch, ...rest });
              win = { n: 0, loss: 0, t: 0, pos: 0, hard: 0, images: 0, wait: 0, time: 0 };
            }
            if (stopRequested) {
              interrupted = true;
              saveCheckpoint('interrupt');
              break outer;
            }
            if (config.maxMinutes > 0 && performance.now() - tTrain > config.maxMinutes * 60_000) {
              timeLimited = true;
              emit({ kind: 'message', text: `time limit of ${config.maxMinutes} min reached at step ${step}: validating and saving` });
              await validate();
              saveCheckpoint('time limit');
              break outer;
            }
            if (config.valEvery > 0 && step % config.valEvery === 0 && b + 1 < perEpoch) await validate();
            if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && b + 1 < perEpoch) saveCheckpoint('every');
          }
        } finally {
          await it.return?.();
        }
      }
      position = { epoch: epoch + 1, batch: 0 };
      await validate();
      saveCheckpoint('epoch');
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (handleSigint) process.off('SIGINT', sigint);
    if (cudaAmp) native.setAutocast(false);
  }

  const lastDir = join(runDir, 'model-last');
  exportTo(lastDir, lastValidation);
  opt.dispose();
  await source.close?.();
  return {
    runDir,
    steps: step,
    epochs: position.epoch,
    best,
    last: { step, epoch: position.epoch, modelDir: lastDir, checkpoint: ckptPath },
    validation: lastValidation,
    interrupted,
    timeLimited,
    finalLoss: lastLoss,
    metricsPath: metrics.path,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** Embeds under no-grad in eval mode; a helper for validators. */
export function embedNoGrad(backbone: BackboneLike, images: Tensor): Tensor {
  return noGrad(() => backbone.forward(images));
}
