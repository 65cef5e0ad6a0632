/**
 * One training run's setup and services around the loop: the run directory (config.json,
 * metrics.jsonl, checkpoint, model-best/, model-last/), the components on their device, the
 * optimizer, loss scaler and schedule, resume, and the four things the loop does besides
 * stepping — log, validate, checkpoint, export. In a distributed run these four are where
 * "rank 0 only" applies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Head } from '../heads/head.js';
import type { Backbone } from '../models/backbone.js';
import { removeStaleTemps } from '../io/atomic.js';
import { makeDirectory, namingFile } from '../io/write-error.js';
import { saveSafetensors } from '../io/safetensors.js';
import type { Device } from '../tensor/device.js';
import type { AutocastDtype } from '../tensor/runtime.js';
import { setNumThreads } from '../tensor/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { resumeOtherLayout, savedLayout } from './reshard.js';
import { checkPosition, loadCheckpoint, moduleTensors, rankCheckpointPath, saveCheckpoint, type BestModel, type CheckpointParts, type LoopState } from './checkpoint.js';
import { NonFiniteError, nonFiniteTensors } from './finite.js';
import type { TrainConfig } from './config.js';
import { GradScaler } from './grad-scaler.js';
import type { SaveKind, TrainContext, TrainHooks } from './hooks.js';
import { LogWindow, MetricsWriter, thinRoc, type TrainRecord, type ValRecord } from './metrics.js';
import { markRunDir, prepareRunDir, runDirOf } from './run-dir.js';
import { gateStatsHook, lrChangesHook } from './run-hooks.js';
import { RunLog } from './run-log.js';
import { TensorBoardLogger, tensorboardDir } from './tensorboard.js';
import { MultiStepSchedule } from './schedule.js';
import { SGD } from './sgd.js';
import { StopRequest } from './stop.js';
import type { BatchSource, ProgressEvent, TrainComponents, ValidationResult } from './types.js';

/** Options of `train()` and `runTraining()`. */
export interface TrainOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Resume from the run's checkpoint (true: `outDir/name/checkpoint.safetensors`, or a path). */
  resume?: boolean | string;
  /**
   * Replace an existing run of the same name (what it wrote is removed first). Without it (or
   * `resume`), a non-empty run directory is refused with `RunExistsError` (lib/train/run-dir.ts).
   */
  overwrite?: boolean;
  /** Stops cleanly (checkpoint saved) at the end of the current step when aborted. */
  signal?: AbortSignal;
  /** Install a SIGINT handler that aborts the run (default true). */
  handleSigint?: boolean;
  /** Features joining the loop (see hooks.ts), called in order. */
  hooks?: TrainHooks[];
  /**
   * A data-parallel run (lib/distributed): rank 0 logs, validates and exports; with
   * `perRankCheckpoint` (a sharded head) every rank writes its own checkpoint, else rank 0 only.
   */
  distributed?: { rank: number; worldSize: number; perRankCheckpoint: boolean };
}

