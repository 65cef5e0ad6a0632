/**
 * Hooks: how other features plug into the training loop without growing it. Each hook is
 * optional; `runTraining` calls the hooks of `options.hooks` in order at these points:
 *
 * | hook            | when                                                       | for                                       |
 * |-----------------|------------------------------------------------------------|-------------------------------------------|
 * | `onStart`       | once, after setup and resume, before the first step        | writers opening files, broadcasting state |
 * | `beforeBackward`| before each micro-batch's backward (`last`: the step's last) | arming the gradient all-reduce          |
 * | `afterBackward` | every step, after backward, before unscale + optimizer step | gradient all-reduce                      |
 * | `afterStep`     | every step, after the optimizer step and the log line       | per-step checks; `ctx.requestStop()`      |
 * | `onLog`         | every log line, before it is appended to metrics.jsonl      | TensorBoard, training.log, extra metrics  |
 * | `onValidation`  | after each validation, before the best model is exported    | writers                                   |
 * | `beforeSave`    | before every checkpoint and model export (throw to refuse)  | NaN guard over parameters and buffers     |
 * | `onEnd`         | once, after the last model was exported (not on errors)     | closing writers                           |
 *
 * Hooks run on the loop's thread between steps; a hook that throws stops the run with its error.
 */
import type { Head } from '../heads/head.js';
import type { Backbone } from '../models/backbone.js';
import type { LoopState } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { GradScaler } from './grad-scaler.js';
import type { TrainRecord } from './metrics.js';
import type { SGD } from './sgd.js';
import type { ValidationResult } from './types.js';

/** The running loop as hooks see it. */
export interface TrainContext {
  readonly config: TrainConfig;
  readonly runDir: string;
  readonly backbone: Backbone;
  readonly head: Head;
  readonly optimizer: SGD;
  readonly scaler: GradScaler;
  /** Live: step, position, best model and last validation. */
  readonly state: LoopState;
  /** Steps per epoch and in the whole run. */
  readonly batchesPerEpoch: number;
  readonly totalSteps: number;
  /**
   * Asks the loop to stop after the current step: it checkpoints and resolves as interrupted, or,
   * with `timeLimit`, ends as at `maxMinutes` (validates, checkpoints, exports; not interrupted).
   */
  requestStop(reason: string, options?: { timeLimit?: boolean }): void;
  /** Whether a stop was asked for (Ctrl-C, the signal, or requestStop). */
  readonly stopRequested: boolean;
}

/** What is about to be written: a training checkpoint, or an exported model (best or last). */
export type SaveKind = 'checkpoint' | 'export';

/** Callbacks into the training loop (the table in the file comment says when each runs). */
export interface TrainHooks {
  onStart?(ctx: TrainContext): void | Promise<void>;
  /** Synchronous: before each micro-batch's backward; `last` for the step's last micro-batch. */
  beforeBackward?(ctx: TrainContext, last: boolean): void;
  /** Synchronous: it runs inside the step, while the gradients are live. */
  afterBackward?(ctx: TrainContext): void;
  afterStep?(ctx: TrainContext): void | Promise<void>;
  /** May add numeric fields to `record` before it is written. */
  onLog?(record: TrainRecord, ctx: TrainContext): void;
  onValidation?(results: ValidationResult[], ctx: TrainContext): void;
  /** Synchronous; throwing stops the run before anything is written. */
  beforeSave?(kind: SaveKind, path: string, ctx: TrainContext): void;
  onEnd?(ctx: TrainContext): void | Promise<void>;
}
