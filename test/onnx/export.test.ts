// exportOnnx and loadModel('x.onnx'): PyTorch's own embeddings through ONNX Runtime, the model
// card in metadata_props, photos with detection, files from elsewhere, and the errors.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, exportModel, exportOnnx, getNumThreads, loadModel, manualSeed, models, setNumThreads, type FaceModel } from '../../lib/index.js';
import { formatAccuracy } from '../../lib/eval/verification.js';
import { thresholdFromDistance } from '../../lib/io/model-card.js';
import { Module } from '../../lib/nn/module.js';
import { ReLU } from '../../lib/nn/activation.js';
import { Sequential } from '../../lib/nn/container.js';
import { emitModule } from '../../lib/onnx/emit.js';
import { OnnxGraph } from '../../lib/onnx/graph.js';
import { LAYER_EMITTERS } from '../../lib/onnx/layers.js';
import { decodeModel, encodeModel } from '../../lib/onnx/proto.js';
import { readOnnxModel } from '../../lib/onnx/read.js';
import { onnxRuntime } from '../../lib/onnx/runtime.js';
import type { Tensor } from '../../lib/tensor/index.js';
import { calibratedNet, smallSpec } from './helpers.js';

const fixtures = join(__dirname, '../fixtures');
const dir = join(fixtures, 'checkpoints');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, unknown> & { bin: { printed: string } };
const faces = readFileSync(join(dir, 'faces.u8'));
const S = 112;
const face = (i: number): Uint8Array => faces.subarray(i * S * S * 3, (i + 1) * S * S * 3);
const astronaut = join(fixtures, 'detect/astronaut.jpg');
/** Raw 48×48 RGB "faces" (noise) for the 48-pixel test model. */
const small = [1, 2, 3].map((seed) => {
  const b = new Uint8Array(48 * 48 * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < b.length; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
});

const work = mkdtempSync(join(tmpdir(), 'onnx-export-'));
const threads = getNumThreads();
beforeAll(() => setNumThreads(1));
afterAll(() => {
  setNumThreads(threads);
  rmSync(work, { recursive: true, force: true });
});

function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((row, i) => Array.from(row).forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

async function raw(m: FaceModel, images: Uint8Array[]): Promise<number[][]> {
  const t: Tensor = await m.embedRaw(images, { normalise: false, flip: false });
  const out = t.toArray() as number[][];
  t.dispose();
  return out;
}

describe("PyTorch's reference checkpoints, exported to ONNX, give PyTorch's embeddings in ONNX Runtime", () => {
  const cases: [string, string | null, string][] = [
    ['ir_tiny.pt', 'spec', 'embeddings'],
    ['ir_tiny_esca.pt', 'spec_esca', 'embeddings_esca'],
    ['iresnet_tiny.pt', null, 'embeddings_iresnet'], // insightface's layout, its spec read from the shapes
  ];
  for (const [file, specKey, embKey] of cases) {
    // raw embeddings up to ~34 here: the bound is 1e-5 of the largest (float32 carries ~7 digits)
    it(`${file}: within 1e-5 (relative to the largest value) of the embeddings PyTorch 1.13 computed (test/fixtures/make_checkpoints.py)`, async () => {
      const out = join(work, file.replace('.pt', '.onnx'));
      const r = exportOnnx(join(dir, file), out, specKey ? { spec: models.parseBackboneSpec(expected[specKey]) } : {});
      expect(r.path).toBe(out);
      const m = loadModel(out);
      try {
        expect(m.runtime).toBe('onnxruntime');
        const want = expected[embKey] as number[][];
        const scale = Math.max(...want.flat().map(Math.abs));
        expect(maxAbsDiff(await raw(m, [face(0), face(1)]), want)).toBeLessThanOrEqual(1e-5 * scale);
      } finally {
        m.dispose();
      }
    });
  }

  it('evaluate() runs the ONNX model through the verification protocol: the PyTorch + numpy reference to the printed digit', async () => {
    const m = loadModel(join(work, 'ir_tiny.onnx'));
    try {
      const [r] = await evaluate(m, join(dir, 'pairs_tiny.bin'), { batchSize: 16 });
      expect(formatAccuracy(r!.result)).toBe(expected.bin.printed);
    } finally {
      m.dispose();
    }
  });
});

describe('loadModel of an ONNX file', () => {
  const folder = join(work, 'mfn-esca');
  const onnxPath = join(work, 'mfn-esca.onnx');
  let torch: FaceModel;
  let onnx: FaceModel;
  beforeAll(() => {
    manualSeed(7);
    const net = calibratedNet(smallSpec('mobilefacenet', 'esca'));
    exportModel(net, folder, { threshold: thresholdFromDistance(1.3, 'manual'), validation: [{ set: 'lfw', accuracy: 0.5, std: 0.1, pairs: 6000 }], source: 'test' });
    net.dispose();
    exportOnnx(folder, onnxPath);
    torch = loadModel(folder);
    onnx = loadModel(onnxPath);
  });
  afterAll(() => {
    torch?.dispose();
    onnx?.dispose();
  });

  it("carries the model card in metadata_props, one entry per field: loadModel gets it back", () => {
    expect(onnx.card).toEqual({ ...torch.card, weights: 'mfn-esca.onnx' });
    const meta = new Map(decodeModel(readFileSync(onnxPath)).metadata_props!.map((e) => [e.key, e.value]));
    expect(meta.get('embeddingSize')).toBe('32');
    expect(JSON.parse(meta.get('input')!)).toEqual({ size: 48, channels: 3, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(meta.get('arch')).toBe('mobilefacenet-esca');
    expect(meta.get('attention')).toBe('esca');
    expect(JSON.parse(meta.get('threshold')!)).toEqual(thresholdFromDistance(1.3, 'manual'));
    expect(meta.has('weights')).toBe(false);
    const info = readOnnxModel(onnxPath);
    expect(info.input).toEqual({ name: 'input', shape: ['batch', 3, 48, 48] });
    expect(info.output).toEqual({ name: 'embedding', shape: ['batch', 32] });
    expect(info.fromMetadata).toBe(true);
  });

  it('embeds a photo with detection as loadModel of the model folder does (≤ 1e-5), and compares', async () => {
    const [a] = await torch.embed([astronaut], { detect: true });
    const [b] = await onnx.embed([astronaut], { detect: true });
    expect(maxAbsDiff([b!], [a!])).toBeLessThanOrEqual(1e-5);
    // flip TTA on and off, raw and normalised: the same numbers either way
    const plain = await Promise.all([torch, onnx].map((m) => m.embed(small, { flip: false })));
    expect(maxAbsDiff(plain[1]!, plain[0]!)).toBeLessThanOrEqual(1e-5);
    const [other] = await torch.embed([small[0]!]);
    const c1 = await torch.compare(astronaut, other!, { detect: true });
    const c2 = await onnx.compare(astronaut, other!, { detect: true });
    expect(Math.abs(c1.cosine - c2.cosine)).toBeLessThan(1e-5);
    expect(c2.threshold).toBe(1.3);
    expect(c2.same).toBe(c1.same);
  });

  it('a file with a fixed batch size runs batches of any size (the last one padded)', async () => {
    const fixed = join(work, 'mfn-esca-b2.onnx');
    exportOnnx(folder, fixed, { batch: 2 });
    expect(readOnnxModel(fixed).input.shape).toEqual([2, 3, 48, 48]);
    const m = loadModel(fixed);
    try {
      const images = small;
      expect(maxAbsDiff(await raw(m, images), await raw(torch, images))).toBeLessThanOrEqual(1e-5);
    } finally {
      m.dispose();
    }
  });

  it('a file without a model card (a model from elsewhere) loads with a card made from its shapes', async () => {
    const model = decodeModel(readFileSync(onnxPath));
    delete model.metadata_props;
    const bare = join(work, 'bare.onnx');
    writeFileSync(bare, encodeModel(model));
    const m = loadModel(bare);
    try {
      expect(m.card).toMatchObject({ arch: 'bare', embeddingSize: 32, flipTTA: true, input: { size: 48, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
      expect(m.card.threshold).toBeUndefined();
      expect(maxAbsDiff(await m.embed([small[1]!]), await torch.embed([small[1]!]))).toBeLessThanOrEqual(1e-5);
      await expect(m.compare(small[0]!, small[1]!)).rejects.toThrow(/no calibrated threshold/);
    } finally {
      m.dispose();
    }
  });

  it('names what does not apply to an ONNX model', () => {
    expect(() => onnx.backbone).toThrow(/is an ONNX model run by ONNX Runtime: it has no libtorch backbone/);
    expect(() => loadModel(onnxPath, { device: 'cuda' })).toThrow(/choose its execution providers with \{ onnxSessionOptions/);
    expect(() => loadModel(onnxPath, { spec: models.backboneSpec({ arch: 'ir18' }) })).toThrow(/is an ONNX model: its graph is the network, pass no spec/);
    const junk = join(work, 'junk.onnx');
    writeFileSync(junk, 'not a protobuf at all');
    expect(() => loadModel(junk)).toThrow(/junk\.onnx is not an ONNX model/);
  });

  it('without onnxruntime-node installed, says how to install it', () => {
    expect(() => onnxRuntime(`the ONNX model ${onnxPath}`, 'onnxruntime-node-not-installed')).toThrow(
      /the ONNX model .*mfn-esca\.onnx needs ONNX Runtime, an optional peer dependency that is not installed: npm install onnxruntime-node/,
    );
  });
});

describe('exportOnnx errors', () => {
  it('names a module that has no ONNX form, with its path', () => {
    class Swish extends Module {
      forward(x: Tensor): Tensor {
        return x.mul(x.sigmoid());
      }
    }
    const m = new Sequential(new ReLU(), new Swish());
    expect(() => emitModule(new OnnxGraph(17), m, { name: 'input', shape: [1, 3, 8, 8] }, LAYER_EMITTERS)).toThrow(/ONNX export: Swish at '1' has no ONNX form/);
    m.dispose();
  });

  it('refuses an ONNX source, a missing folder, a bad batch or threshold; a failed write leaves no file behind', () => {
    const net = models.buildBackbone(smallSpec('mobilefacenet', 'none'));
    try {
      expect(() => exportOnnx(join(work, 'mfn-esca.onnx'), join(work, 'again.onnx'))).toThrow(/is an ONNX model already/);
      expect(() => exportOnnx(net, join(work, 'no/such/folder/x.onnx'))).toThrow(/the folder of .* does not exist/);
      expect(() => exportOnnx(net, join(work, 'x.onnx'), { batch: 0 })).toThrow(/batch \('dynamic' or a number\) must be a positive integer, got 0/);
      expect(() => exportOnnx(net, join(work, 'x.onnx'), { externalDataThreshold: -1 })).toThrow(/externalDataThreshold \(bytes\) must be a finite number ≥ 0, got -1/);
      const blocked = join(work, 'blocked');
      mkdirSync(join(blocked, 'model.onnx'), { recursive: true }); // the output path is a folder
      expect(() => exportOnnx(net, join(blocked, 'model.onnx'), { externalDataThreshold: 0 })).toThrow(/model\.onnx' is a folder/);
      expect(readdirSync(blocked)).toEqual(['model.onnx']);
      expect(existsSync(join(blocked, 'model.onnx.data'))).toBe(false);
    } finally {
      net.dispose();
    }
  });
});
