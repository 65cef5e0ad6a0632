// Training promises (issue 17): Ctrl-C acted on after the current step, no checkpoint or export
// with a non-finite parameter or buffer, checkpoint metadata validated, stale temp files removed.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad } from '../../lib/tensor/index.js';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors } from '../../lib/io/safetensors.js';
import { readMetrics } from '../../lib/train/metrics.js';
import { validateConfig } from '../../lib/train/config.js';
import { ArraySource } from '../helpers/array-source.js';
import { NonFiniteError } from '../../lib/train/finite.js';
import type { TrainHooks } from '../../lib/train/hooks.js';
import { runTraining } from '../../lib/train/trainer.js';
import type { TrainComponents } from '../../lib/train/types.js';
import { TinyBackbone, TinyHead, tinyFaces } from './tiny.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-guards-'));
const data = tinyFaces(4, 12, 16);

function config(name: string, extra: Record<string, unknown> = {}) {
  return validateConfig(
    { backbone: 'mobilefacenet', imageSize: 16, data: { train: { type: 'recordio', path: root } }, batchSize: 8, epochs: 3, milestones: [2], lr: 0.05, logEvery: 1, outDir: root, name, seed: 3, threads: 1, ...extra },
    { checkFiles: true },
  );
}

function components(): TrainComponents {
  manualSeed(42);
  const backbone = new TinyBackbone();
  const head = new TinyHead(4);
  return { backbone, head, source: new ArraySource({ ...data, size: 16, batchSize: 8, seed: 3 }), backboneGroups: () => backbone.groups() };
}

const allFinite = (file: string): boolean => {
  const { tensors } = loadSafetensors(file);
  let ok = true;
  for (const t of tensors.values()) {
    if (t.dtype.startsWith('float') && t.numel > 0 && !(Number.isFinite(t.min().item()) && Number.isFinite(t.max().item()))) ok = false;
    t.dispose();
  }
  return ok;
};

