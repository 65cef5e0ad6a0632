/**
 * Deterministic release of native memory.
 *
 * `scope(fn)` runs `fn` and then disposes every tensor created inside it, except the ones it
 * returns (found in the returned value: a Tensor, or arrays / plain objects / Maps holding
 * Tensors) and the ones passed to {@link keep}. Survivors move to the enclosing scope, so
 * scopes nest. Tensors created outside any scope are the caller's to dispose (or `using`).
 */

/** What a scope tracks: anything with a `dispose()` and an `isDisposed` flag. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const stack: Disposable[][] = [];
const kept = new WeakSet<Disposable>();
const owned = new WeakSet<Disposable>();

/** @internal Called by every new Tensor. */
export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) top.push(t);
}

/** Marks tensors to survive the current scope (they move to the enclosing one). Returns its argument. */
export function keep<T>(value: T): T {
  visit(value, (t) => kept.add(t), 0);
  return value;
}

/**
 * Marks a tensor as owned by a long-lived object (an nn `Module`'s parameter or buffer): no scope
 * disposes it, whichever scope it was created in; its owner frees it (`Module.dispose()`).
 * Returns its argument.
 */
export function persist<T extends Disposable>(t: T): T {
  owned.add(t);
  return t;
}

function isDisposable(v: unknown): v is Disposable {
  return typeof v === 'object' && v !== null && typeof (v as Disposable).dispose === 'function' && 'isDisposed' in v;
}

function visit(value: unknown, fn: (t: Disposable) => void, depth: number): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    fn(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) visit(v, fn, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) visit(v, fn, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) visit(v, fn, depth + 1);
  }
}

/**
 * Runs `fn` and frees the tensors it created, except those returned or kept.
 * `fn` must be synchronous; for async work dispose explicitly or use `using`.
 */
export function scope<R>(fn: () => R): R {
  const mine: Disposable[] = [];
  stack.push(mine);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    release(mine, new Set());
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) {
    release(mine, new Set());
    throw new TypeError('scope(fn): fn returned a Promise; scopes are synchronous (dispose tensors explicitly in async code)');
  }
  const survivors = new Set<Disposable>();
  visit(result, (t) => survivors.add(t), 0);
  release(mine, survivors);
  return result;
}

function release(mine: Disposable[], survivors: Set<Disposable>): void {
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (owned.has(t)) continue;
    if (survivors.has(t) || kept.has(t)) {
      kept.delete(t);
      if (parent !== undefined && !t.isDisposed) parent.push(t);
    } else if (!t.isDisposed) {
      t.dispose();
    }
  }
}
