/**
 * Training checkpoints: one safetensors file (written atomically) with the modules' state dicts
 * under a prefix each (`backbone.`, `head.`), the optimizer's momentum buffers
 * (`optimizer.momentum.<i>`), the CPU RNG state (`rng.cpu`), and in the `train` metadata entry the
 * loop's position, the optimizer's hyper-parameters, the loss scaler, the best model so far and
 * the config. Resuming from it continues the run bit for bit on the CPU.
 */
import { existsSync } from 'node:fs';
import type { Module } from '../nn/module.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { getRngState, setRngState } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainConfig } from './config.js';
import { nonFiniteTensors } from './finite.js';
import type { LogWindowState } from './metrics.js';
import type { GradScaler } from './grad-scaler.js';
import type { SGD, SGDState } from './sgd.js';
import type { SourcePosition, ValidationResult } from './types.js';

/** The best validation so far and where its model is. */
export interface BestModel {
  step: number;
  epoch: number;
  /** Mean accuracy over the validation sets. */
  meanAccuracy: number;
  results: ValidationResult[];
  modelDir: string;
}

/** The loop's own state: what a checkpoint restores besides tensors. */
export interface LoopState {
  /** Optimizer steps taken. */
  step: number;
  /** The next batch to train on. */
  position: SourcePosition;
  best: BestModel | null;
  lastValidation: ValidationResult[];
  /** The unfinished log window, so the first log line after a resume averages a whole window. */
  window?: LogWindowState;
}

/** The `train` metadata entry of a checkpoint (format version 1). */
export interface CheckpointMeta extends LoopState {
  format: 'ecacface-train-checkpoint';
  version: 1;
  lossScale: number;
  goodSteps: number;
  optimizer: SGDState['groups'];
  optimizerSteps: number;
  config: TrainConfig;
  /** The number of ranks that trained the run (absent in checkpoints written before it was recorded). */
  worldSize?: number;
  /** Batches per epoch (per rank) of the run that wrote it (absent in older checkpoints). */
  batchesPerEpoch?: number;
}

/**
 * What a checkpoint holds: modules by prefix (their state dicts are saved as `<prefix>.<key>`),
 * the optimizer over their parameters and the loss scaler.
 */
export interface CheckpointParts {
  modules: Record<string, Module<any, any>>;
  optimizer: SGD;
  scaler: GradScaler;
}

/** The modules' state, keyed `<prefix>.<key>` as a checkpoint stores it (the tensors themselves, no copies). */
export function moduleTensors(modules: CheckpointParts['modules']): Map<string, Tensor> {
  const ts = new Map<string, Tensor>();
  for (const [prefix, m] of Object.entries(modules)) for (const [k, v] of m.stateDict()) ts.set(`${prefix}.${k}`, v);
  return ts;
}

/**
 * Rank `rank`'s checkpoint file of a run whose rank 0 writes `checkpoint`: the file itself for
 * rank 0, `<checkpoint>.rank<r>.safetensors` for the others (their head shard).
 */
export function rankCheckpointPath(checkpoint: string, rank: number): string {
  return rank > 0 ? checkpoint.replace(/\.safetensors$/, `.rank${rank}.safetensors`) : checkpoint;
}

