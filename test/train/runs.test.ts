/**
 * What a run leaves behind and how runs meet, as a user sees it through the CLI and train():
 * training.log, TensorBoard events (read back by an independent reader), LR/gate/ROC records and
 * plots, report.md, refusal to clobber a run, --overwrite, a run directory as a model, exit 130 on
 * Ctrl-C, and a resume whose first log line averages a whole window.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../lib/data/synth-files.js';
import { loadModel } from '../../lib/eval/model.js';
import { readMetrics, type LrRecord, type TrainRecord, type ValRecord } from '../../lib/train/metrics.js';
import { train } from '../../lib/train/train.js';
import { readEventsIndependently } from '../io/tfevents-reader.js';
import { tinyEscaSpec as tinySpec } from './tiny.js';

const repo = join(__dirname, '../..');
const cli = join(repo, 'dist/lib/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'ecf-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


let rec = '';
let bin = '';
const config = (name: string, extra: Record<string, unknown> = {}) => ({
  backbone: 'mobilefacenet',
  backboneSpec: tinySpec,
  imageSize: 32,
  embeddingSize: 16,
  data: { train: { type: 'recordio', path: rec }, val: [bin], workers: 0 },
  batchSize: 8,
  epochs: 2,
  milestones: [1],
  warmup: 3,
  stepsPerEpoch: 4,
  logEvery: 2,
  valAtStart: true,
  threads: 1,
  outDir: join(root, 'runs'),
  name,
  ...extra,
});

function cliRun(...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  const d = await generateSynthDataset({ seed: 5, identities: 8, imagesPerIdentity: 6, valIdentities: 8, valPairs: 40, imageSize: 32, outDir: join(root, 'data') });
  rec = d.rec;
  bin = d.bins[0]!.path;
  writeFileSync(join(root, 'tiny.json'), JSON.stringify(config('r1')));
}, 300_000);

describe('a CLI training run', () => {
  it('writes training.log, TensorBoard events, LR/gate/ROC records, plots and report.md', () => {
    expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json'`).toBe(true);
    const r = cliRun('train', '--config', 'tiny.json', '--plain');
    expect(r.code, r.out).toBe(0);
    const dir = join(root, 'runs', 'r1');
    expect(r.out).toContain(`report: ${join(dir, 'report.md')}`);

    // training.log: the console's lines, time-stamped
    const log = readFileSync(join(dir, 'training.log'), 'utf8').trimEnd().split('\n');
    expect(log.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /.test(l))).toBe(true);
    expect(log[0]).toMatch(/Z training in .*r1: 48 images, 8 identities, steps 0\/8$/);
    expect(log.filter((l) => / step \d\/8 epoch \d\/2 .*elapsed, ETA /.test(l))).toHaveLength(4);
    expect(log.filter((l) => / esca gates \(4 blocks\): channel σ̄ /.test(l))).toHaveLength(4);
    for (const l of log.filter((x) => / step \d\/8 /.test(x))) expect(r.out).toContain(l.slice(25));

    // metrics.jsonl: LR changes (warm-up steps 1–3, then 0.1, milestone at epoch 1), gates, ROC
    const m = readMetrics(join(dir, 'metrics.jsonl'));
    const lr = m.filter((x): x is LrRecord => x.type === 'lr');
    expect(lr.map((x) => [x.step, +x.lr.toFixed(6)])).toEqual([[1, 0.033333], [2, 0.066667], [3, 0.1], [5, 0.01]]);
    const tr = m.filter((x): x is TrainRecord => x.type === 'train');
    expect(tr.map((x) => x.step)).toEqual([2, 4, 6, 8]);
    expect(tr[0]!.gates!.map((g) => g.block)).toEqual(['conv_23', 'conv_3.model.0', 'conv_34', 'conv_45']);
    for (const g of tr.flatMap((x) => x.gates!)) {
      for (const k of ['channel', 'spatial'] as const) {
        expect(g[k].mean).toBeGreaterThan(0);
        expect(g[k].mean).toBeLessThan(1);
        expect(g[k].low + g[k].high).toBeLessThanOrEqual(1);
      }
    }
    const val = m.filter((x): x is ValRecord => x.type === 'val');
    expect(val.map((v) => v.step)).toEqual([0, 4, 8]);
    expect(val[0]!.roc!.fpr.length).toBeGreaterThan(2);

    // TensorBoard: decoded by a reader that is not ours, CRCs checked
    const files = readdirSync(join(dir, 'tensorboard'));
    expect(files).toHaveLength(1);
    const ev = readEventsIndependently(join(dir, 'tensorboard', files[0]!)).events;
    expect(ev[0]!.file_version).toBe('brain.Event:2');
    const scalar = (tag: string) => ev.filter((e) => e.scalars?.[tag] !== undefined).map((e) => [e.step, e.scalars![tag]!]);
    expect(scalar('train/loss')).toEqual(tr.map((x) => [x.step, Math.fround(x.loss)]));
    expect(scalar('train/lr').map((x) => x[0])).toEqual([2, 4, 6, 8]);
    expect(scalar('val/synth-val/accuracy')).toEqual(val.map((v) => [v.step, Math.fround(v.accuracy)]));
    expect(scalar('esca/conv_34/spatial_mean')).toEqual(tr.map((x) => [x.step, Math.fround(x.gates![2]!.spatial.mean)]));
    expect(scalar('esca/conv_23/channel_above_0.99')).toHaveLength(4);

    for (const f of ['lr.png', 'accuracy.png', 'roc-synth-val.png', 'loss.png']) expect(existsSync(join(dir, 'plots', f)), f).toBe(true);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/\| synth-val \| \d+\.\d\d ± \d+\.\d\d \|/);
    expect(report).toContain('`training.log`');
  });

  it('refuses to run again into the same directory, and --overwrite replaces it', () => {
    const dir = join(root, 'runs', 'r1');
    const best = join(dir, 'model-best', 'model.safetensors');
    const before = readFileSync(best);
    const mtime = statSync(best).mtimeMs;
    const again = cliRun('train', '--config', 'tiny.json', '--plain');
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/run directory .*r1 is not empty .*--resume.*--overwrite/s);
    expect(readFileSync(best).equals(before)).toBe(true);
    expect(statSync(best).mtimeMs).toBe(mtime);

    const over = cliRun('train', '--config', 'tiny.json', '--plain', '--overwrite');
    expect(over.code, over.out).toBe(0);
    const steps = readMetrics(join(dir, 'metrics.jsonl')).filter((x) => x.type === 'train').map((x) => x.step);
    expect(steps).toEqual([2, 4, 6, 8]); // not appended to the old run's lines
    expect(readdirSync(join(dir, 'tensorboard'))).toHaveLength(1);
  });

  it("name '..' is refused before anything is written, and --overwrite leaves the folder above outDir alone", () => {
    // issue 26 C: outDir=<sandbox>/runs, name=.. pointed the run (and --overwrite) at <sandbox>
    const sandbox = join(root, 'sandbox');
    mkdirSync(join(sandbox, 'plots'), { recursive: true });
    writeFileSync(join(sandbox, 'config.json'), '{"mine":true}');
    writeFileSync(join(sandbox, 'report.md'), '# mine');
    writeFileSync(join(sandbox, 'plots', 'a.svg'), '<svg/>');
    const r = cliRun('train', '--config', 'tiny.json', '--plain', '--set', `outDir=${join(sandbox, 'runs')}`, '--set', 'name=..', '--overwrite');
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/name.*not "\." or "\.\."/);
    expect(readdirSync(sandbox).sort()).toEqual(['config.json', 'plots', 'report.md']);
    expect(readFileSync(join(sandbox, 'config.json'), 'utf8')).toBe('{"mine":true}');
    expect(readdirSync(join(sandbox, 'plots'))).toEqual(['a.svg']);
  });

  it('a run directory is a model: loadModel and eval -m pick model-best, else model-last', () => {
    const dir = join(root, 'runs', 'r1');
    const a = loadModel(dir);
    const b = loadModel(join(dir, 'model-best'));
    expect(a.card).toEqual(b.card);
    a.dispose();
    b.dispose();
    const ev = cliRun('eval', '-m', dir, '--bin', bin, '--out', join(root, 'ev'), '--batch-size', '16');
    expect(ev.code, ev.out).toBe(0);
    expect(ev.out).not.toContain('\r');
    expect(ev.out).toMatch(/synth-val: 80\/80 {2}\[\d:\d\d elapsed, ETA 0:00\]/);
    rmSync(join(dir, 'model-best'), { recursive: true });
    const last = loadModel(dir);
    const lastRef = loadModel(join(dir, 'model-last'));
    expect(last.card).toEqual(lastRef.card);
    last.dispose();
    lastRef.dispose();
    rmSync(join(dir, 'model-last'), { recursive: true });
    expect(() => loadModel(dir)).toThrow(/no model\.json .* model-best\/ or model-last\//);
  });

  it('exits 130 on Ctrl-C after saving a checkpoint and writing report.md', async () => {
    writeFileSync(join(root, 'long.json'), JSON.stringify(config('r2', { epochs: 40, milestones: [30], logEvery: 1, valAtStart: false })));
    const child = spawn(process.execPath, [cli, 'train', '--config', 'long.json', '--plain'], { cwd: root });
    let out = '';
    const code = await new Promise<number | null>((res) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/step 2\/160/.test(out) && !child.killed) child.kill('SIGINT');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (c) => res(c));
    });
    expect(code, out).toBe(130);
    expect(out).toMatch(/interrupted: \d+ steps/);
    expect(out).toContain('resume with: ecacface train --resume');
    const dir = join(root, 'runs', 'r2');
    expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('Stopped by Ctrl-C');
    expect(readFileSync(join(dir, 'training.log'), 'utf8')).toMatch(/checkpoint \(interrupt\) at step \d+/);
  }, 200_000);
});

describe('resume', () => {
  it('continues the log window: the first line after a resume equals an uninterrupted run’s', async () => {
    const quiet = { handleSigint: false };
    const whole = await train(config('whole', { logEvery: 3, valAtStart: false }) as never, quiet);
    // stop after step 5 (mid-window: lines at 3, 4 = end of epoch 0, 6, 8), then resume
    await train(config('split', { logEvery: 3, valAtStart: false }) as never, {
      ...quiet,
      hooks: [{ afterStep: (ctx) => (ctx.state.step === 5 ? ctx.requestStop('test') : undefined) }],
    });
    await train(config('split', { logEvery: 3, valAtStart: false }) as never, { ...quiet, resume: true });
    const losses = (dir: string) =>
      readMetrics(join(dir, 'metrics.jsonl'))
        .filter((x): x is TrainRecord => x.type === 'train')
        .map((x) => [x.step, x.loss]);
    const a = losses(whole.runDir);
    const b = losses(join(root, 'runs', 'split'));
    expect(b.map((x) => x[0])).toEqual([3, 4, 6, 8]);
    expect(a.map((x) => x[0])).toEqual([3, 4, 6, 8]);
    expect(b).toEqual(a); // bit for bit on the CPU, window included
    const tb = readdirSync(join(root, 'runs', 'split', 'tensorboard')).sort();
    expect(tb).toHaveLength(2);
    const second = readEventsIndependently(join(root, 'runs', 'split', 'tensorboard', tb[1]!)).events;
    expect(second[1]).toMatchObject({ step: 6, session_status: 1 });
  }, 200_000);
});
