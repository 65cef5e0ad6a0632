import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../lib/data/codec.js';
import { drawSample, makeIdentity, renderSample, renderTemplate, Rng } from '../../lib/data/synth.js';
import { attentionMaps } from '../../lib/eval/attention.js';
import { exportModel, loadModel } from '../../lib/eval/model.js';
import { backboneSpec, buildBackbone } from '../../lib/models/index.js';
import { renderAttention, turbo, upsampleBilinear } from '../../lib/plot/attention.js';
import { manualSeed, noGrad } from '../../lib/tensor/index.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'attention-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A MobileFaceNet-ESCA export at 48 px whose BatchNorm scales are not the zero/one init (so gates vary). */
function model(attention: 'esca' | 'eca', dir: string): string {
  manualSeed(11);
  const net = buildBackbone({ ...backboneSpec({ arch: 'mobilefacenet', attention, embeddingSize: 32 }), inputSize: 48 });
  noGrad(() => {
    for (const [name, t] of net.stateDict()) if (/\.weight$/.test(name) && t.ndim === 1) t.uniform_(0.5, 1.5);
  });
  exportModel(net, dir, {});
  net.dispose();
  return dir;
}

function face(seed: number, file: string): string {
  const r = new Rng(seed);
  writeFileSync(file, encodePng(renderSample(renderTemplate(makeIdentity(seed), 48), drawSample(r, 0.2), 48, r), 48, 48));
  return file;
}

/** Width and height from a PNG's IHDR. */
const pngSize = (b: Buffer) => [b.readUInt32BE(16), b.readUInt32BE(20)];

describe('bilinear upsampling', () => {
  it("matches PyTorch's F.interpolate(mode='bilinear', align_corners=False)", () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode='bilinear')
    expect(Array.from(upsampleBilinear([0, 1, 2, 3], 2, 2, 4, 4))).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
    expect(Array.from(upsampleBilinear([5], 1, 1, 2, 3))).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('turbo runs from near black through blue, green and red to dark red', () => {
    const sum = (c: number[]) => c[0]! + c[1]! + c[2]!;
    expect(sum(turbo(0))).toBeLessThan(100);
    const blue = turbo(0.15);
    expect(blue[2]).toBeGreaterThan(Math.max(blue[0], blue[1]));
    const green = turbo(0.5);
    expect(green[1]).toBeGreaterThan(Math.max(green[0], green[2]));
    const red = turbo(0.85);
    expect(red[0]).toBeGreaterThan(Math.max(red[1], red[2]));
    expect(turbo(2)).toEqual(turbo(1));
  });
});

describe('ESCA attention maps', () => {
  it('gives per stage the last block’s spatial map and channel profile, different per face', async () => {
    const m = loadModel(model('esca', join(work, 'esca')));
    const faces = [face(1, join(work, 'a.png')), face(2, join(work, 'b.png'))];
    const [a, b] = await attentionMaps(m, faces);
    expect(a!.stages.map((s) => [s.stage, s.block, s.blocks, s.height, s.width, s.channel.length])).toEqual([
      [1, 'conv_3.model.3', 5, 12, 12, 64],
      [2, 'conv_4.model.5', 7, 6, 6, 128],
      [3, 'conv_5.model.1', 3, 3, 3, 128],
    ]);
    for (const s of a!.stages) {
      expect(s.spatial.length).toBe(s.height * s.width);
      expect(Math.min(...s.spatial)).toBeGreaterThan(0);
      expect(Math.max(...s.channel)).toBeLessThan(1);
    }
    expect(a!.face).toMatchObject({ width: 48, height: 48 });
    expect(Array.from(a!.stages[0]!.spatial)).not.toEqual(Array.from(b!.stages[0]!.spatial));
    // the same face alone gives the same maps (no batch coupling in eval mode)
    const [alone] = await attentionMaps(m, [faces[0]!]);
    alone!.stages.forEach((s, i) => s.spatial.forEach((v, k) => expect(v).toBeCloseTo(a!.stages[i]!.spatial[k]!, 5)));
    const pic = renderAttention(a!, { title: 'a.png', panel: 96 });
    expect(pic.svg).toContain('stage 3 (3×3)');
    expect(pngSize(pic.png)[0]).toBeGreaterThanOrEqual(720);
    m.dispose();
  });

  it('refuses a model without ESCA', async () => {
    const m = loadModel(model('eca', join(work, 'eca')));
    await expect(attentionMaps(m, [face(3, join(work, 'c.png'))])).rejects.toThrow(/no ESCA blocks/);
    m.dispose();
  });

  it('ecacface attention writes one PNG per face', () => {
    expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json'`).toBe(true);
    const r = spawnSync(process.execPath, [cli, 'attention', join(work, 'esca'), join(work, 'a.png'), join(work, 'b.png'), '--out', join(work, 'out')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a-attention\.png: stage 1 12×12 σ̄ 0\.\d\d, stage 2 6×6/);
    const png = readFileSync(join(work, 'out', 'b-attention.png'));
    expect(pngSize(png)[1]).toBeGreaterThan(400);
  });
});
