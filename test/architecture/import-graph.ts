// The import graph of lib/ and the two checks run on it (test/architecture/layers.test.ts): imports
// that go to a folder on the same or a higher level of docs/architecture.md's table, and cycles.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Files (paths relative to the root, `/`-separated) → the files they import. */
export type ImportGraph = Map<string, string[]>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The relative module a specifier names, as a `.ts` file that exists (ESM `./x.js` → `./x.ts`). */
function resolveSpecifier(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const p of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

/**
 * Every relative import, `export … from`, `import type` and dynamic `import()` of the `.ts` files
 * under `root`, read with TypeScript's own pre-processor (no type check). Imports that leave `root`
 * (packages, node:) are not edges.
 */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const rel = (p: string): string => relative(root, p).split(sep).join('/');
  for (const file of tsFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => {
        const target = resolveSpecifier(file, s);
        if (!target) throw new Error(`${rel(file)}: import '${s}' names no file`);
        return target;
      })
      .filter((p) => !relative(root, p).startsWith('..'))
      .map(rel);
    graph.set(rel(file), [...new Set(targets)]);
  }
  return graph;
}

/** The layer of a file: its top folder (`tensor`), or the file itself at the top (`native.ts`). */
export function layerOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length ? first! : file;
}

/**
 * The levels of docs/architecture.md's layer table: rows `| level | layer | \`lib/…\` | … |`.
 * Keys as {@link layerOf} names them.
 */
export function levelsFromDoc(markdown: string): Map<string, number> {
  const levels = new Map<string, number>();
  for (const m of markdown.matchAll(/^\|\s*(\d+)\s*\|[^|]*\|\s*`lib\/([^`]+)`\s*\|/gm)) {
    levels.set(m[2]!.replace(/\/$/, ''), Number(m[1]));
  }
  return levels;
}

/** Imports that do not go to the importer's own folder or a lower level, and files of no known layer. */
export function layerViolations(graph: ImportGraph, levels: Map<string, number>): string[] {
  const out: string[] = [];
  const unknown = new Set<string>();
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    const la = levels.get(a);
    if (la === undefined) {
      unknown.add(a);
      continue;
    }
    for (const to of targets) {
      const b = layerOf(to);
      if (a === b) continue;
      const lb = levels.get(b);
      if (lb === undefined) unknown.add(b);
      else if (lb >= la) out.push(`${from} (${a}, level ${la}) imports ${to} (${b}, level ${lb})`);
    }
  }
  for (const u of unknown) out.push(`lib/${u} is in no row of docs/architecture.md's layer table`);
  return out;
}

/** The import cycles: strongly connected components of more than one file, or a file importing itself. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative (no recursion depth limit on long chains).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.v) ?? [];
      if (top.i < edges.length) {
        const w = edges[top.i++]!;
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) === index.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        if (scc.length > 1 || edges.includes(top.v)) cycles.push(scc.sort());
      }
    }
  }
  return cycles;
}
