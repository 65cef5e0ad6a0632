/**
 * What the trainer takes besides a backbone (models/) and a head (heads/): a resumable batch
 * source and a validator.
 */
import type { Batch } from '../data/loader.js';
import type { Head } from '../heads/head.js';
import type { Backbone } from '../models/backbone.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainRecord } from './metrics.js';

/** One training batch as the loop takes it: the data loader's images and labels. */
export type TrainBatch = Pick<Batch, 'images' | 'labels'>;

/** Where a batch source is: the epoch and the next batch index in it (JSON-serialisable). */
export interface SourcePosition {
  epoch: number;
  batch: number;
}

/**
 * A resumable, deterministic source of training batches: `epoch(e, from)` yields the batches of
 * epoch `e` starting at batch index `from`, the same ones whichever run asks.
 */
export interface BatchSource {
  readonly numClasses: number;
  readonly numImages: number;
  /** Batches per epoch (drop_last). */
  readonly batchesPerEpoch: number;
  epoch(epoch: number, fromBatch: number): AsyncIterable<TrainBatch>;
  close?(): void | Promise<void>;
}

/** One verification set's result. */
export interface ValidationResult {
  name: string;
  /** Mean 10-fold accuracy in [0, 1]. */
  accuracy: number;
  /** Standard deviation over the folds (ddof 0). */
  std: number;
  threshold?: number;
  pairs?: number;
  /** The 10-fold mean ROC (stored thinned in metrics.jsonl; drawn in plots/roc-<set>). */
  roc?: { fpr: ArrayLike<number>; tpr: ArrayLike<number> };
}

/** Validates a backbone on the configured sets (called in eval mode, without gradients). */
export type Validator = (backbone: Backbone) => Promise<ValidationResult[]>;

/** Everything the loop trains and reads. */
export interface TrainComponents {
  backbone: Backbone;
  head: Head;
  source: BatchSource;
  /** Validation on the configured sets; none → no validation. */
  validator?: Validator;
  /**
   * Weight-decay groups of the backbone (lib/nn/param-groups.ts), called after the modules moved to the device
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
