/**
 * nn.functional: the layers and losses models are built from, as in `torch.nn.functional`.
 * Pair arguments (stride, padding, …) take a number or a [h, w] pair.
 */
import { native } from '../native.js';
import { handleOf, wrap, type Tensor } from './tensor.js';
import { checkProbability } from '../check.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);
const opt = (t: Tensor | null | undefined, arg: string) => (t === undefined || t === null ? null : handleOf(t, arg));

/** Stride, padding, dilation and groups of {@link conv2d} (a number or [h, w] each). */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** 2-d convolution of [N, C, H, W] with weight [out, in/groups, kh, kw] (torch.nn.functional.conv2d). */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return wrap(
    native.conv2d(
      handleOf(input, 'input'),
      handleOf(weight, 'weight'),
      opt(bias, 'bias'),
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.groups ?? 1,
    ),
  );
}

/** 1-d convolution of [N, C, L] with weight [out, in/groups, k] (torch.nn.functional.conv1d). */
export function conv1d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  o: { stride?: number; padding?: number; dilation?: number; groups?: number } = {},
): Tensor {
  return wrap(
    native.conv1d(
      handleOf(input, 'input'),
      handleOf(weight, 'weight'),
      opt(bias, 'bias'),
      [o.stride ?? 1],
      [o.padding ?? 0],
      [o.dilation ?? 1],
      o.groups ?? 1,
    ),
  );
}

/** `input · weightᵀ + bias` over the last dimension. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(native.linear(handleOf(input, 'input'), handleOf(weight, 'weight'), opt(bias, 'bias')));
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training mode it updates runningMean/runningVar in place. */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  o: BatchNormOptions = {},
): Tensor {
  return wrap(
    native.batchNorm(
      handleOf(input, 'input'),
      opt(o.weight, 'weight'),
      opt(o.bias, 'bias'),
      opt(runningMean, 'runningMean'),
      opt(runningVar, 'runningVar'),
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}

/** Parametric ReLU with one slope per channel (dimension 1), or one for all. */
export function prelu(input: Tensor, weight: Tensor): Tensor {
  return wrap(native.prelu(handleOf(input, 'input'), handleOf(weight, 'weight')));
}
/** max(0, x). */
export function relu(input: Tensor): Tensor {
  return wrap(native.relu(handleOf(input, 'input')));
}
/** x for x ≥ 0, else `negativeSlope`·x. */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(native.leakyRelu(handleOf(input, 'input'), negativeSlope));
}
/** 1 / (1 + e^−x). */
export function sigmoid(input: Tensor): Tensor {
  return wrap(native.sigmoid(handleOf(input, 'input')));
}
/** Zeroes elements with probability `p` and scales the rest by 1/(1 − p) when `training`. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  return wrap(native.dropout(handleOf(input, 'input'), checkProbability('dropout: p', p), training));
}

/** Mean over k×k windows (padding counted as zeros by default, as PyTorch). */
export function avgPool2d(
  input: Tensor,
  kernelSize: Pair,
  o: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {},
): Tensor {
  return wrap(
    native.avgPool2d(
      handleOf(input, 'input'),
      pair(kernelSize),
      pair(o.stride ?? kernelSize),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
    ),
  );
}

/** Max over k×k windows. */
export function maxPool2d(
  input: Tensor,
  kernelSize: Pair,
  o: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {},
): Tensor {
  return wrap(
    native.maxPool2d(
      handleOf(input, 'input'),
      pair(kernelSize),
      pair(o.stride ?? kernelSize),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ),
  );
}

/** Average pooling to a fixed output size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: Pair): Tensor {
  return wrap(native.adaptiveAvgPool2d(handleOf(input, 'input'), pair(outputSize)));
}
/** Max pooling to a fixed output size. */
export function adaptiveMaxPool2d(input: Tensor, outputSize: Pair): Tensor {
  return wrap(native.adaptiveMaxPool2d(handleOf(input, 'input'), pair(outputSize)));
}
/** Softmax along `dim`. */
export function softmax(input: Tensor, dim: number): Tensor {
  return wrap(native.softmax(handleOf(input, 'input'), dim));
}
/** Log-softmax along `dim` (stable). */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return wrap(native.logSoftmax(handleOf(input, 'input'), dim));
}

/** How a loss reduces over the batch. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Cross-entropy of logits [N, C] against int64 class indices [N] (stable log-softmax inside). */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  o: { reduction?: Reduction; labelSmoothing?: number } = {},
): Tensor {
  return wrap(native.crossEntropy(handleOf(logits, 'logits'), handleOf(target, 'target'), o.reduction ?? 'mean', o.labelSmoothing ?? 0));
}
/** Negative log-likelihood of log-probabilities [N, C] against int64 class indices [N]. */
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.nllLoss(handleOf(logProbs, 'logProbs'), handleOf(target, 'target'), reduction));
}
/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.mseLoss(handleOf(input, 'input'), handleOf(target, 'target'), reduction));
}

/** x / max(‖x‖_p, eps) along `dim`, as torch.nn.functional.normalize. */
export function normalize(input: Tensor, o: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  return wrap(native.normalize(handleOf(input, 'input'), o.p ?? 2, o.dim ?? 1, o.eps ?? 1e-12));
}

/** Constant padding; `pad` lists (before, after) pairs starting from the last dimension. */
export function pad(input: Tensor, padding: number[], value = 0): Tensor {
  return wrap(native.pad(handleOf(input, 'input'), padding, value));
}

/** One-hot encoding of int64 labels. */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  return wrap(native.oneHot(handleOf(labels, 'labels'), numClasses));
}
