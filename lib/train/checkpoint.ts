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

/** Writes a training checkpoint to `path` (atomically: a crash leaves the previous one). */
export function saveCheckpoint(path: string, parts: CheckpointParts, state: LoopState, config: TrainConfig): void {
  scope(() => {
    const ts = new Map<string, Tensor>();
    for (const [prefix, m] of Object.entries(parts.modules)) for (const [k, v] of m.stateDict()) ts.set(`${prefix}.${k}`, v);
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
    };
    saveSafetensors(path, ts, { train: JSON.stringify(meta) });
  });
}

/**
 * Restores modules, optimizer, scaler and the CPU RNG from a checkpoint written by
 * {@link saveCheckpoint}; returns the loop's state.
 */
export function loadCheckpoint(path: string, parts: CheckpointParts): LoopState {
  if (!existsSync(path)) throw new Error(`cannot resume: no checkpoint at ${path}`);
  const { tensors, metadata } = loadSafetensors(path);
  try {
    const meta = JSON.parse(metadata.train ?? 'null') as CheckpointMeta | null;
    if (!meta || meta.format !== 'ecacface-train-checkpoint') throw new Error(`${path}: not a training checkpoint (no 'train' metadata)`);
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
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
