/**
 * What the trainer needs from the models, heads, data and evaluation layers, as structural types
 * (an `nn.Module` backbone, a margin head, a resumable batch source, a validator).
 */
import type { Tensor } from '../tensor/tensor.js';

/** The parts of an `nn.Module` the trainer uses. */
export interface TrainableModule {
  parameters(): Tensor[];
  namedParameters(): [string, Tensor][];
  /** Live parameters and buffers by dotted name (not copies). */
  stateDict(): Map<string, Tensor>;
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, options?: { strict?: boolean }): unknown;
  train(mode?: boolean): unknown;
  eval(): unknown;
  to?(device: string): unknown;
  dispose(): void;
}

/** A backbone: images (N×3×H×W, [−1, 1]) → raw embeddings (N×D). */
export interface BackboneLike extends TrainableModule {
  forward(images: Tensor): Tensor;
}

/** Per-step statistics of a margin head (numbers or one-element tensors). */
export interface HeadStats {
  positiveCosine?: number | Tensor;
  t?: number | Tensor;
  hardFraction?: number | Tensor;
}

/** A head: embeddings + labels → mean loss and statistics. */
export interface HeadLike extends TrainableModule {
  forward(embeddings: Tensor, labels: Tensor): { loss: Tensor; stats?: HeadStats };
}

/** One training batch: images N×3×H×W float32 in [−1, 1], labels N int64. */
export interface Batch {
  images: Tensor;
  labels: Tensor;
}

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
  epoch(epoch: number, fromBatch: number): AsyncIterable<Batch>;
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
}

/** Validates a backbone on the configured sets (called in eval mode, without gradients). */
export type Validator = (backbone: BackboneLike) => Promise<ValidationResult[]>;
