/**
 * The numpy, scikit-learn and Python functions the verification protocol is defined by, computed
 * as they compute them (insightface's numbers depend on these exact definitions).
 */
import { checkInt } from '../check.js';

/** `np.arange(0, stop, step)` exactly as numpy computes it: `i·step` in float64, `ceil(stop/step)` values. */
export function numpyGrid(stop: number, step: number): Float64Array {
  const n = Math.ceil(stop / step);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = i * step;
  return out;
}

/** Contiguous K-fold split of `n` items as sklearn's `KFold(n_splits=k, shuffle=False)`: [start, end) per fold. */
export function contiguousFolds(n: number, k: number): Array<[number, number]> {
  checkInt('verification: folds', k, 2);
  if (n < k) throw new RangeError(`verification: cannot split ${n} pairs into ${k} folds (need at least one pair per fold)`);
  const base = Math.floor(n / k);
  const extra = n % k;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/** Mean and population std (ddof 0), as `np.mean` / `np.std`. */
export function meanStd(v: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) * (v[i]! - mean);
  return { mean, std: Math.sqrt(q / v.length) };
}

/**
 * Python's `'%.<digits>f' % x`: the exact binary value rounded to `digits` decimals, exact ties to
 * even (JS `toFixed` rounds exact ties up, e.g. 0.015625 → "0.01563" where Python prints "0.01562").
 */
export function formatFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  if (!Number.isFinite(x) || digits >= 100) return s;
  const exact = Math.abs(x).toFixed(100); // exact for |x| ≥ 2^-40, more than enough for a tie test
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  // exact tie: toFixed rounded away from zero; go back down if the kept last digit would be odd
  const down = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const last = Number(down[down.length - 1]);
  if (last % 2 === 0) return (x < 0 ? '-' : '') + down;
  return s;
}