/** What `train()` resolves to. */
export interface TrainSummary {
  runDir: string;
  steps: number;
  epochs: number;
  /** Best validation (by mean accuracy over the sets) and where its model is. */
  best: BestModel | null;
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

/**
 * Where a run lives: from `resume` (a run directory or a checkpoint file) or the config. Ranks
 * other than 0 that keep their own checkpoint (a sharded head) use `<checkpoint>.rank<r>.safetensors`.
 */
function runPaths(config: TrainConfig, resume: TrainOptions['resume'], rank: number): { runDir: string; checkpoint: string; main: string } {
  const file = typeof resume === 'string' && resume.endsWith('.safetensors') ? resolve(resume) : null;
  const runDir = typeof resume === 'string' && !file ? resolve(resume) : runDirOf(config);
  const main = file ?? join(runDir, 'checkpoint.safetensors');
  return { runDir, checkpoint: rankCheckpointPath(main, rank), main };
}

/**
 * Makes the run directory: rank 0 prepares it (refusing a used one unless resuming or
 * overwriting) and removes the temp files of a checkpoint or export whose writer was killed
 * mid-write, returning their paths; other ranks only make sure it exists.
 */
function prepareRunFolder(runDir: string, isMain: boolean, o: { resume: boolean; overwrite: boolean }): string[] {
  if (!isMain) {
    makeDirectory(runDir, 'the run directory');
    return [];
  }
  prepareRunDir(runDir, o);
  return [runDir, join(runDir, 'model-best'), join(runDir, 'model-last')].flatMap(removeStaleTemps);
}

/** The run's writers: `training.log`, the TensorBoard event file and `metrics.jsonl`. */
function openWriters(runDir: string): { runLog: RunLog; tensorboard: TensorBoardLogger; metrics: MetricsWriter } {
  return {
    runLog: new RunLog(join(runDir, 'training.log')),
    tensorboard: new TensorBoardLogger(tensorboardDir(runDir)),
    metrics: new MetricsWriter(join(runDir, 'metrics.jsonl')),
  };
}

/**
 * SGD over the backbone's weight-decay groups and the head (which decays), the loss scaler and
 * the LR schedule. `kernelIndex`: where the head's kernel is among the optimizer's parameters.
 */
function buildOptimizer(
  config: TrainConfig,
  components: TrainComponents,
): { optimizer: SGD; params: Tensor[]; scaler: GradScaler; schedule: MultiStepSchedule; kernelIndex: number } {
  const { backbone, head } = components;
  const groups = components.backboneGroups ? components.backboneGroups() : { decay: backbone.parameters(), noDecay: [] };
  const optimizer = new SGD(
    [
      { params: [...groups.decay, ...head.parameters()], weightDecay: config.weightDecay, name: 'decay' },
      { params: groups.noDecay, weightDecay: 0, name: 'no_decay' },
    ],
    { lr: config.lr, momentum: config.momentum },
  );
  return {
    optimizer,
    params: optimizer.paramGroups.flatMap((g) => g.params),
    scaler: new GradScaler({ enabled: config.precision === 'fp16', initScale: config.lossScale }),
    schedule: new MultiStepSchedule({ lr: config.lr, milestones: config.milestones, epochs: config.epochs, gamma: config.gamma, warmupSteps: config.warmup }),
    kernelIndex: groups.decay.length,
  };
}

export class TrainRun {
  readonly runDir: string;
  readonly checkpointPath: string;
  readonly metrics: MetricsWriter;
  readonly backbone: Backbone;
  readonly head: Head;
  readonly source: BatchSource;
  readonly device: Device;
  /** CUDA autocast dtype of the backbone's forward (mixed precision); null: full precision. */
  readonly autocast: AutocastDtype | null;
  readonly optimizer: SGD;
  /** Every parameter the optimizer steps, flat (groups in order). */
  readonly params: Tensor[];
  readonly scaler: GradScaler;
  readonly schedule: MultiStepSchedule;
  readonly batchesPerEpoch: number;
  readonly totalSteps: number;
  readonly resumed: boolean;
  readonly state: LoopState = { step: 0, position: { epoch: 0, batch: 0 }, best: null, lastValidation: [] };
  readonly hooks: TrainHooks[];
  /** Data parallel: this rank and the world size; rank 0 is the main process (logs, validates, exports). */
  readonly rank: number;
  readonly worldSize: number;
  readonly isMain: boolean;
  readonly #ownCheckpoint: boolean;
  /** The context handed to hooks. */
  readonly context: TrainContext;
  /** Ctrl-C / abort: stop after the current step. Created last; the loop disposes it. */
  readonly stop: StopRequest;
  lastCheckpoint: string | null = null;
  /** The statistics of the current log window (carried over a resume in the checkpoint). */
  readonly window = new LogWindow();
  /** `training.log`: the console's lines with time stamps. */
  readonly runLog: RunLog;
  /** TensorBoard event file under `tensorboard/`. */
  readonly tensorboard: TensorBoardLogger;
  readonly #emit: (e: ProgressEvent) => void;

