/**
 * What the trainer takes besides a backbone (models/) and a head (heads/): a resumable batch
 * source and a validator.
 */
import type { Batch } from '../data/loader.js';
import type { Backbone } from '../models/backbone.js';

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
