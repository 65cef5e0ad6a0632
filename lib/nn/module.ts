/**
 * `Module`: the base class of every layer, attention module and backbone (PyTorch's `nn.Module`).
 *
 * A module owns parameters (trainable tensors), buffers (state such as BatchNorm running
 * statistics) and child modules, each under a name; dotted paths (`body.3.res_layer.1.weight`)
 * name them from the root exactly as PyTorch's `state_dict()` does, so reference checkpoints load
 * without renaming. Subclasses register in their constructor and keep a field of the same name:
 *
 * ```ts
 * this.weight = this.registerParameter('weight', empty([out, in]));
 * this.bn = this.registerModule('bn', new BatchNorm2d(out));
 * ```
 *
 * When a tensor is replaced (`to()`), a field of the same name that held the old tensor is updated.
 * Parameters and buffers are exempt from {@link scope}: the module owns them until {@link Module.dispose}.
 */
import {
  noGrad,
  persist,
  type DType,
  type Device,
  type Tensor,
} from '../tensor/index.js';

/** A state dict: dotted name → tensor (a Map, or a plain record). */
export type StateDict = Map<string, Tensor> | Record<string, Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Reject missing and unexpected keys (default true). Mis-shaped keys are always an error. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Receives the analytic shape trace of {@link Module.traceShape} (used by `summary()`): composite
 * modules call {@link Tracer.run} for each child call in forward order; leaf layers compute their
 * output shape and are recorded with their MACs.
 */
export interface Tracer {
  /** Traces one call of `child` on an input of shape `input` (batch included); returns the output shape. */
  run(child: Module<any, any>, input: number[]): number[];
}

