/** Sequential (torch.nn.Sequential): children named '0', '1', … run in order. */
import { scope, type Tensor } from '../tensor/index.js';
import { Module, type Tracer } from './module.js';

export class Sequential extends Module {
  #layers: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  /** Adds a layer at the end under the next index. Returns this. */
  append(layer: Module): this {
    this.registerModule(String(this.#layers.length), layer);
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
