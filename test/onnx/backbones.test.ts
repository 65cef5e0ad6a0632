// Every backbone × every attention kind, exported to ONNX and run by ONNX Runtime twice over:
// onnxruntime-node here, then Python's onnx.checker (full check) and onnxruntime on the same files.
// Both must give our eval-mode embeddings to ≤ 1e-5 (float32). The nets are the presets' block
// counts at small widths and a 48×48 input (test/onnx/helpers.ts), with calibrated BatchNorm
// statistics so that the embeddings are O(1) and 1e-5 is a real bound.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, getNumThreads, manualSeed, models, randn, setNumThreads } from '../../lib/index.js';
import { ATTENTION_KINDS } from '../../lib/nn/attention/kinds.js';
import { decodeModel } from '../../lib/onnx/proto.js';
import { calibratedNet, maxAbsDiff, onnxVenv, ours, root, smallSpec, SIZE } from './helpers.js';

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
const manifest: { model: string; input: string; expected: string; shape: number[] }[] = [];

/** The standard operators an exported graph may use (all in the default domain). */
const STANDARD_OPS = new Set([
  'Conv', 'BatchNormalization', 'PRelu', 'Relu', 'Sigmoid', 'Add', 'Mul', 'Sub', 'Div', 'Exp', 'Sqrt', 'Max', 'Sum',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Concat', 'Reshape', 'Flatten', 'Gemm',
  'ReduceMean', 'ReduceMax', 'ReduceSum', 'ReduceSumSquare',
]);

describe('ONNX export of every backbone × attention, run by onnxruntime-node', () => {
  for (const arch of models.ARCHS) {
    describe(arch, () => {
      for (const attention of ATTENTION_KINDS) {
        it(`${arch} + ${attention}: ORT's embeddings equal ours to ≤ 1e-5`, async () => {
          manualSeed(23);
          const net = calibratedNet(smallSpec(arch, attention));
          try {
            const path = join(work, `${arch}-${attention}.onnx`);
            const r = exportOnnx(net, path);
            expect(r.opset).toBe(17);
            expect(r.dataPath).toBeNull();
            // every parameter and buffer but num_batches_tracked is a weight of the graph
            const stateTensors = [...net.stateDict().keys()].filter((k) => !k.endsWith('num_batches_tracked'));
            expect(r.weights).toBe(stateTensors.length);

            const x = randn([3, 3, SIZE, SIZE]); // batch 3: not the export's nominal 1
            const want = ours(net, x);
            const input = x.toTypedArray() as Float32Array;
            x.dispose();
            const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
            try {
              const out = await session.run({ input: new ort.Tensor('float32', input, [3, 3, SIZE, SIZE]) });
              const got = out.embedding!;
              expect(got.dims).toEqual([3, 32]);
              const { diff, scale } = maxAbsDiff(got.data as Float32Array, want);
              measured.push({ name: `${arch} + ${attention}`, diff, scale });
              expect(diff, `max |ORT − ours| for ${arch} + ${attention} (max |ours| = ${scale})`).toBeLessThanOrEqual(1e-5);
              // a bound that means something: O(1) embeddings that differ between images
              expect(scale).toBeGreaterThan(0.1);
              expect(maxAbsDiff(want.subarray(0, 32), want.subarray(32, 64)).diff).toBeGreaterThan(0.01);
            } finally {
              await session.release();
            }
            writeFileSync(`${path}.input`, input);
            writeFileSync(`${path}.expected`, want);
            manifest.push({ model: path, input: `${path}.input`, expected: `${path}.expected`, shape: [3, 3, SIZE, SIZE] });
          } finally {
            net.dispose();
          }
        });
      }
    });
  }
});

describe("Python's onnx.checker (full check) and onnxruntime on the same files", () => {
  const venv = onnxVenv();
  const reason = 'reason' in venv ? venv.reason : '';
  // CI makes the venv (pip's mirror is there); elsewhere a machine without it skips, saying why
  it.skipIf(reason !== '' && !process.env.CI)(`accept every file and agree with our embeddings${reason ? ` (skipped: ${reason})` : ''}`, () => {
    expect(reason, 'the Python venv with onnx and onnxruntime').toBe('');
    expect(manifest.length, 'the exports of the tests above').toBe(models.ARCHS.length * ATTENTION_KINDS.length);
    const list = join(work, 'manifest.json');
    writeFileSync(list, JSON.stringify(manifest));
    const py = spawnSync((venv as { python: string }).python, [join(root, 'test/onnx/check_onnx.py'), list], { encoding: 'utf8', timeout: 600_000 });
    expect(py.status, py.stderr).toBe(0);
    const results = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results).toHaveLength(manifest.length);
    for (const r of results) {
      expect(r.error, String(r.model)).toBeUndefined();
      expect(r.checker, String(r.model)).toBe('ok');
      expect(r.domains, String(r.model)).toEqual(['']);
      expect(r.opset).toEqual([17]);
      expect(r.embeddingSize).toBe('32');
      expect(r.maxAbsDiff as number, String(r.model)).toBeLessThanOrEqual(1e-5);
    }
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
