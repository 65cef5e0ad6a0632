/**
 * The ONNX emitters: one function per module class writes that module's eval-mode forward as
 * ONNX nodes, calling back for its children. The module tree built from a backbone spec is walked
 * from the root, so the graph has the backbone's structure and the weights keep their state-dict
 * names (`body.3.res_layer.1.weight`). A module class without an emitter stops the export with
 * its name and path (docs/interop.md, "What does not export").
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/index.js';
import type { OnnxGraph } from './graph.js';

/** A value of the graph: its name and static shape (`shape[0]` is the batch, 1 here and symbolic in the file). */
export interface Value {
  name: string;
  shape: number[];
}

/** What an emitter gets besides its module and input. */
export interface EmitContext {
  g: OnnxGraph;
  /** Emits `child` (a descendant of the root) on `x`. */
  emit(child: Module<any, any>, x: Value): Value;
  /** The dotted path of a module from the root ('' for the root). */
  path(m: Module<any, any>): string;
  /** The initializer of the module's tensor `field` (`weight`, `running_mean`, …), named by its state-dict name. */
  tensor(m: Module<any, any>, t: Tensor, field: string, dims?: number[]): string;
}

/** Writes one module's forward on `x`; returns the output value. */
export type Emitter<M extends Module<any, any>> = (m: M, x: Value, cx: EmitContext) => Value;

/** A module class and its emitter. */
export type EmitterEntry = readonly [abstract new (...args: any[]) => Module<any, any>, Emitter<any>];

/**
 * Emits `root` on the graph input `x` with `entries` (a subclass's own entry wins over its base
 * class's); returns the graph output value.
 */
export function emitModule(g: OnnxGraph, root: Module<any, any>, x: Value, entries: readonly EmitterEntry[]): Value {
  const table = new Map<unknown, Emitter<any>>(entries);
  const paths = new Map<Module<any, any>, string>();
  for (const [p, m] of root.namedModules()) if (!paths.has(m)) paths.set(m, p);
  const path = (m: Module<any, any>): string => {
    const p = paths.get(m);
    if (p === undefined) throw new Error(`ONNX export: a ${m.constructor.name} that is not part of the model was used`);
    return p;
  };
  const find = (m: Module<any, any>): Emitter<any> | undefined => {
    for (let c: unknown = m.constructor; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      const e = table.get(c);
      if (e) return e;
    }
    return undefined;
  };
  const cx: EmitContext = {
    g,
    path,
    emit(child, input) {
      const e = find(child);
      if (!e) {
        const where = path(child);
        throw new Error(`ONNX export: ${child.constructor.name}${where ? ` at '${where}'` : ''} has no ONNX form (the exporter knows the layers, attention modules and backbones of the model specs; see docs/interop.md)`);
      }
      return e(child, input, cx);
    },
    tensor(m, t, field, dims) {
      const p = path(m);
      return g.weight(p ? `${p}.${field}` : field, t, dims);
    },
  };
  return cx.emit(root, x);
}

/** `at` for a node of module `m`: its path, or `model` for the root. */
export function at(cx: EmitContext, m: Module<any, any>): string {
  return cx.path(m) || 'model';
}