  constructor(
    readonly config: TrainConfig,
    readonly components: TrainComponents,
    options: TrainOptions,
  ) {
    this.rank = options.distributed?.rank ?? 0;
    this.worldSize = options.distributed?.worldSize ?? 1;
    this.isMain = this.rank === 0;
    const perRank = options.distributed?.perRankCheckpoint ?? false;
    this.#ownCheckpoint = this.isMain || perRank;
    this.resumed = options.resume !== undefined && options.resume !== false;

    const paths = runPaths(config, options.resume, perRank ? this.rank : 0);
    this.runDir = paths.runDir;
    this.checkpointPath = paths.checkpoint;
    const stale = prepareRunFolder(this.runDir, this.isMain, { resume: this.resumed, overwrite: options.overwrite ?? false });

    ({ runLog: this.runLog, tensorboard: this.tensorboard, metrics: this.metrics } = openWriters(this.runDir));
    const user = options.onProgress;
    this.#emit = this.isMain
      ? (e) => {
          this.runLog.onProgress(e);
          this.tensorboard.onProgress(e);
          user?.(e);
        }
      : (e) => user?.(e);
    // Rank 0 alone writes the run's files (other ranks: their checkpoint file only).
    const own = this.isMain ? [config.gateStats ? gateStatsHook(components) : null, lrChangesHook(this.metrics)].filter((h) => h !== null) : [];
    this.hooks = [...own, ...(options.hooks ?? [])];
    const configPath = join(this.runDir, 'config.json');
    if (this.isMain) namingFile(configPath, 'writing', () => writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n'));

    if (config.threads > 0) setNumThreads(config.threads);
    this.device = config.device as Device;
    this.autocast = this.device !== 'cpu' && config.precision !== 'fp32' ? (config.precision === 'bf16' ? 'bfloat16' : 'float16') : null;
    const { backbone, head, source } = components;
    if (this.device !== 'cpu') {
      backbone.to(this.device);
      head.to(this.device);
    }
    this.backbone = backbone;
    this.head = head;
    this.source = source;

    const opt = buildOptimizer(config, components);
    ({ optimizer: this.optimizer, params: this.params, scaler: this.scaler, schedule: this.schedule } = opt);
    this.batchesPerEpoch = config.stepsPerEpoch > 0 ? Math.min(config.stepsPerEpoch, source.batchesPerEpoch) : source.batchesPerEpoch;
    this.totalSteps = this.batchesPerEpoch * config.epochs;

    const resumeNote = this.resumed ? this.#resume(paths.main, perRank, opt.kernelIndex) : null;

    this.stop = new StopRequest({ signal: options.signal, handleSigint: options.handleSigint, onMessage: (text) => this.emit({ kind: 'message', text }) });
    const stopRequest = this.stop;
    this.context = {
      config,
      runDir: this.runDir,
      backbone,
      head,
      optimizer: this.optimizer,
      scaler: this.scaler,
      state: this.state,
      batchesPerEpoch: this.batchesPerEpoch,
      totalSteps: this.totalSteps,
      requestStop: (reason, options) => this.stop.request(reason, options),
      get stopRequested() {
        return stopRequest.requested;
      },
    };
    if (stale.length) this.emit({ kind: 'message', text: `removed ${stale.length} temporary file(s) of an interrupted write: ${stale.join(', ')}` });
    if (resumeNote) this.emit({ kind: 'message', text: resumeNote });
  }

  /**
   * Loads the checkpoint at `main` (this rank's file, or all ranks' files re-sharded when the saved
   * run had another world size or head layout) into the modules, optimizer, scaler and loop state;
   * returns a note for the console when it re-sharded.
   */
  #resume(main: string, perRank: boolean, kernelIndex: number): string | null {
    const saved = savedLayout(main, this.worldSize);
    let loaded: LoopState;
    let loggedUpTo: number;
    let note: string | null = null;
    if (saved.worldSize === this.worldSize && saved.sharded === perRank) {
      loaded = loadCheckpoint(this.checkpointPath, this.checkpointParts());
      checkPosition(loaded, this.batchesPerEpoch, this.config.epochs, this.checkpointPath);
      loggedUpTo = loaded.step;
    } else {
      // Another world size or head layout: re-shard the head, map the position by samples seen.
      const target = { rank: this.rank, worldSize: this.worldSize, sharded: perRank, numClasses: this.head.numClasses, kernelIndex };
      ({ loaded, loggedUpTo, note } = resumeOtherLayout(saved, target, this.checkpointParts(), this.config, this.batchesPerEpoch));
    }
    Object.assign(this.state, loaded);
    if (this.state.window) this.window.restore(this.state.window);
    this.lastCheckpoint = this.checkpointPath;
    if (this.isMain) markRunDir(this.runDir);
    // metrics.jsonl holds what was logged up to the checkpoint's step (the saved run's numbering)
    if (this.isMain) this.metrics.truncateAfter(loggedUpTo, { onWarning: (text) => this.emit({ kind: 'message', text }) });
    return note;
  }

  /** Throws {@link NonFiniteError} (writing nothing) when a parameter or buffer is NaN/Inf. */
  #assertFinite(what: string): void {
    const bad = nonFiniteTensors(moduleTensors(this.checkpointParts().modules));
    if (bad.length) throw new NonFiniteError(bad[0]!, bad.slice(1), this.state.step, what);
  }

  /** Sends a progress event (other ranks than 0 send only messages). */
  emit(e: ProgressEvent): void {
    if (this.isMain || e.kind === 'message') this.#emit(e);
  }

  /** Calls hook `name` of every hook object in order (awaiting each). */
  async callHooks<K extends 'onStart' | 'afterStep' | 'onEnd'>(name: K): Promise<void> {
    for (const h of this.hooks) await h[name]?.(this.context);
  }