describe('training guards', () => {
  it('Ctrl-C (SIGINT) during a run with prefetched batches stops after the current step', async () => {
    const hook: TrainHooks = {
      afterStep: (ctx) => {
        if (ctx.state.step === 2) process.kill(process.pid, 'SIGINT');
      },
    };
    const s = await runTraining(config('sigint'), components(), { hooks: [hook], handleSigint: true });
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBeGreaterThanOrEqual(2);
    expect(s.steps).toBeLessThanOrEqual(3); // of 18
    expect(existsSync(join(s.runDir, 'checkpoint.safetensors'))).toBe(true);
  });

  it('no checkpoint or export is written with an Inf buffer; the error names it; the last good checkpoint stays', async () => {
    const c = components();
    const hook: TrainHooks = {
      afterStep: (ctx) => {
        if (ctx.state.step === 3) noGrad(() => c.backbone.stateDict().get('bn.running_var')!.mul_(Infinity));
      },
    };
    const run = runTraining(config('nan', { checkpointEvery: 2 }), c, { hooks: [hook], handleSigint: false });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(run).rejects.toThrow(/backbone\.bn\.running_var holds NaN or infinite values at step 4.*checkpoint was not written/);
    const ckpt = join(root, 'nan', 'checkpoint.safetensors');
    expect(JSON.parse(loadSafetensors(ckpt).metadata.train!).step).toBe(2);
    expect(allFinite(ckpt)).toBe(true);
    expect(existsSync(join(root, 'nan', 'model-last'))).toBe(false);
  });

  it('checkpoint metadata is validated on resume (step 10^15, epoch 10^9, broken fields)', async () => {
    const s = await runTraining(config('meta', { epochs: 1, milestones: [] }), components(), { handleSigint: false });
    const ckpt = join(s.runDir, 'checkpoint.safetensors');
    const { tensors, metadata } = loadSafetensors(ckpt);
    const meta = JSON.parse(metadata.train!);
    const rewrite = (patch: (m: typeof meta) => void): void => {
      const m = structuredClone(meta);
      patch(m);
      saveSafetensors(ckpt, tensors, { ...metadata, train: JSON.stringify(m) });
    };
    rewrite((m) => (m.step = 1e15));
    await expect(runTraining(config('meta', { epochs: 1, milestones: [] }), components(), { resume: true, handleSigint: false })).rejects.toThrow(/cannot resume from .*step 1000000000000000 ≠ epoch 1 × 6 batches/);
    rewrite((m) => (m.position = { epoch: 1e9, batch: 0 }));
    await expect(runTraining(config('meta', { epochs: 1, milestones: [] }), components(), { resume: true, handleSigint: false })).rejects.toThrow(/epoch 1000000000 is beyond the run's 1 epochs/);
    rewrite((m) => Object.assign(m, { step: -1, lossScale: 'x', goodSteps: 1.5 }));
    await expect(runTraining(config('meta', { epochs: 1, milestones: [] }), components(), { resume: true, handleSigint: false })).rejects.toThrow(
      /invalid checkpoint metadata: step -1 is not a non-negative integer; lossScale "x" is not a positive number; goodSteps 1\.5/,
    );
    for (const t of tensors.values()) t.dispose();
  });

  it('resume refuses a checkpoint holding NaN/Inf (a run never saves one), naming the tensor, before restoring anything', async () => {
    const s = await runTraining(config('nonfinite', { epochs: 1, milestones: [] }), components(), { handleSigint: false });
    const ckpt = join(s.runDir, 'checkpoint.safetensors');
    const { tensors, metadata } = loadSafetensors(ckpt);
    noGrad(() => tensors.get('backbone.fc.weight')!.view([-1]).narrow(0, 3, 1).fill_(NaN));
    saveSafetensors(ckpt, tensors, metadata); // a well-formed file (its checksums match), with a NaN
    for (const t of tensors.values()) t.dispose();
    await expect(runTraining(config('nonfinite', { epochs: 2, milestones: [] }), components(), { resume: true, handleSigint: false })).rejects.toThrow(
      /cannot resume from .*nonfinite\/checkpoint\.safetensors: backbone\.fc\.weight holds NaN or infinite values; .*damaged/,
    );
  });

  it('a flipped bit in a checkpoint is found on resume by its recorded checksum', async () => {
    const s = await runTraining(config('flip', { epochs: 1, milestones: [] }), components(), { handleSigint: false });
    const ckpt = join(s.runDir, 'checkpoint.safetensors');
    const bytes = readFileSync(ckpt);
    const h = readSafetensorsHeader(ckpt);
    const w = h.tensors.get('backbone.fc.weight')!;
    bytes[h.dataStart + w.begin + 5]! ^= 0x01; // a mantissa bit: still a finite number
    writeFileSync(ckpt, bytes);
    await expect(runTraining(config('flip', { epochs: 2, milestones: [] }), components(), { resume: true, handleSigint: false })).rejects.toThrow(
      /flip\/checkpoint\.safetensors: tensor 'backbone\.fc\.weight': its bytes do not match the SHA-256 recorded when the file was written/,
    );
  });

  it('a torn last line of metrics.jsonl does not stop a resume: it is dropped with a message', async () => {
    const s = await runTraining(config('torn', { epochs: 1, milestones: [] }), components(), { handleSigint: false });
    const metrics = join(s.runDir, 'metrics.jsonl');
    appendFileSync(metrics, '{"type":"train","step":7,"ep');
    const messages: string[] = [];
    const r = await runTraining(config('torn', { epochs: 2, milestones: [] }), components(), { resume: true, handleSigint: false, onProgress: (e) => e.kind === 'message' && messages.push(e.text) });
    expect(r.steps).toBe(12);
    expect(messages.join('\n')).toMatch(/metrics\.jsonl:\d+: skipped a torn last line/);
    const lines = readFileSync(metrics, 'utf8').trimEnd().split('\n');
    expect(lines.every((l) => JSON.parse(l))).toBe(true); // strict: no torn line left
    expect(readMetrics(metrics).filter((x) => x.type === 'train').map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('temp files of a killed checkpoint write are removed at the next start of that run (a live writer\'s are kept)', async () => {
    const s = await runTraining(config('temps', { epochs: 1, milestones: [] }), components(), { handleSigint: false });
    let dead = 4_000_000;
    while (existsSync(`/proc/${dead}`)) dead++;
    const stale = join(s.runDir, `.checkpoint.safetensors.tmp-${dead}-1700000000000`);
    const staleExport = join(s.runDir, 'model-last', `.backbone.safetensors.tmp-${dead}-1700000000001`);
    const live = join(s.runDir, `.checkpoint.safetensors.tmp-${process.ppid}-1700000000002`);
    for (const f of [stale, staleExport, live]) writeFileSync(f, Buffer.alloc(1024));
    const messages: string[] = [];
    await runTraining(config('temps', { epochs: 2, milestones: [] }), components(), { resume: true, handleSigint: false, onProgress: (e) => e.kind === 'message' && messages.push(e.text) });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleExport)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(messages.join('\n')).toMatch(/removed 2 temporary file\(s\) of an interrupted write/);
  });
});
