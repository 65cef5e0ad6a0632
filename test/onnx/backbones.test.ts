// Every backbone × every attention kind, exported to ONNX and run by ONNX Runtime twice over:
// onnxruntime-node here, then Python's onnx.checker (full check) and onnxruntime on the same files.
// Both must give our eval-mode embeddings to ≤ 1e-5 (float32). The nets are the presets' block
// counts at small widths and a 48×48 input (test/onnx/helpers.ts), with calibrated BatchNorm
// statistics so that the embeddings are O(1) and 1e-5 is a real bound.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, getNumThreads, manualSeed, models, randn, setNumThreads, type OnnxExportOptions, type OnnxExportResult } from '../../lib/index.js';
import type { AttentionKind } from '../../lib/nn/attention/kinds.js';
import { MAX_OPSET, MIN_OPSET } from '../../lib/onnx/graph.js';
import { ATTENTION_KINDS } from '../../lib/nn/attention/kinds.js';
import { decodeModel } from '../../lib/onnx/proto.js';
import { calibratedNet, EMBEDDING, maxAbsDiff, onnxVenv, ours, root, smallSpec, SIZE } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'onnx-backbones-'));
// one intra-op thread for libtorch and ONNX Runtime: tiny nets, and a busy 2-core machine where
// spinning OpenMP threads make a forward pass tens of times slower
const threads = getNumThreads();
beforeAll(() => setNumThreads(1));
/** max |ORT − ours| and max |ours| per export, printed at the end (the numbers behind the bound). */
const measured: { name: string; diff: number; scale: number }[] = [];
afterAll(() => {
  if (measured.length) {
    const worst = measured.reduce((a, b) => (b.diff > a.diff ? b : a));
    console.log(`onnxruntime-node vs ours over ${measured.length} exports: max |Δ| ${worst.diff.toExponential(2)} (${worst.name}, max |embedding| ${worst.scale.toFixed(2)}); median ${measured.map((m) => m.diff).sort((a, b) => a - b)[measured.length >> 1]!.toExponential(2)}`);
  }
  setNumThreads(threads);
  rmSync(work, { recursive: true, force: true });
});

/** What the Python check reads: model, input batch and our embeddings (raw float32 files). */
const manifest: { model: string; input: string; expected: string; shape: number[]; opset: number }[] = [];

/** The standard operators an exported graph may use (all in the default domain). */
const STANDARD_OPS = new Set([
  'Conv', 'BatchNormalization', 'PRelu', 'Relu', 'Sigmoid', 'Add', 'Mul', 'Sub', 'Div', 'Exp', 'Sqrt', 'Max', 'Sum',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Concat', 'Reshape', 'Flatten', 'Gemm',
  'ReduceMean', 'ReduceMax', 'ReduceSum', 'ReduceSumSquare',
]);

/**
 * Exports a calibrated small `arch` + `attention` with `options`, runs batch 3 through
 * onnxruntime-node and checks it against our eval-mode forward; records the file for the Python check.
 */
async function exportAndRun(arch: models.Arch, attention: AttentionKind, name: string, options: OnnxExportOptions = {}): Promise<OnnxExportResult> {
  manualSeed(23);
  const net = calibratedNet(smallSpec(arch, attention));
  try {
    const path = join(work, `${name}.onnx`);
    const r = exportOnnx(net, path, options);
    // every parameter and buffer but num_batches_tracked is a weight of the graph
    expect(r.weights).toBe([...net.stateDict().keys()].filter((k) => !k.endsWith('num_batches_tracked')).length);
    const x = randn([3, 3, SIZE, SIZE]); // batch 3: not the export's nominal 1
    const want = ours(net, x);
    const input = x.toTypedArray() as Float32Array;
    x.dispose();
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const out = await session.run({ input: new ort.Tensor('float32', input, [3, 3, SIZE, SIZE]) });
      const got = out.embedding!;
      expect(got.dims).toEqual([3, EMBEDDING]);
      const { diff, scale } = maxAbsDiff(got.data as Float32Array, want);
      measured.push({ name, diff, scale });
      expect(diff, `max |ORT − ours| for ${name} (max |ours| = ${scale})`).toBeLessThanOrEqual(1e-5);
      // a bound that means something: O(1) embeddings that differ between images
      expect(scale).toBeGreaterThan(0.1);
      expect(maxAbsDiff(want.subarray(0, EMBEDDING), want.subarray(EMBEDDING, 2 * EMBEDDING)).diff).toBeGreaterThan(0.01);
    } finally {
      await session.release();
    }
    writeFileSync(`${path}.input`, input);
    writeFileSync(`${path}.expected`, want);
    manifest.push({ model: path, input: `${path}.input`, expected: `${path}.expected`, shape: [3, 3, SIZE, SIZE], opset: r.opset });
    return r;
  } finally {
    net.dispose();
  }
}

describe('ONNX export of every backbone × attention, run by onnxruntime-node', () => {
  for (const arch of models.ARCHS) {
    describe(arch, () => {
      for (const attention of ATTENTION_KINDS) {
        it(`${arch} + ${attention}: ORT's embeddings equal ours to ≤ 1e-5`, async () => {
          const r = await exportAndRun(arch, attention, `${arch}-${attention}`);
          expect(r.opset).toBe(17);
          expect(r.irVersion).toBe(8);
          expect(r.dataPath).toBeNull();
        });
      }
    });
  }
});

