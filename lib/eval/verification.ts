/**
 * The 10-fold face verification protocol (LFW, CFP-FP, AgeDB-30, CALFW, CPLFW) on embeddings:
 * pure math, no model. Follows insightface `eval/verification.py` step by step
 * (insightface's eval/verification.py; docs/evaluation.md, docs/decisions/eval.md):
 *
 * 1. optional flip test-time augmentation: `e = f(x) + f(flip(x))` (raw embeddings), then L2
 *    normalisation of every row (an all-zero row stays zero, like sklearn's `normalize`);
 * 2. pair i = rows 2i and 2i+1; distance `‖e₂ᵢ − e₂ᵢ₊₁‖²`;
 * 3. threshold grid `np.arange(0, 4, 0.01)` (i·0.01 in float64, 400 values), "same" iff `dist < thr`;
 * 4. contiguous K folds (sklearn `KFold(shuffle=False)`: the first `P mod K` folds get one extra pair);
 * 5. per fold the best threshold on the other folds (first maximum of the accuracy), accuracy on the
 *    test fold; mean and population std (ddof 0) of the fold accuracies;
 * 6. ROC: per-threshold TPR/FPR on each test fold averaged over the folds;
 * 7. TAR@FAR (`calculate_val`) on the grid `np.arange(0, 4, 0.001)` for FAR 1e-3 and 1e-4.
 *
 * All arithmetic after the input is float64. Counts are exact integers (sorted distances and a
 * sweep over the grid instead of insightface's per-threshold scans; the numbers are identical).
 */
import { Tensor } from '../tensor/tensor.js';
import { contiguousFolds, formatFixed, meanStd, numpyGrid } from './numpy-compat.js';
import { checkInt } from '../check.js';

/** TAR at a target FAR, averaged over the folds. */
export interface TarAtFar {
  /** Mean true accept rate on the test folds. */
  tar: number;
  /** Population std (ddof 0) of the per-fold TAR. */
  std: number;
  /** Mean false accept rate measured on the test folds. */
  far: number;
}

/** What {@link evaluate} reports for one verification set. */
export interface VerificationResult {
  /** Mean of the per-fold accuracies (insightface's "Accuracy-Flip"; papers print it ×100). */
  accuracy: number;
  /** Population standard deviation (ddof 0) of the per-fold accuracies. */
  std: number;
  /** Best threshold (squared L2 distance) chosen on the training folds of each fold. */
  thresholds: number[];
  /** Accuracy of each test fold. */
  folds: number[];
  /** Mean of {@link thresholds} (what CurricularFace's own evaluate returns). */
  bestThreshold: number;
  /** TAR at FAR 1e-3 and 1e-4 (insightface `calculate_val`). */
  tar: { far1e3: TarAtFar; far1e4: TarAtFar };
  /** ROC on the 0.01 grid: test-fold FPR/TPR averaged over the folds, one point per threshold. */
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
  /** Mean L2 norm of the raw embeddings (both passes when flipped embeddings are given). */
  xnorm: number;
  /** Number of pairs evaluated. */
  pairs: number;
}

/** Options of {@link evaluate}. */
export interface VerificationOptions {
  /** Number of contiguous folds (default 10). */
  folds?: number;
  /** Embeddings of the horizontally flipped images, same layout: summed with `embeddings` before normalising. */
  flippedEmbeddings?: Float32Array | Float64Array | Tensor;
  /** Embedding width D; inferred from a 2-d Tensor, or from `length / (2·issame.length)`. */
  embeddingSize?: number;
}

type Values = Float32Array | Float64Array;

function toValues(x: Float32Array | Float64Array | Tensor, arg: string): { data: Values; cols?: number } {
  if (x instanceof Tensor) {
    if (x.ndim !== 2) throw new TypeError(`verification: '${arg}' must be a 2-d tensor (images × D), got shape [${x.shape.join(', ')}]`);
    using c = x.to({ device: 'cpu', dtype: 'float64' });
    return { data: c.toTypedArray() as Float64Array, cols: x.shape[1] };
  }
  if (x instanceof Float64Array || x instanceof Float32Array) return { data: x };
  throw new TypeError(`verification: '${arg}' must be a Float32Array, Float64Array or Tensor`);
}

/**
 * Flip-sum (optional), L2 normalisation and squared pair distances, in float64, one pair at a time
 * (no copy of the embeddings).
 * @returns one distance per pair, and the mean raw norm (XNorm).
 */
