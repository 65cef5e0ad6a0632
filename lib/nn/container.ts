/**
 * Containers: Sequential (torch.nn.Sequential: children named '0', '1', … — or given names — run
 * in order) and ModuleList (indexed children without a forward).
 */
import { scope, type Tensor } from '../tensor/index.js';
import { Module, type Tracer } from './module.js';

/** Children ('0', '1', …) run in order, each on the previous one's output (torch.nn.Sequential). */
export class Sequential extends Module {
  #layers: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  /** A Sequential whose children have the given names (as `add_module(name, m)` in PyTorch). */
  static named(entries: [string, Module][]): Sequential {
    const s = new Sequential();
    for (const [n, m] of entries) s.append(m, n);
    return s;
  }

  /** Adds a layer at the end under `name` (default: its index). Returns this. */
  append(layer: Module, name: string = String(this.#layers.length)): this {
    this.registerModule(name, layer);
    this.#layers.push(layer);
    return this;
  }

  /** The i-th layer (negative counts from the end). */
  at(i: number): Module {
    const l = this.#layers[i < 0 ? i + this.#layers.length : i];
    if (l === undefined) throw new RangeError(`Sequential.at(${i}): index out of range for ${this.#layers.length} layers`);
    return l;
  }

  get length(): number {
    return this.#layers.length;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }

  /** Runs the layers in order; intermediate outputs are released as soon as the next layer has consumed them. */
  forward(x: Tensor): Tensor {
    return scope(() => {
      let h = x;
      for (const l of this.#layers) {
        const next = l.forward(h);
        if (h !== x && h !== next) h.dispose();
        h = next;
      }
      return h;
    });
  }

  override traceShape(input: number[], tracer: Tracer): number[] {
    let s = input;
    for (const l of this.#layers) s = tracer.run(l, s);
    return s;
  }
}

/** Indexed children ('0', '1', …) without a forward of their own (torch.nn.ModuleList). */
export class ModuleList<M extends Module<any, any> = Module> extends Module<[never], never> {
  #items: M[] = [];

  constructor(items: M[] = []) {
    super();
    for (const m of items) this.append(m);
  }
  append(m: M): this {
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }
  at(i: number): M {
    const m = this.#items[i < 0 ? i + this.#items.length : i];
    if (m === undefined) throw new RangeError(`ModuleList.at(${i}): index out of range for ${this.#items.length} modules`);
    return m;
  }
  get length(): number {
    return this.#items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
  forward(): never {
    throw new Error('ModuleList has no forward(); call its items');
  }
}