describe('other opsets: the forms that differ (Reduce axes, Gemm without bias, IR 3 initializers as inputs)', () => {
  // CBAM (ReduceMax/ReduceMean), SGE (ReduceSum/ReduceMean/ReduceSumSquare), MobileFaceNet's
  // bias-free Linear, IR's non-affine BatchNorm1d, SK's written-out softmax, BAM's BatchNorm1d
  const cases: [models.Arch, AttentionKind][] = [['mobilefacenet', 'cbam'], ['mobilefacenet', 'sge'], ['ir18', 'sk'], ['ir18', 'bam']];
  for (const opset of [MIN_OPSET, 9, 11, 13, 18, MAX_OPSET]) {
    it(`opset ${opset}: ${cases.map((c) => c.join(' + ')).join(', ')}`, async () => {
      for (const [arch, attention] of cases) {
        const r = await exportAndRun(arch, attention, `${arch}-${attention}-opset${opset}`, { opset });
        expect(r.opset).toBe(opset);
      }
    });
  }
  it('refuses an opset outside the range, naming it', () => {
    const net = models.buildBackbone(smallSpec('mobilefacenet', 'none'));
    try {
      for (const opset of [MIN_OPSET - 1, MAX_OPSET + 1, 17.5]) {
        expect(() => exportOnnx(net, join(work, 'x.onnx'), { opset })).toThrow(new RegExp(`opset must be an integer in \\[${MIN_OPSET}, ${MAX_OPSET}\\], got ${opset}`));
      }
    } finally {
      net.dispose();
    }
  });
});

describe('external data (weights above the threshold; 2 GB by default)', () => {
  it('threshold 0: every tensor of 1 KiB or more in <file>.data, 4 KiB-aligned; ORT reads it', async () => {
    const r = await exportAndRun('ir50', 'esca', 'ir50-esca-external', { externalDataThreshold: 0 });
    expect(r.dataPath).toBe(join(work, 'ir50-esca-external.onnx.data'));
    const model = decodeModel(readFileSync(r.path));
    const external = model.graph.initializer.filter((t) => t.data_location === 1);
    const inline = model.graph.initializer.filter((t) => t.data_location !== 1 && t.data_type === 1);
    expect(external.length).toBeGreaterThan(0);
    let end = 0;
    for (const t of external) {
      const kv = new Map(t.external_data!.map((e) => [e.key, e.value]));
      expect(kv.get('location')).toBe('ir50-esca-external.onnx.data');
      const offset = Number(kv.get('offset'));
      const length = Number(kv.get('length'));
      expect(offset % 4096).toBe(0);
      expect(length).toBe(4 * t.dims.reduce((a, b) => a * b, 1));
      expect(length).toBeGreaterThanOrEqual(1024);
      expect(t.raw_data?.length ?? 0).toBe(0);
      end = Math.max(end, offset + length);
    }
    for (const t of inline) expect(t.raw_data!.length).toBeLessThan(1024);
    expect(statSync(r.dataPath!).size).toBe(end);
    // the model file holds the graph and the small tensors only
    expect(statSync(r.path).size).toBeLessThan(statSync(r.dataPath!).size / 10);
  });
});

describe("Python's onnx.checker (full check) and onnxruntime on the same files", () => {
  const venv = onnxVenv();
  const reason = 'reason' in venv ? venv.reason : '';
  // CI makes the venv (pip's mirror is there); elsewhere a machine without it skips, saying why
  it.skipIf(reason !== '' && !process.env.CI)(`accept every file and agree with our embeddings${reason ? ` (skipped: ${reason})` : ''}`, () => {
    expect(reason, 'the Python venv with onnx and onnxruntime').toBe('');
    expect(manifest.length, 'the exports of the tests above').toBe(models.ARCHS.length * ATTENTION_KINDS.length + 6 * 4 + 1);
    const list = join(work, 'manifest.json');
    writeFileSync(list, JSON.stringify(manifest));
    const py = spawnSync((venv as { python: string }).python, [join(root, 'test/onnx/check_onnx.py'), list], { encoding: 'utf8', timeout: 600_000 });
    expect(py.status, py.stderr).toBe(0);
    const results = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results).toHaveLength(manifest.length);
    results.forEach((r, i) => {
      expect(r.error, String(r.model)).toBeUndefined();
      expect(r.checker, String(r.model)).toBe('ok');
      expect(r.domains, String(r.model)).toEqual(['']);
      expect(r.opset).toEqual([manifest[i]!.opset]);
      expect(r.embeddingSize).toBe(String(EMBEDDING));
      expect(r.maxAbsDiff as number, String(r.model)).toBeLessThanOrEqual(1e-5);
    });
  });

  it('graphs use standard operators of the default domain only', () => {
    expect(manifest.length).toBeGreaterThan(0);
    for (const m of manifest) {
      const model = decodeModel(readFileSync(m.model));
      for (const n of model.graph.node) {
        expect(n.domain ?? '', `${m.model}: ${n.name}`).toBe('');
        expect(STANDARD_OPS.has(n.op_type), `${m.model}: ${n.op_type}`).toBe(true);
      }
    }
  });
});