function pairDistances(embeddings: Values, flipped: Values | undefined, d: number, pairs: number): { dist: Float64Array; xnorm: number } {
  let normSum = 0;
  let normCount = 0;
  const a = new Float64Array(d);
  const b = new Float64Array(d);
  // row r → summed vector in `out`; returns its norm and adds the raw norms to XNorm
  const load = (r: number, out: Float64Array): number => {
    const o = r * d;
    let n0 = 0;
    let n1 = 0;
    let n = 0;
    for (let j = 0; j < d; j++) {
      const x = embeddings[o + j]!;
      n0 += x * x;
      let v = x;
      if (flipped) {
        const y = flipped[o + j]!;
        n1 += y * y;
        v += y;
      }
      out[j] = v;
      n += v * v;
    }
    normSum += Math.sqrt(n0);
    normCount++;
    if (flipped) {
      normSum += Math.sqrt(n1);
      normCount++;
    }
    return Math.sqrt(n);
  };
  const dist = new Float64Array(pairs);
  for (let p = 0; p < pairs; p++) {
    // sklearn normalize: an all-zero row stays zero
    const na = load(2 * p, a) || 1;
    const nb = load(2 * p + 1, b) || 1;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = a[j]! / na - b[j]! / nb;
      s += diff * diff;
    }
    dist[p] = s;
  }
  return { dist, xnorm: normCount ? normSum / normCount : 0 };
}

/** Per-threshold counts of "predicted same" (`dist < thr`) among same and different pairs of a range. */
interface Counts {
  nSame: number;
  nDiff: number;
  /** tp[t] = #same pairs with dist < grid[t]; fp[t] likewise for different pairs. */
  tp: Int32Array;
  fp: Int32Array;
}

function sweep(sorted: Float64Array, grid: Float64Array): Int32Array {
  const out = new Int32Array(grid.length);
  let k = 0;
  for (let t = 0; t < grid.length; t++) {
    while (k < sorted.length && sorted[k]! < grid[t]!) k++;
    out[t] = k;
  }
  return out;
}

function countsOf(dist: Float64Array, same: Uint8Array, lo: number, hi: number, grid: Float64Array): Counts {
  const s: number[] = [];
  const df: number[] = [];
  for (let i = lo; i < hi; i++) (same[i] ? s : df).push(dist[i]!);
  const ss = Float64Array.from(s).sort();
  const dd = Float64Array.from(df).sort();
  return { nSame: ss.length, nDiff: dd.length, tp: sweep(ss, grid), fp: sweep(dd, grid) };
}

function minus(all: Counts, part: Counts): Counts {
  const tp = new Int32Array(all.tp.length);
  const fp = new Int32Array(all.fp.length);
  for (let t = 0; t < tp.length; t++) {
    tp[t] = all.tp[t]! - part.tp[t]!;
    fp[t] = all.fp[t]! - part.fp[t]!;
  }
  return { nSame: all.nSame - part.nSame, nDiff: all.nDiff - part.nDiff, tp, fp };
}

/** (TP + TN) / n at grid index t. */
function accuracyAt(c: Counts, t: number): number {
  const tn = c.nDiff - c.fp[t]!;
  return (c.tp[t]! + tn) / (c.nSame + c.nDiff);
}

/**
 * The threshold at which the training FAR reaches `target` (insightface `calculate_val`):
 * 0 when the largest FAR on the grid is below the target; otherwise the linear interpolation of
 * threshold against FAR between the LAST grid point with FAR ≤ target and the next one (the exact
 * grid threshold when FAR equals the target there). insightface calls scipy
 * `interp1d(far, thr, kind='slinear')`, which raises on the repeated FAR values every real curve
 * has (insightface #2152); this rule is the well-defined answer the older scipy gave.
 */
export function thresholdAtFar(far: ArrayLike<number>, grid: ArrayLike<number>, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < far.length; i++) if (far[i]! > max) max = far[i]!;
  if (!(max >= target)) return 0;
  let last = -1;
  for (let i = 0; i < far.length; i++) if (far[i]! <= target) last = i;
  if (last < 0) return grid[0]!; // FAR above the target everywhere: the smallest threshold
  const f0 = far[last]!;
  if (f0 === target || last === far.length - 1) return grid[last]!;
  const f1 = far[last + 1]!;
  const t0 = grid[last]!;
  const t1 = grid[last + 1]!;
  return t0 + ((target - f0) * (t1 - t0)) / (f1 - f0);
}

function tarAtFar(dist: Float64Array, same: Uint8Array, folds: Array<[number, number]>, target: number, allC: Counts, foldC: Counts[], grid: Float64Array): TarAtFar {
  const tars: number[] = [];
  const fars: number[] = [];
  folds.forEach(([lo, hi], f) => {
    const train = minus(allC, foldC[f]!);
    const farTrain = new Float64Array(grid.length);
    for (let t = 0; t < grid.length; t++) farTrain[t] = train.nDiff ? train.fp[t]! / train.nDiff : 0;
    const thr = thresholdAtFar(farTrain, grid, target);
    let ta = 0;
    let fa = 0;
    let nS = 0;
    let nD = 0;
    for (let i = lo; i < hi; i++) {
      const pred = dist[i]! < thr;
      if (same[i]) {
        nS++;
        if (pred) ta++;
      } else {
        nD++;
        if (pred) fa++;
      }
    }
    // insightface divides by zero here (a fold with no same or no different pair); report 0.
    tars.push(nS ? ta / nS : 0);
    fars.push(nD ? fa / nD : 0);
  });
  const t = meanStd(tars);
  return { tar: t.mean, std: t.std, far: meanStd(fars).mean };
}

