import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../lib/data/codec.js';
import { loadModel, exportModel, type FaceModel } from '../../lib/eval/model.js';
import { loadBatch } from '../../lib/eval/images.js';
import { readSafetensorsHeader } from '../../lib/io/safetensors.js';
import { loadStateDict } from '../../lib/io/state-dict.js';
import { parseBackboneSpec } from '../../lib/models/index.js';

const dir = join(__dirname, '../fixtures/checkpoints');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  spec: unknown;
  spec_esca: unknown;
  keys: string[];
  tensors: Record<string, { dtype: string; shape: number[] }>;
  embeddings: number[][];
  embeddings_esca: number[][];
  embeddings_iresnet: number[][];
};
const faces = readFileSync(join(dir, 'faces.u8'));
const S = 112;
const face = (i: number): Uint8Array => faces.subarray(i * S * S * 3, (i + 1) * S * S * 3);
const tmp = mkdtempSync(join(tmpdir(), 'ecf-interop-'));

/** Raw (not normalised, no flip) embeddings of the two fixture faces. */
async function rawEmbeddings(m: FaceModel, images: (Uint8Array | string)[] = [face(0), face(1)]): Promise<number[][]> {
  const t = await m.embedRaw(images, { normalise: false, flip: false });
  const out = t.toArray() as number[][];
  t.dispose();
  return out;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

describe('PyTorch interop: import', () => {
  it('embeddings from an imported CurricularFace IR checkpoint equal PyTorch (≤ 1e-4)', async () => {
    const m = loadModel(join(dir, 'ir_tiny.pt'), { spec: parseBackboneSpec(expected.spec) });
    const e = await rawEmbeddings(m);
    expect(e[0]).toHaveLength(16);
    expect(maxAbsDiff(e, expected.embeddings)).toBeLessThanOrEqual(1e-4);
    m.dispose();
  });

  it("same through deflate entries and a DataParallel 'module.' prefix", async () => {
    const m = loadModel(join(dir, 'ir_tiny_module.pt'), { spec: parseBackboneSpec(expected.spec) });
    expect(maxAbsDiff(await rawEmbeddings(m), expected.embeddings)).toBeLessThanOrEqual(1e-4);
    m.dispose();
  });

  it('same for the IR with ESCA in every block (res_layer.5.ca / .sa)', async () => {
    const m = loadModel(join(dir, 'ir_tiny_esca.pt'), { spec: parseBackboneSpec(expected.spec_esca) });
    expect(maxAbsDiff(await rawEmbeddings(m), expected.embeddings_esca)).toBeLessThanOrEqual(1e-4);
    m.dispose();
  });

  it('an insightface iresnet checkpoint loads 1:1 into the insightface layout (spec read from the shapes) and equals PyTorch', async () => {
    const m = loadModel(join(dir, 'iresnet_tiny.pt'));
    expect(m.card.spec).toMatchObject({ block: 'iresnet', stem: { channels: 8 }, head: { embeddingSize: 16 } });
    expect((m.card.spec as { stages: unknown }).stages).toEqual([
      { channels: 8, blocks: 1 },
      { channels: 16, blocks: 2 },
      { channels: 16, blocks: 1 },
      { channels: 16, blocks: 1 },
    ]);
    expect(maxAbsDiff(await rawEmbeddings(m), expected.embeddings_iresnet)).toBeLessThanOrEqual(1e-4);
    // exported and loaded back with the same names
    const out = join(tmp, 'iresnet');
    exportModel(m.backbone, out);
    const h = readSafetensorsHeader(join(out, 'model.safetensors'));
    expect(h.tensors.has('layer2.1.bn2.running_var')).toBe(true);
    expect(h.tensors.has('features.weight')).toBe(true);
    const back = loadModel(out);
    expect(maxAbsDiff(await rawEmbeddings(back), expected.embeddings_iresnet)).toBeLessThanOrEqual(1e-4);
    // but it does not go into the CurricularFace layout
    expect(() => loadStateDict(join(dir, 'iresnet_tiny.pt'))).toThrow(/insightface iresnet checkpoint \(blocks per stage 1\/2\/1\/1\) does not map 1:1.*bn2/);
    m.dispose();
    back.dispose();
  });

  it('a checkpoint that does not fit the spec fails with the key problems named', () => {
    const wrong = parseBackboneSpec({ ...(expected.spec as object), head: { dropout: 0.4, embeddingSize: 8, bnAffine: false } });
    expect(() => loadModel(join(dir, 'ir_tiny.pt'), { spec: wrong })).toThrow(/ir_tiny.pt: .*output_layer.3.weight: expected \[8, 784\], got \[16, 784\]/);
    expect(() => loadModel(join(dir, 'ir_tiny.pt'))).toThrow(/pass \{ spec \}/);
  });
});

describe('export and inference', () => {
  it('exports safetensors with exactly the PyTorch state_dict names, shapes and dtypes, and loads back', async () => {
    const m = loadModel(join(dir, 'ir_tiny_esca.pt'), { spec: parseBackboneSpec(expected.spec_esca) });
    const out = join(tmp, 'esca');
    exportModel(m.backbone, out, { threshold: { distance: 1.2, cosine: 0.4, source: 'manual' } });
    const h = readSafetensorsHeader(join(out, 'model.safetensors'));
    const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { spec_esca: unknown };
    expect(want).toBeTruthy();
    // the ESCA checkpoint has the plain IR keys plus the attention convs
    for (const [k, e] of h.tensors) {
      if (expected.tensors[k]) expect(e.shape, k).toEqual(expected.tensors[k]!.shape);
    }
    const plainKeys = [...h.tensors.keys()].filter((k) => !/res_layer\.5\./.test(k)).sort();
    expect(plainKeys).toEqual([...expected.keys].sort());
    expect([...h.tensors.keys()].filter((k) => /res_layer\.5\./.test(k)).length).toBe(2 * 5);
    expect(h.tensors.get('body.0.res_layer.0.num_batches_tracked')!.dtype).toBe('int64');
    expect(JSON.parse(h.metadata['ecacface.card']!).threshold.distance).toBe(1.2);
    const back = loadModel(out);
    expect(maxAbsDiff(await rawEmbeddings(back), expected.embeddings_esca)).toBeLessThanOrEqual(1e-4);
    const alone = loadModel(join(out, 'model.safetensors'));
    expect(alone.card.spec).toEqual(back.card.spec);
    // compare(): same image vs other image at the card threshold
    const same = await back.compare(face(0), face(0));
    expect(same.cosine).toBeCloseTo(1, 6);
    expect(same.same).toBe(true);
    const other = await back.compare(face(0), face(1));
    expect(other.distance).toBeCloseTo(2 - 2 * other.cosine, 6);
    expect(other.same).toBe(other.distance < 1.2);
    for (const x of [m, back, alone]) x.dispose();
  });

  it('embed(): PNG bytes, file paths and raw faces give the same normalised embeddings', async () => {
    const m = loadModel(join(dir, 'ir_tiny.pt'), { spec: parseBackboneSpec(expected.spec) });
    const png0 = encodePng(face(0), S, S);
    const p1 = join(tmp, 'f1.png');
    writeFileSync(p1, encodePng(face(1), S, S));
    const a = await m.embed([face(0), { data: face(1), width: S, height: S }]);
    const b = await m.embed([png0, p1], { batchSize: 1 });
    expect(a).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      let n = 0;
      for (let j = 0; j < 16; j++) {
        expect(b[i]![j]).toBeCloseTo(a[i]![j]!, 6);
        n += a[i]![j]! ** 2;
      }
      expect(n).toBeCloseTo(1, 5);
    }
    // flip TTA (the card default) = normalise(f(x) + f(flip x))
    const x = await loadBatch([face(0)], { size: S, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const sum = m.forward(x, true);
    const s = sum.toTypedArray() as Float32Array;
    const norm = Math.hypot(...s);
    s.forEach((v, j) => expect(a[0]![j]).toBeCloseTo(v / norm, 6));
    for (const t of [x, sum]) t.dispose();
    await expect(m.embed([new Uint8Array(100)])).rejects.toThrow(/image 0: 100 bytes are neither a JPEG\/PNG file nor a raw 112×112×3 RGB face/);
    await expect(m.embed([join(tmp, 'missing.jpg')])).rejects.toThrow(/missing.jpg/);
    await expect(m.compare(face(0), face(1))).rejects.toThrow(/no calibrated threshold/);
    m.dispose();
  });
});

