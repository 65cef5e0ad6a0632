/**
 * The statistics of an experiment table: mean and sample standard deviation over seeds, and the
 * paired t-test of a row against the baseline row over seeds (docs/decisions/experiments.md, X2),
 * with a 95 % confidence interval of the difference and Holm's adjustment over the rows.
 *
 * Student's t distribution comes from the regularised incomplete beta function
 * (two-sided p = I_{ν/(ν+t²)}(ν/2, 1/2)), evaluated by its continued fraction; the tests check it
 * against the closed forms for ν = 1, 2 and 3.
 */

/** Mean and sample standard deviation (ddof 1; 0 for a single value) of `xs`. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: NaN, std: NaN };
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  if (xs.length === 1) return { mean, std: 0 };
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean, std: Math.sqrt(ss / (xs.length - 1)) };
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, relative error < 1e-14 on the half-integers used here). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x); // reflection
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 500; m++) {
    // even step: m(b − m)x / ((a + 2m − 1)(a + 2m))
    let num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + num * d;
    c = 1 + num / c;
    if (Math.abs(d) < tiny) d = tiny;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    // odd step: −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1))
    num = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    if (Math.abs(d) < tiny) d = tiny;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    f *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return f;
}

/** The regularised incomplete beta function I_x(a, b), for a, b > 0 and x ∈ [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incompleteBeta: x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // the fraction converges fast on this side; use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) on the other
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** Two-sided tail probability P(|T| ≥ |t|) of Student's t with `df` degrees of freedom. */
export function studentTwoSided(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTwoSided: df must be positive, got ${df}`);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t value with two-sided tail probability `p` (e.g. p = 0.05 → the 97.5 % quantile), by bisection. */
export function studentQuantileTwoSided(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentQuantileTwoSided: p must be in (0, 1), got ${p}`);
  let lo = 0;
  let hi = 1;
  while (studentTwoSided(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTwoSided(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The paired t-test of `a` against `b` (same length, paired by index). */
export interface PairedTest {
  /** Pairs. */
  n: number;
  /** Mean of a − b. */
  meanDiff: number;
  /** Sample standard deviation of a − b (ddof 1). */
  sdDiff: number;
  /** t statistic; null when it is undefined or infinite (fewer than 2 pairs, or every difference equal). */
  t: number | null;
  df: number;
  /** Two-sided p-value; null with fewer than 2 pairs. */
  p: number | null;
  /** 95 % confidence interval of the mean difference; null with fewer than 2 pairs. */
  ci95: [number, number] | null;
}

/**
 * Paired two-sided t-test on the differences a_i − b_i. Fewer than two pairs give no p-value; when
 * every difference is the same, p is 1 if that difference is 0 and 0 otherwise.
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new RangeError(`pairedTTest: ${a.length} values against ${b.length}`);
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const { mean, std } = meanStd(d);
  if (n < 2) return { n, meanDiff: mean, sdDiff: NaN, t: null, df: Math.max(0, n - 1), p: null, ci95: null };
  const df = n - 1;
  if (std === 0) return { n, meanDiff: mean, sdDiff: 0, t: mean === 0 ? 0 : null, df, p: mean === 0 ? 1 : 0, ci95: [mean, mean] };
  const se = std / Math.sqrt(n);
  const t = mean / se;
  const half = studentQuantileTwoSided(0.05, df) * se;
  return { n, meanDiff: mean, sdDiff: std, t, df, p: studentTwoSided(t, df), ci95: [mean - half, mean + half] };
}

/**
 * Holm's step-down adjustment of p-values for several comparisons (nulls stay null and are not
 * counted): the k-th smallest of m becomes max over j ≤ k of min(1, (m − j + 1)·p_(j)).
 */
export function holm(ps: readonly (number | null)[]): (number | null)[] {
  const idx = ps.map((p, i) => [p, i] as const).filter((e): e is readonly [number, number] => e[0] !== null).sort((x, y) => x[0] - y[0]);
  const m = idx.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  idx.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}
