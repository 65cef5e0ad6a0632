// ecacface export --onnx, run as a user would (node dist/lib/cli/main.js; `npm test` builds dist
// first through scripts/setup.sh), and the ONNX file used by embed / compare.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../lib/data/codec.js';
import { exportModel, manualSeed } from '../../lib/index.js';
import { readOnnxModel } from '../../lib/onnx/read.js';
import { calibratedNet, smallSpec } from '../onnx/helpers.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'ecf-export-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string } {
  expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json' (npm test does it)`).toBe(true);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  // a training run's layout: <run>/model-best/{model.json, model.safetensors}
  manualSeed(5);
  const net = calibratedNet(smallSpec('mobilefacenet', 'esca'));
  exportModel(net, join(work, 'run/model-best'), { threshold: { distance: 1.2, cosine: 0.4, source: 'manual' } });
  net.dispose();
  for (const i of [0, 1]) writeFileSync(join(work, `face${i}.png`), encodePng(new Uint8Array(48 * 48 * 3).map((_, j) => (j * (7 + i * 6)) % 251), 48, 48));
});

describe('ecacface export --onnx', () => {
  it("writes a training run's best model beside its model.json and checks it in ONNX Runtime", () => {
    const r = run('export', '--onnx', 'run');
    expect(r.code, r.err).toBe(0);
    const out = join(work, 'run/model-best/model.onnx');
    expect(r.out).toContain(`ecacface export: ${out} (mobilefacenet-esca, attention esca, opset 17, IR version 8,`);
    expect(r.out).toMatch(/input {2}'input' {5}float32 \[batch, 3, 48, 48\], RGB, \(pixel\/255 − mean\)\/std, mean 0\.5\/0\.5\/0\.5, std 0\.5\/0\.5\/0\.5/);
    expect(r.out).toMatch(/output 'embedding' float32 \[batch, 32\], raw: L2-normalise .*; same person when cosine > 0\.4000/);
    const checked = /checked with onnxruntime-node 1\.\d+\.\d+: max \|ONNX Runtime − libtorch\| = ([0-9.e+-]+) on 2 random images/.exec(r.out);
    expect(checked, r.out).not.toBeNull();
    expect(Number(checked![1])).toBeLessThan(1e-4);
    expect(readOnnxModel(out).card.threshold?.cosine).toBe(0.4);
  });

  it('refuses to replace a file without --overwrite; --out, --opset, --batch and --external-data', () => {
    const again = run('export', '--onnx', 'run');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/model-best\/model\.onnx exists; pass --overwrite to replace it/);
    const r = run('export', '--onnx', 'run/model-best', '--out', 'b4.onnx', '--opset', '11', '--batch', '4', '--external-data');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/b4\.onnx \(mobilefacenet-esca, attention esca, opset 11, IR version 6,/);
    expect(r.out).toContain(`weights in external data: ${join(work, 'b4.onnx.data')}`);
    expect(r.out).toMatch(/float32 \[4, 3, 48, 48\]/);
    expect(r.out).toMatch(/checked with onnxruntime-node/);
    expect(readOnnxModel(join(work, 'b4.onnx')).input.shape).toEqual([4, 3, 48, 48]);
    expect(readFileSync(join(work, 'b4.onnx.data')).length).toBeGreaterThan(100_000);
  });

  it('says what is wrong with its arguments', () => {
    expect(run('export', '--onnx', 'run', '--out', 'x.txt').err).toMatch(/--out must name a \.onnx file, got 'x\.txt'/);
    expect(run('export', '--onnx', 'run', '--out', 'y.onnx', '--opset', '5').err).toMatch(/--opset must be an integer in \[7, 21\], got '5'/);
    expect(run('export', '--onnx', 'nowhere').err).toMatch(/'nowhere' does not exist/);
    expect(run('export', '--onnx', 'b4.onnx', '--out', 'z.onnx').err).toMatch(/is an ONNX model already/);
  });

  it('embed and compare take the ONNX file as --model and give what the libtorch model gives', () => {
    const viaOnnx = run('embed', '-m', 'run/model-best/model.onnx', 'face0.png', 'face1.png');
    const viaTorch = run('embed', '-m', 'run', 'face0.png', 'face1.png');
    expect(viaOnnx.code, viaOnnx.err).toBe(0);
    const a = JSON.parse(viaOnnx.out) as { embedding: number[] }[];
    const b = JSON.parse(viaTorch.out) as { embedding: number[] }[];
    for (let i = 0; i < 2; i++) a[i]!.embedding.forEach((v, j) => expect(Math.abs(v - b[i]!.embedding[j]!)).toBeLessThanOrEqual(1e-5));
    const c = run('compare', '-m', 'run/model-best/model.onnx', 'face0.png', 'face1.png');
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/cosine/);
  });
});
