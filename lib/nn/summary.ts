/**
 * `summary()`: a per-layer table of output shapes, parameters and MACs, computed analytically
 * from shapes (no forward pass). MAC rule (the paper's tables): only Conv1d/Conv2d/Linear count,
 * MAC(conv) = H_out·W_out·C_out·(C_in/groups)·k_h·k_w, MAC(linear) = in·out, for every call
 * (a layer called twice — CBAM's shared MLP — counts twice); BN, activations, pooling and
 * element-wise products count 0.
 */
import type { Module, Tracer } from './module.js';

/** One leaf-layer call in forward order. */
export interface SummaryRow {
  /** Dotted name from the root ('' for the root itself). */
  name: string;
  /** Class and configuration. */
  layer: string;
  outputShape: number[];
  /** Parameters of this layer (0 on a repeated call of a shared layer). */
  params: number;
  macs: number;
}

/** The totals of {@link profile}. */
export interface SummaryTotals {
  /** Input shape traced (batch included). */
  inputShape: number[];
  outputShape: number[];
  /** Trainable parameters of the whole module (`numParameters()`). */
  params: number;
  /** Multiply-accumulates for the traced input (batch 1 → per image). */
  macs: number;
  rows: SummaryRow[];
}

/** Traces `module` on an input of `inputShape` (default one 112×112 RGB image) and returns totals and rows. */
export function profile(module: Module<any, any>, inputShape: number[] = [1, 3, 112, 112]): SummaryTotals {
  const names = new Map<Module<any, any>, string>();
  for (const [n, m] of module.namedModules()) if (!names.has(m)) names.set(m, n);
  const rows: SummaryRow[] = [];
  const counted = new Set<Module<any, any>>();
  const tracer: Tracer = {
    run(child, input) {
      const out = child.traceShape(input, tracer);
      if (child.children().length === 0) {
        const first = !counted.has(child);
        counted.add(child);
        const extra = child.extraRepr();
        rows.push({
          name: names.get(child) ?? '?',
          layer: extra === '' ? child.constructor.name : `${child.constructor.name}(${extra})`,
          outputShape: out,
          params: first ? child.numParameters() : 0,
          macs: child.macs(input, out),
        });
      }
      return out;
    },
  };
  const outputShape = tracer.run(module, inputShape);
  return {
    inputShape: inputShape.slice(),
    outputShape,
    params: module.numParameters(),
    macs: rows.reduce((a, r) => a + r.macs, 0),
    rows,
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Prints (unless `print: false`) and returns a table: layer name, type, output shape, params,
 * MACs, then the totals.
 */
export function summary(
  module: Module<any, any>,
  inputShape: number[] = [1, 3, 112, 112],
  options: { print?: boolean } = {},
): string {
  const p = profile(module, inputShape);
  const head = ['name', 'layer', 'output shape', 'params', 'MACs'];
  const body = p.rows.map((r) => [r.name, r.layer, `[${r.outputShape.join(', ')}]`, fmt(r.params), fmt(r.macs)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const sep = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const text = [
    `${module.constructor.name} on input [${p.inputShape.join(', ')}]`,
    line(head),
    sep,
    ...body.map(line),
    sep,
    `output shape: [${p.outputShape.join(', ')}]`,
    `params: ${fmt(p.params)} (trainable)`,
    `MACs: ${fmt(p.macs)} (Conv/Linear, input as given)`,
  ].join('\n');
  if (options.print ?? true) console.log(text);
  return text;
}