  /** What a checkpoint holds (a per-rank head shard would go to its own file from here). */
  checkpointParts(): CheckpointParts {
    return { modules: { backbone: this.backbone, head: this.head }, optimizer: this.optimizer, scaler: this.scaler };
  }

  /** Appends a log line to metrics.jsonl and reports it. */
  log(rec: TrainRecord): void {
    if (!this.isMain) return;
    for (const h of this.hooks) h.onLog?.(rec, this.context);
    this.metrics.append(rec);
    const { type: _t, time: _tm, ...rest } = rec;
    this.emit({ kind: 'step', totalSteps: this.totalSteps, epochs: this.config.epochs, batchesPerEpoch: this.batchesPerEpoch, ...rest });
  }

  /** Validates (eval mode), logs the results, and exports a new best model. */
  async validate(): Promise<void> {
    const { validator } = this.components;
    if (!validator || !this.isMain) return;
    const { state } = this;
    this.backbone.eval();
    let results: ValidationResult[];
    try {
      results = await validator(this.backbone);
    } finally {
      this.backbone.train(true);
    }
    state.lastValidation = results;
    const now = new Date().toISOString();
    for (const r of results) {
      const rec: ValRecord = { type: 'val', step: state.step, epoch: state.position.epoch, name: r.name, accuracy: r.accuracy, std: r.std, time: now };
      if (r.threshold !== undefined) rec.threshold = r.threshold;
      if (r.roc) rec.roc = thinRoc(r.roc);
      this.metrics.append(rec);
    }
    for (const h of this.hooks) h.onValidation?.(results, this.context);
    this.emit({ kind: 'validation', step: state.step, epoch: state.position.epoch, results });
    const mean = results.length ? results.reduce((a, r) => a + r.accuracy, 0) / results.length : NaN;
    if (results.length && (!state.best || mean > state.best.meanAccuracy)) {
      const modelDir = join(this.runDir, 'model-best');
      state.best = { step: state.step, epoch: state.position.epoch, meanAccuracy: mean, results, modelDir };
      this.exportTo(modelDir, results);
    }
  }

  /** Writes the training checkpoint. */
  checkpoint(reason: string): void {
    if (!this.#ownCheckpoint) return;
    this.#assertFinite('checkpoint');
    this.#beforeSave('checkpoint', this.checkpointPath);
    this.state.window = this.window.snapshot();
    saveCheckpoint(this.checkpointPath, this.checkpointParts(), this.state, this.config, { worldSize: this.worldSize, batchesPerEpoch: this.batchesPerEpoch });
    this.lastCheckpoint = this.checkpointPath;
    this.emit({ kind: 'checkpoint', step: this.state.step, epoch: this.state.position.epoch, path: this.checkpointPath, reason });
  }

  /** Exports the backbone into `dir` (the components' exporter, or plain safetensors). */
  exportTo(dir: string, validation: ValidationResult[]): void {
    if (!this.isMain) return;
    this.#assertFinite(`export to ${dir}`);
    this.#beforeSave('export', dir);
    mkdirSync(dir, { recursive: true });
    const { step, position } = this.state;
    if (this.components.exportModel) this.components.exportModel(dir, { validation, step, epoch: position.epoch });
    else saveSafetensors(join(dir, 'backbone.safetensors'), this.backbone.stateDict(), { step: String(step) });
  }

  #beforeSave(kind: SaveKind, path: string): void {
    for (const h of this.hooks) h.beforeSave?.(kind, path, this.context);
  }

  /** Closes the TensorBoard file (idempotent; the loop calls it on every exit). */
  close(): void {
    this.tensorboard.close();
  }

  /** Exports the last model, frees the optimizer, closes the source; the run's summary. */
  async finish(r: { t0: number; interrupted: boolean; timeLimited: boolean; finalLoss: number }): Promise<TrainSummary> {
    const { state } = this;
    const lastDir = join(this.runDir, 'model-last');
    this.exportTo(lastDir, state.lastValidation);
    this.optimizer.dispose();
    await this.source.close?.();
    await this.callHooks('onEnd');
    this.close();
    return {
      runDir: this.runDir,
      steps: state.step,
      epochs: state.position.epoch,
      best: state.best,
      last: { step: state.step, epoch: state.position.epoch, modelDir: lastDir, checkpoint: this.checkpointPath },
      validation: state.lastValidation,
      interrupted: r.interrupted,
      timeLimited: r.timeLimited,
      finalLoss: r.finalLoss,
      metricsPath: this.metrics.path,
      seconds: (Date.now() - r.t0) / 1000,
    };
  }
}