/** Writes a training checkpoint to `path` (atomically: a crash leaves the previous one). */
export function saveCheckpoint(
  path: string,
  parts: CheckpointParts,
  state: LoopState,
  config: TrainConfig,
  run: { worldSize: number; batchesPerEpoch: number } = { worldSize: 1, batchesPerEpoch: 0 },
): void {
  scope(() => {
    const ts = moduleTensors(parts.modules);
    const st = parts.optimizer.stateDict();
    st.momentumBuffers.forEach((b, i) => {
      if (b) ts.set(`optimizer.momentum.${i}`, b);
    });
    ts.set('rng.cpu', getRngState());
    const scaler = parts.scaler.stateDict();
    const meta: CheckpointMeta = {
      format: 'ecacface-train-checkpoint',
      version: 1,
      step: state.step,
      position: state.position,
      lossScale: scaler.scale,
      goodSteps: scaler.goodSteps,
      optimizer: st.groups,
      optimizerSteps: st.steps,
      best: state.best,
      lastValidation: state.lastValidation,
      ...(state.window ? { window: state.window } : {}),
      config,
      worldSize: run.worldSize,
      ...(run.batchesPerEpoch > 0 ? { batchesPerEpoch: run.batchesPerEpoch } : {}),
    };
    saveSafetensors(path, ts, { train: JSON.stringify(meta) });
  });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks a checkpoint's `train` metadata field by field; throws naming the file and the fields. */
export function validateCheckpointMeta(meta: unknown, path: string): CheckpointMeta {
  const m = meta as Partial<CheckpointMeta> | null;
  if (!m || typeof m !== 'object' || m.format !== 'ecacface-train-checkpoint') throw new Error(`${path}: not a training checkpoint (no 'train' metadata)`);
  const bad: string[] = [];
  if (m.version !== 1) bad.push(`version ${JSON.stringify(m.version)} (expected 1)`);
  if (!isCount(m.step)) bad.push(`step ${JSON.stringify(m.step)} is not a non-negative integer`);
  const pos = m.position as Partial<SourcePosition> | undefined;
  if (!pos || !isCount(pos.epoch) || !isCount(pos.batch)) bad.push(`position ${JSON.stringify(pos)} is not {epoch, batch} of non-negative integers`);
  if (!isFiniteNumber(m.lossScale) || m.lossScale <= 0) bad.push(`lossScale ${JSON.stringify(m.lossScale)} is not a positive number`);
  if (!isCount(m.goodSteps)) bad.push(`goodSteps ${JSON.stringify(m.goodSteps)} is not a non-negative integer`);
  if (!isCount(m.optimizerSteps)) bad.push(`optimizerSteps ${JSON.stringify(m.optimizerSteps)} is not a non-negative integer`);
  if (!Array.isArray(m.optimizer)) bad.push('optimizer groups missing');
  if (m.best !== null && (typeof m.best !== 'object' || !isCount(m.best?.step) || !isFiniteNumber(m.best?.meanAccuracy) || typeof m.best?.modelDir !== 'string')) {
    bad.push('best is neither null nor {step, epoch, meanAccuracy, results, modelDir}');
  }
  if (!Array.isArray(m.lastValidation)) bad.push('lastValidation is not a list');
  for (const k of ['worldSize', 'batchesPerEpoch'] as const) {
    if (m[k] !== undefined && !(isCount(m[k]) && m[k] > 0)) bad.push(`${k} ${JSON.stringify(m[k])} is not a positive integer`);
  }
  if (bad.length) throw new Error(`${path}: invalid checkpoint metadata: ${bad.join('; ')}`);
  return m as CheckpointMeta;
}

/**
 * Checks a loaded position against the run resuming it: `step` = epoch × batchesPerEpoch + batch
 * within the run's epochs (a checkpoint that claims step 10^15 would otherwise end the run at once).
 */
export function checkPosition(s: LoopState, batchesPerEpoch: number, epochs: number, path: string): void {
  const { epoch, batch } = s.position;
  const problems: string[] = [];
  if (epoch > epochs) problems.push(`epoch ${epoch} is beyond the run's ${epochs} epochs`);
  if (batch > batchesPerEpoch) problems.push(`batch ${batch} is beyond the ${batchesPerEpoch} batches per epoch`);
  if (s.step !== epoch * batchesPerEpoch + batch) problems.push(`step ${s.step} ≠ epoch ${epoch} × ${batchesPerEpoch} batches + batch ${batch} (a different batch size or data set?)`);
  if (problems.length) throw new Error(`cannot resume from ${path}: ${problems.join('; ')}`);
}

/** Parses and checks the `train` metadata entry of the checkpoint at `path`. */
export function parseCheckpointMeta(metadata: Record<string, string>, path: string): CheckpointMeta {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.train ?? 'null');
  } catch (e) {
    throw new Error(`${path}: the checkpoint's 'train' metadata is not valid JSON (${(e as Error).message})`);
  }
  return validateCheckpointMeta(parsed, path);
}

/**
 * Restores modules, optimizer, scaler and the CPU RNG from a checkpoint written by
 * {@link saveCheckpoint}; returns the loop's state.
 */
export function loadCheckpoint(path: string, parts: CheckpointParts): LoopState {
  if (!existsSync(path)) throw new Error(`cannot resume: no checkpoint at ${path}`);
  const { tensors, metadata } = loadSafetensors(path);
  try {
    return restoreCheckpoint(tensors, parseCheckpointMeta(metadata, path), parts, path);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/**
 * Restores modules, optimizer, scaler and the CPU RNG from a checkpoint's tensors and metadata
 * (as read from one file, or assembled from several by a re-shard); returns the loop's state.
 * Refuses, before anything is restored, tensors that hold NaN or ±Inf: a run never saves them
 * (lib/train/finite.ts), so the file was damaged. `source` names the file(s) in errors. The
 * caller keeps (and disposes) the tensors.
 */
export function restoreCheckpoint(tensors: Map<string, Tensor>, meta: CheckpointMeta, parts: CheckpointParts, source = 'the checkpoint'): LoopState {
  const bad = nonFiniteTensors(tensors);
  if (bad.length) {
    throw new Error(
      `cannot resume from ${source}: ${bad[0]} holds NaN or infinite values` +
        (bad.length > 1 ? ` (and ${bad.length - 1} more: ${bad.slice(1, 6).join(', ')}${bad.length > 6 ? ', …' : ''})` : '') +
        '; a run never saves such a checkpoint, so the file is damaged: resume from an earlier copy',
    );
  }
  for (const [prefix, m] of Object.entries(parts.modules)) {
    const p = `${prefix}.`;
    m.loadStateDict(new Map([...tensors].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v])));
  }
  const n = parts.optimizer.paramGroups.reduce((a, g) => a + g.params.length, 0);
  const bufs = Array.from({ length: n }, (_, i) => tensors.get(`optimizer.momentum.${i}`) ?? null);
  parts.optimizer.loadStateDict({ groups: meta.optimizer, momentumBuffers: bufs, steps: meta.optimizerSteps });
  parts.scaler.loadStateDict({ scale: meta.lossScale, goodSteps: meta.goodSteps });
  const rng = tensors.get('rng.cpu');
  if (rng) setRngState(rng);
  return { step: meta.step, position: meta.position, best: meta.best, lastValidation: meta.lastValidation, ...(meta.window ? { window: meta.window } : {}) };
}
