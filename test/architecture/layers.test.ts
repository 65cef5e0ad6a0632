// The layer rule of docs/architecture.md, checked on lib/'s real import graph: every import goes to
// the importer's own folder or a lower level, and no files import each other in a circle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, layerViolations, levelsFromDoc, type ImportGraph } from './import-graph.js';

const repo = join(__dirname, '..', '..');
const levels = levelsFromDoc(readFileSync(join(repo, 'docs', 'architecture.md'), 'utf8'));
const graph = importGraph(join(repo, 'lib'));

describe('lib/ against docs/architecture.md', () => {
  it('the doc names a level for every layer, and every named layer exists', () => {
    expect(levels.size).toBeGreaterThan(10);
    const present = new Set([...graph.keys()].map((f) => (f.includes('/') ? f.split('/')[0]! : f)));
    expect([...levels.keys()].filter((l) => !present.has(l))).toEqual([]);
  });

  it('no import runs to a folder on the same or a higher level', () => {
    expect(layerViolations(graph, levels)).toEqual([]);
  });

  it('no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const g = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));
  const lv = new Map([
    ['tensor', 2],
    ['io', 3],
    ['data', 4],
    ['native.ts', 1],
  ]);

  it('an upward import, a sideways one and an unknown folder are reported; downward and own-folder ones are not', () => {
    const found = layerViolations(
      g({
        'tensor/a.ts': ['tensor/b.ts', 'native.ts'],
        'tensor/b.ts': ['data/x.ts'],
        'data/x.ts': ['io/y.ts', 'tensor/a.ts'],
        'io/y.ts': ['io/z.ts'],
        'io/z.ts': [],
        'onnx/w.ts': [],
      }),
      lv,
    );
    expect(found).toEqual(['tensor/b.ts (tensor, level 2) imports data/x.ts (data, level 4)', 'lib/onnx is in no row of docs/architecture.md\'s layer table']);
    expect(layerViolations(g({ 'io/y.ts': ['data/x.ts'], 'data/x.ts': [] }), new Map([...lv, ['data', 3]]))).toEqual([
      'io/y.ts (io, level 3) imports data/x.ts (data, level 3)',
    ]);
  });

  it('a cycle through several files and a self-import are found; a diamond is not a cycle', () => {
    expect(importCycles(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([['a', 'b', 'c']]);
    expect(importCycles(g({ a: ['a'] }))).toEqual([['a']]);
    expect(importCycles(g({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }))).toEqual([]);
  });

  it('the doc table is read as levels by folder', () => {
    const md = ['| level | layer | folder | holds |', '|---|---|---|---|', '| 1 | binding | `lib/native.ts` | x |', '| 2 | tensors | `lib/tensor/` | y |', '| ops | `native/ops/` | z |'].join('\n');
    expect([...levelsFromDoc(md)]).toEqual([
      ['native.ts', 1],
      ['tensor', 2],
    ]);
  });
});