function issameArray(issame: ArrayLike<boolean | number>): Uint8Array {
  const out = new Uint8Array(issame.length);
  for (let i = 0; i < issame.length; i++) {
    const v = issame[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v === false || v === 0) out[i] = 0;
    else throw new TypeError(`verification: issame[${i}] must be a boolean (or 0/1), got ${String(v)}`);
  }
  return out;
}

/**
 * Runs the verification protocol on the embeddings of a pair list.
 *
 * @param embeddings 2P rows of D values (row-major; a Tensor of shape [2P, D] or a flat array):
 *   rows 2i and 2i+1 are pair i.
 * @param issame P booleans: whether pair i shows the same person.
 * @example
 * const r = verification.evaluate(emb, issame, { flippedEmbeddings: embFlip });
 * console.log(`${(r.accuracy * 100).toFixed(2)} ± ${(r.std * 100).toFixed(2)}`);
 */
export function evaluate(
  embeddings: Float32Array | Float64Array | Tensor,
  issame: ArrayLike<boolean | number>,
  options: VerificationOptions = {},
): VerificationResult {
  const k = options.folds ?? 10;
  const same = issameArray(issame);
  const P = same.length;
  if (P === 0) throw new RangeError('verification: issame is empty');
  const emb = toValues(embeddings, 'embeddings');
  let d = options.embeddingSize ?? emb.cols;
  if (d === undefined) {
    d = emb.data.length / (2 * P);
    if (!Number.isInteger(d)) {
      throw new RangeError(`verification: ${emb.data.length} embedding values are not 2·${P} rows (pass embeddingSize)`);
    }
  }
  checkInt('verification: embeddingSize', d, 1);
  if (emb.cols !== undefined && emb.cols !== d) throw new RangeError(`verification: embeddingSize ${d} but the tensor has ${emb.cols} columns`);
  const rows = emb.data.length / d;
  if (!Number.isInteger(rows)) throw new RangeError(`verification: ${emb.data.length} values are not a whole number of ${d}-d rows`);
  if (rows !== 2 * P) throw new RangeError(`verification: ${rows} embeddings but ${P} pairs (need exactly 2·P = ${2 * P})`);
  let flipped: Values | undefined;
  if (options.flippedEmbeddings !== undefined) {
    flipped = toValues(options.flippedEmbeddings, 'flippedEmbeddings').data;
    if (flipped.length !== emb.data.length) {
      throw new RangeError(`verification: flippedEmbeddings has ${flipped.length} values, embeddings ${emb.data.length}`);
    }
  }

  const { dist, xnorm } = pairDistances(emb.data, flipped, d, P);
  const folds = contiguousFolds(P, k);

  // Accuracy and ROC on the 0.01 grid.
  const grid = numpyGrid(4, 0.01);
  const all = countsOf(dist, same, 0, P, grid);
  const foldCounts = folds.map(([lo, hi]) => countsOf(dist, same, lo, hi, grid));
  const accs: number[] = [];
  const best: number[] = [];
  const tprSum = new Float64Array(grid.length);
  const fprSum = new Float64Array(grid.length);
  folds.forEach((_, f) => {
    const test = foldCounts[f]!;
    const train = minus(all, test);
    let bi = 0;
    let ba = -Infinity;
    for (let t = 0; t < grid.length; t++) {
      const a = accuracyAt(train, t);
      if (a > ba) {
        ba = a;
        bi = t;
      }
    }
    best.push(grid[bi]!);
    accs.push(accuracyAt(test, bi));
    for (let t = 0; t < grid.length; t++) {
      const tp = test.tp[t]!;
      const fn = test.nSame - tp;
      const fp = test.fp[t]!;
      const tn = test.nDiff - fp;
      tprSum[t] += tp + fn === 0 ? 0 : tp / (tp + fn);
      fprSum[t] += fp + tn === 0 ? 0 : fp / (fp + tn);
    }
  });
  const acc = meanStd(accs);

  // TAR@FAR on the 0.001 grid.
  const fine = numpyGrid(4, 0.001);
  const allF = countsOf(dist, same, 0, P, fine);
  const foldF = folds.map(([lo, hi]) => countsOf(dist, same, lo, hi, fine));
  const far1e3 = tarAtFar(dist, same, folds, 1e-3, allF, foldF, fine);
  const far1e4 = tarAtFar(dist, same, folds, 1e-4, allF, foldF, fine);

  return {
    accuracy: acc.mean,
    std: acc.std,
    thresholds: best,
    folds: accs,
    bestThreshold: meanStd(best).mean,
    tar: { far1e3, far1e4 },
    roc: {
      fpr: Array.from(fprSum, (v) => v / k),
      tpr: Array.from(tprSum, (v) => v / k),
      thresholds: Array.from(grid),
    },
    xnorm,
    pairs: P,
  };
}

/** insightface's log line: `Accuracy-Flip: 0.99817+-0.00229` (the `%1.5f+-%1.5f` part). */
export function formatAccuracy(r: Pick<VerificationResult, 'accuracy' | 'std'>): string {
  return `${formatFixed(r.accuracy, 5)}+-${formatFixed(r.std, 5)}`;
}
