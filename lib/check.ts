/**
 * Option checks, one wording per rule (as sharp's `is.js`): every numeric option of the library
 * is checked here, so a bad value reads the same wherever it is passed —
 * `loader: batchSize must be a positive integer, got 0`. The `…Problem` functions return the
 * message (null when the value is fine) for checks that collect every problem before throwing;
 * the `check…` functions throw it (RangeError; TypeError when the value is not a number at all)
 * and return the value. The training config is checked by its zod schema (lib/train/config.ts).
 */

/** An inclusive range; `above`/`below` make a bound exclusive. */
export interface NumberRange {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

const show = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

/** What an integer in [min, max] is called: a positive integer, a non-negative integer, an integer ≥ 2, … */
function intRule(min: number, max: number): string {
  if (max !== Infinity) return `an integer in [${min}, ${max}]`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return min === -Infinity ? 'an integer' : `an integer ≥ ${min}`;
}

/** What a number in `r` is called: a number in [0, 1], a finite number > 0, … */
function numberRule(r: NumberRange): string {
  const lo = r.above !== undefined ? `(${r.above}` : r.min !== undefined ? `[${r.min}` : null;
  const hi = r.below !== undefined ? `${r.below})` : r.max !== undefined ? `${r.max}]` : null;
  if (lo && hi) return `a number in ${lo}, ${hi}`;
  if (r.above !== undefined) return `a finite number > ${r.above}`;
  if (r.min !== undefined) return `a finite number ≥ ${r.min}`;
  if (r.below !== undefined) return `a finite number < ${r.below}`;
  if (r.max !== undefined) return `a finite number ≤ ${r.max}`;
  return 'a finite number';
}

/** `name must be an integer in [min, max], got value`, or null when it is one (safe integers only). */
export function intProblem(name: string, value: unknown, min = -Infinity, max = Infinity): string | null {
  const ok = typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
  return ok ? null : `${name} must be ${intRule(min, max)}, got ${show(value)}`;
}

/** `name must be a number in the range, got value`, or null when it is one (never NaN or ±Infinity). */
export function numberProblem(name: string, value: unknown, range: NumberRange = {}): string | null {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max) &&
    (range.above === undefined || value > range.above) &&
    (range.below === undefined || value < range.below);
  return ok ? null : `${name} must be ${numberRule(range)}, got ${show(value)}`;
}

function fail(problem: string, value: unknown): never {
  throw typeof value === 'number' ? new RangeError(problem) : new TypeError(problem);
}

/** Returns `value` when it is an integer in [min, max]; throws the {@link intProblem} otherwise. */
export function checkInt(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  const p = intProblem(name, value, min, max);
  return p === null ? (value as number) : fail(p, value);
}

/** Returns `value` when it is a finite number in the range; throws the {@link numberProblem} otherwise. */
export function checkNumber(name: string, value: unknown, range: NumberRange = {}): number {
  const p = numberProblem(name, value, range);
  return p === null ? (value as number) : fail(p, value);
}

/**
 * An integer given as text (a command-line option, an environment variable): its value, or a
 * RangeError that quotes the text (`--batch must be a positive integer, got 'x'`).
 */
export function checkIntText(name: string, text: string, min = -Infinity, max = Infinity): number {
  const value = /^\s*$/.test(text) ? NaN : Number(text);
  if (intProblem(name, value, min, max) === null) return value;
  throw new RangeError(`${name} must be ${intRule(min, max)}, got ${show(text)}`);
}

/**
 * A number given as text (a command-line option): its value, or a RangeError that quotes the
 * text (`--threshold must be a number in [0, 4], got 'x'`).
 */
export function checkNumberText(name: string, text: string, range: NumberRange = {}): number {
  const value = /^\s*$/.test(text) ? NaN : Number(text);
  if (numberProblem(name, value, range) === null) return value;
  throw new RangeError(`${name} must be ${numberRule(range)}, got ${show(text)}`);
}

/** A probability: a number in [0, 1]. */
export function checkProbability(name: string, value: unknown): number {
  return checkNumber(name, value, { min: 0, max: 1 });
}
