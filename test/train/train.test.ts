/**
 * End to end on a tiny synthetic set in the real formats: synth → RecordIO + .bin → train() with
 * a small custom MobileFaceNet + ESCA spec and the CurricularFace head → validation, plots, export.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encodePng, openRecordIO, readBin } from '../../lib/data/index.js';
import { renderFace } from '../../lib/data/synth.js';
import { generateSynthDataset } from '../../lib/data/synth-files.js';
import { loadSafetensors as loadTensors } from '../../lib/io/safetensors.js';
import { readMetrics } from '../../lib/train/metrics.js';
import { train } from '../../lib/train/train.js';
import { evaluate } from '../../lib/eval/evaluate.js';
import { loadModel } from '../../lib/eval/model.js';
import { tinyEscaSpec as tinySpec } from './tiny.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-e2e-'));
const synth = { seed: 11, identities: 6, imagesPerIdentity: 8, valIdentities: 6, valPairs: 40, imageSize: 32, cacheDir: join(root, 'cache') };


describe('synthetic set in the real formats', () => {
  it('round-trips through RecordIO and .bin, and is cached', async () => {
    const d = await generateSynthDataset(synth);
    expect(d.cached).toBe(false);
    const ds = openRecordIO(d.dir);
    expect(ds.length).toBe(48);
    expect(ds.numClasses).toBe(6);
    const s = ds.read(9);
    expect(s.label).toBe(1);
    const img = decode(s.image);
    expect([img.width, img.height]).toEqual([32, 32]);
    ds.close();
    expect(d.bins.map((b) => b.name)).toEqual(['synth-val', 'synth-hard']);
    const bin = readBin(d.bins[0]!.path);
    expect(bin.images.length).toBe(80);
    expect(bin.issame.filter(Boolean).length).toBe(20);
    const again = await generateSynthDataset(synth);
    expect(again.cached).toBe(true);
    expect(again.dir).toBe(d.dir);
  });
});

describe('train() end to end', () => {
  it('trains MobileFaceNet + ESCA + CurricularFace, validates, plots and exports', async () => {
    const d = await generateSynthDataset(synth);
    const r = await train({
      backbone: 'mobilefacenet',
      attention: 'esca',
      backboneSpec: tinySpec,
      imageSize: 32,
      embeddingSize: 16,
      head: { type: 'curricularface', options: {} },
      data: { train: { type: 'recordio', path: d.rec }, val: [d.bins[0]!.path], workers: 1 },
      batchSize: 8,
      epochs: 2,
      stepsPerEpoch: 3,
      milestones: [1],
      lr: 0.05,
      logEvery: 1,
      threads: 1,
      valAtStart: true,
      outDir: root,
      name: 'e2e',
    });
    expect(r.steps).toBe(6);
    const recs = readMetrics(r.metricsPath);
    const train_ = recs.filter((x) => x.type === 'train');
    expect(train_.length).toBe(6);
    expect(train_.map((x) => (x.type === 'train' ? x.lr : 0))).toEqual([0.05, 0.05, 0.05, 0.05 * 0.1, 0.05 * 0.1, 0.05 * 0.1]);
    for (const x of train_) {
      if (x.type !== 'train') continue;
      expect(Number.isFinite(x.loss)).toBe(true);
      expect(x.t).toBeGreaterThanOrEqual(-1); // CurricularFace's t is logged
      expect(x.hardFraction).toBeGreaterThanOrEqual(0);
    }
    const val = recs.filter((x) => x.type === 'val');
    expect(val.length).toBe(3); // start + 2 epoch ends
    for (const v of val) if (v.type === 'val') expect(v.accuracy).toBeGreaterThan(0.2);
    expect(r.plots.some((p) => p.endsWith('loss.png'))).toBe(true);
    expect(r.plots.some((p) => p.endsWith('accuracy.svg'))).toBe(true);
    const png = readFileSync(r.plots.find((p) => p.endsWith('.png'))!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const card = JSON.parse(readFileSync(join(r.last.modelDir, 'model.json'), 'utf8'));
    expect(card.arch).toBe('mobilefacenet');
    expect(card.attention).toBe('esca');
    expect(card.validation.length).toBe(1);
    // the evaluation area loads the exported model as is and embeds with it
    const m = loadModel(r.best!.modelDir);
    expect(m.embeddingSize).toBe(16);
    // the trainer validates through the evaluation area's path: the same numbers from the export
    const [e] = await evaluate(m, [d.bins[0]!.path]);
    expect(e!.result.accuracy).toBe(r.best!.results[0]!.accuracy);
    expect(e!.result.bestThreshold).toBe(r.best!.results[0]!.threshold);
    m.dispose();
    const w = loadTensors(join(r.last.modelDir, 'model.safetensors'));
    expect([...w.tensors.keys()].some((k) => k.includes('attention.sa.conv.weight'))).toBe(true);
    for (const t of w.tensors.values()) t.dispose();
    expect(existsSync(join(r.runDir, 'checkpoint.safetensors'))).toBe(true);
    const ck = loadTensors(join(r.runDir, 'checkpoint.safetensors'));
    expect(ck.tensors.get('head.t')!.shape).toEqual([1]);
    for (const t of ck.tensors.values()) t.dispose();
  });

  it('trains from an image folder (root/<identity>/<image>.png) too', async () => {
    const dir = join(root, 'folder');
    for (let id = 0; id < 4; id++) {
      mkdirSync(join(dir, `person_${id}`), { recursive: true });
      for (let k = 0; k < 4; k++) writeFileSync(join(dir, `person_${id}`, `${k}.png`), encodePng(renderFace(3, 'train', id, k, 32), 32, 32));
    }
    const r = await train({
      backbone: 'mobilefacenet',
      backboneSpec: tinySpec,
      imageSize: 32,
      embeddingSize: 16,
      data: { train: { type: 'folder', path: dir }, workers: 1 },
      batchSize: 8,
      epochs: 1,
      milestones: [],
      threads: 1,
      logEvery: 1,
      outDir: root,
      name: 'folder-run',
    });
    expect(r.steps).toBe(2);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    // the same config and seed give the same run (initial weights included)
    const again = await train({ ...JSON.parse(readFileSync(join(r.runDir, 'config.json'), 'utf8')), name: 'folder-again' });
    const losses = (p: string) => readMetrics(p).map((x) => (x.type === 'train' ? x.loss : NaN));
    expect(losses(again.metricsPath)).toEqual(losses(r.metricsPath));
  });
});