const shapeStr = (s: number[]): string => `[${s.join(', ')}]`;
const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Base class of all modules. `In` are the forward arguments, `Out` its result. */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #modules = new Map<string, Module<any, any>>();
  #training = true;
  #disposed = false;

  /** The computation. */
  abstract forward(...args: In): Out;

  // ------------------------------------------------------------------ registration
  /** Registers (or replaces) a trainable parameter; sets `requiresGrad`. Returns the tensor. */
  registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName(name, 'parameter');
    if (this.#buffers.has(name) || this.#modules.has(name)) throw new Error(`${this.constructor.name}: '${name}' is already a buffer or a module`);
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, persist(t));
    return t;
  }

  /** Registers (or replaces) a buffer: state saved in the state dict but not trained. Returns the tensor. */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkName(name, 'buffer');
    if (this.#params.has(name) || this.#modules.has(name)) throw new Error(`${this.constructor.name}: '${name}' is already a parameter or a module`);
    this.#buffers.set(name, persist(t));
    return t;
  }

  /** Registers a child module under `name` (a number for Sequential-like containers). Returns it. */
  registerModule<M extends Module<any, any>>(name: string, m: M): M {
    this.#checkName(name, 'module');
    if (!(m instanceof Module)) throw new TypeError(`${this.constructor.name}.registerModule('${name}'): not a Module`);
    if (this.#params.has(name) || this.#buffers.has(name)) throw new Error(`${this.constructor.name}: '${name}' is already a parameter or a buffer`);
    this.#modules.set(name, m);
    return m;
  }

  #checkName(name: string, what: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new TypeError(`${this.constructor.name}: ${what} name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    if (this.#disposed) throw new Error(`${this.constructor.name} has been disposed`);
  }

  // ------------------------------------------------------------------ traversal
  /** Direct children with their names. */
  namedChildren(): [string, Module<any, any>][] {
    return [...this.#modules];
  }
  children(): Module<any, any>[] {
    return [...this.#modules.values()];
  }
  /** The child registered under `name`, or undefined. */
  child(name: string): Module<any, any> | undefined {
    return this.#modules.get(name);
  }
  /** This module and all descendants, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module<any, any>][] {
    const out: [string, Module<any, any>][] = [[prefix, this]];
    for (const [n, m] of this.#modules) out.push(...m.namedModules(prefix === '' ? n : `${prefix}.${n}`));
    return out;
  }
  modules(): Module<any, any>[] {
    return this.namedModules().map(([, m]) => m);
  }
  /** Parameters with dotted names; `recurse = false` lists only this module's own. */
  namedParameters(recurse = true): [string, Tensor][] {
    return this.#collect((m) => m.#params, recurse);
  }
  parameters(recurse = true): Tensor[] {
    return this.namedParameters(recurse).map(([, t]) => t);
  }
  /** Buffers with dotted names; `recurse = false` lists only this module's own. */
  namedBuffers(recurse = true): [string, Tensor][] {
    return this.#collect((m) => m.#buffers, recurse);
  }
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers(recurse).map(([, t]) => t);
  }

  #collect(pick: (m: Module<any, any>) => Map<string, Tensor>, recurse: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module<any, any>][] = recurse ? this.namedModules() : [['', this]];
    for (const [prefix, m] of mods) {
      for (const [n, t] of pick(m)) {
        if (seen.has(t)) continue; // shared tensors are listed once, as PyTorch does
        seen.add(t);
        out.push([prefix === '' ? n : `${prefix}.${n}`, t]);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ modes
  /** True in training mode (the default). */
  get training(): boolean {
    return this.#training;
  }
  /** Sets training mode on this module and all descendants. Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.#training = mode;
    return this;
  }
  /** Evaluation mode (BatchNorm uses running statistics, Dropout is the identity). Returns this. */
  eval(): this {
    return this.train(false);
  }

  // ------------------------------------------------------------------ state
  /**
   * Parameters and buffers by dotted name, in registration order (as PyTorch's `state_dict()`).
   * The values are the module's own live tensors, not copies: do not dispose them; `clone()` one
   * to keep a snapshot.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of m.#params) out.set(prefix === '' ? n : `${prefix}.${n}`, t);
      for (const [n, t] of m.#buffers) out.set(prefix === '' ? n : `${prefix}.${n}`, t);
    }
    return out;
  }

  /**
   * Copies values from `sd` into this module's parameters and buffers (casting dtype, moving
   * device). Checks everything first and throws one error listing missing, unexpected and
   * mis-shaped keys; nothing is copied when it throws. With `strict: false`, missing and
   * unexpected keys are returned instead of thrown (shape mismatches still throw).
   */
  loadStateDict(sd: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries: [string, Tensor][] = sd instanceof Map ? [...sd] : Object.entries(sd);
    const given = new Map(entries);
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const misShaped: string[] = [];
    for (const [k, t] of own) {
      const v = given.get(k);
      if (v === undefined) continue;
      if (typeof v !== 'object' || v === null || typeof (v as Tensor).shape === 'undefined') {
        misShaped.push(`${k}: not a Tensor`);
      } else if (!sameShape(v.shape, t.shape)) {
        misShaped.push(`${k}: expected ${shapeStr(t.shape)}, got ${shapeStr(v.shape)}`);
      }
    }
    const problems: string[] = [];
    if (strict && missing.length > 0) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
    if (strict && unexpected.length > 0) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    if (misShaped.length > 0) problems.push(`mis-shaped keys (${misShaped.length}): ${misShaped.join('; ')}`);
    if (problems.length > 0) {
      throw new Error(`${this.constructor.name}.loadStateDict: ${problems.join('; ')}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const v = given.get(k);
        if (v !== undefined) t.copy_(v);
      }
    });
    return { missingKeys: missing, unexpectedKeys: unexpected };
  }

  /**
   * Moves and/or casts every parameter and buffer in place: `to('cuda')`, `to('float64')`,
   * `to('cuda', 'float16')`, `to({ device, dtype })`. Only floating-point tensors change dtype
   * (integer buffers such as `num_batches_tracked` stay int64). Returns this.
   */
  to(target?: Device | DType | { device?: Device; dtype?: DType }, dtype?: DType): this {
    let device: Device | undefined;
    let dt: DType | undefined = dtype;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = target as Device;
      else dt = target as DType;
    } else if (target !== undefined) {
      device = target.device;
      dt = target.dtype ?? dt;
    }
    if (device === undefined && dt === undefined) return this;
    for (const m of this.modules()) {
      for (const [map, isParam] of [[m.#params, true], [m.#buffers, false]] as const) {
        for (const [name, old] of map) {
          const floating = old.dtype.startsWith('float') || old.dtype === 'bfloat16';
          const want: { device?: Device; dtype?: DType } = {};
          if (device !== undefined) want.device = device;
          if (dt !== undefined && floating) want.dtype = dt;
          if (want.device === undefined && want.dtype === undefined) continue;
          const moved = old.to(want);
          const neu = isParam ? moved.detach() : moved;
          if (isParam) {
            moved.dispose();
            neu.requiresGrad_(old.requiresGrad);
          }
          persist(neu);
          map.set(name, neu);
          const rec = m as unknown as Record<string, unknown>;
          if (Object.prototype.hasOwnProperty.call(m, name) && rec[name] === old) rec[name] = neu;
          old.dispose();
        }
      }
    }
    return this;
  }

  /** Number of parameters (elements), trainable only by default. */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    const only = options.trainableOnly ?? true;
    let n = 0;
    for (const p of this.parameters()) if (!only || p.requiresGrad) n += p.numel;
    return n;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Frees every parameter and buffer of this module and its descendants. Idempotent. */
  dispose(): void {
    for (const m of this.modules()) {
      if (m.#disposed) continue;
      m.#disposed = true;
      for (const t of m.#params.values()) t.dispose();
      for (const t of m.#buffers.values()) t.dispose();
    }
  }
  get isDisposed(): boolean {
    return this.#disposed;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ------------------------------------------------------------------ analysis
  /**
   * Output shape for an input of shape `input` (batch included), computed analytically, calling
   * `tracer.run(child, shape)` for every child call in forward order. Leaf layers override this
   * and {@link Module.macs}; composite modules override this only.
   */
  traceShape(input: number[], tracer: Tracer): number[] {
    void input;
    void tracer;
    throw new Error(`${this.constructor.name} does not implement traceShape(); summary() needs it`);
  }

  /** Multiply-accumulates of one call of this leaf layer for the whole input (Conv and Linear only). */
  macs(input: number[], output: number[]): number {
    void input;
    void output;
    return 0;
  }

  /** A one-line description of this layer's configuration (used by summary()). */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const lines = [`${this.constructor.name}(${this.extraRepr()}`];
    for (const [n, m] of this.#modules) lines.push(`  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return lines.length === 1 ? `${lines[0]})` : `${lines.join('\n')}\n)`;
  }
}
