import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, memory } from '../../lib/tensor/index.js';
import { loadSafetensors as loadTensors } from '../../lib/io/safetensors.js';
import { validateConfig } from '../../lib/train/config.js';
import { readMetrics, type TrainRecord } from '../../lib/train/metrics.js';
import { ArraySource } from '../helpers/array-source.js';
import type { TrainHooks } from '../../lib/train/hooks.js';
import { DivergenceError, runTraining } from '../../lib/train/trainer.js';
import type { TrainComponents } from '../../lib/train/types.js';
import { TinyBackbone, TinyHead, tinyFaces } from './tiny.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-trainer-'));
const data = tinyFaces(4, 12, 16);

function config(name: string, extra: Record<string, unknown> = {}) {
  return validateConfig(
    {
      backbone: 'mobilefacenet',
      imageSize: 16,
      data: { train: { type: 'recordio', path: root } },
      batchSize: 8,
      epochs: 3,
      milestones: [2],
      lr: 0.05,
      logEvery: 1,
      outDir: root,
      name,
      seed: 3,
      threads: 1,
      ...extra,
    },
    { checkFiles: true },
  );
}

function components(): TrainComponents {
  manualSeed(42);
  const backbone = new TinyBackbone();
  const head = new TinyHead(4);
  const source = new ArraySource({ ...data, size: 16, batchSize: 8, seed: 3 });
  return {
    backbone,
    head,
    source,
    backboneGroups: () => backbone.groups(),
    validator: async () => [{ name: 'fake', accuracy: 0.5 + 0.01 * head.calls, std: 0 }],
  };
}

const losses = (dir: string) => (readMetrics(join(dir, 'metrics.jsonl')).filter((r) => r.type === 'train') as TrainRecord[]).map((r) => [r.step, r.loss]);

describe('runTraining', () => {
  it('trains end to end, keeps memory flat, writes metrics, checkpoint, best and last models', async () => {
    const c = components();
    const events: string[] = [];
    let tensorsAtStep2 = -1;
    let tensorsAtLast = -1;
    const s = await runTraining(config('full', { stepsPerEpoch: 0 }), c, {
      onProgress: (e) => {
        events.push(e.kind);
        if (e.kind === 'step' && e.step === 2) tensorsAtStep2 = memory().tensors;
        if (e.kind === 'step' && e.step === 5) tensorsAtLast = memory().tensors;
      },
    });
    expect(s.steps).toBe(3 * 6); // 48 images / 8 = 6 batches per epoch
    expect(tensorsAtLast).toBe(tensorsAtStep2);
    const ls = losses(s.runDir);
    expect(ls.length).toBe(18);
    expect(ls[ls.length - 1]![1]).toBeLessThan(ls[0]![1]!); // it learns the 4 identities
    const recs = readMetrics(s.metricsPath);
    const lr = (recs.filter((r) => r.type === 'train') as TrainRecord[]).map((r) => r.lr);
    expect(lr[0]).toBeCloseTo(0.05, 12);
    expect(lr[12]).toBeCloseTo(0.005, 12); // milestone at epoch 2
    expect(recs.filter((r) => r.type === 'val').length).toBe(3);
    expect(events).toContain('validation');
    expect(existsSync(join(s.runDir, 'config.json'))).toBe(true);
    expect(existsSync(join(s.last.modelDir, 'backbone.safetensors'))).toBe(true);
    expect(s.best?.step).toBe(18);
    const ck = loadTensors(s.last.checkpoint);
    expect([...ck.tensors.keys()]).toContain('head.t');
    expect([...ck.tensors.keys()]).toContain('optimizer.momentum.0');
    expect(JSON.parse(ck.metadata.train!).position).toEqual({ epoch: 3, batch: 0 });
    for (const t of ck.tensors.values()) t.dispose();
    // no temporary files left behind by the atomic writes
    expect(readdirSync(s.runDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    c.backbone.dispose();
    c.head.dispose();
  });

  it('resumes after an interrupt so that the losses equal an uninterrupted run', async () => {
    const a = components();
    const full = await runTraining(config('ref'), a, {});
    const ref = losses(full.runDir);

    const b = components();
    const ac = new AbortController();
    const warmUps: string[] = [];
    const onMessage = (e: { kind: string; text?: string }) => {
      if (e.kind === 'message' && e.text!.startsWith('warm-up:')) warmUps.push(e.text!);
    };
    const part = await runTraining(config('resumed'), b, {
      signal: ac.signal,
      onProgress: (e) => {
        onMessage(e);
        if (e.kind === 'step' && e.step === 8) ac.abort(); // mid-epoch 1
      },
    });
    expect(part.interrupted).toBe(true);
    expect(part.steps).toBe(8);
    const c = components(); // fresh weights: everything comes from the checkpoint
    const rest = await runTraining(config('resumed'), c, { resume: true, onProgress: onMessage });
    expect(rest.steps).toBe(18);
    // each process's first step is its warm-up, named once, out of the img/s (LogWindow)
    expect(warmUps).toHaveLength(2);
    expect(warmUps[0]).toMatch(/^warm-up: step 1 took \d+\.\d s \(first use: .*\); img\/s counts from step 2$/);
    expect(warmUps[1]).toMatch(/^warm-up: step 9 took \d+\.\d s .*img\/s counts from step 10$/);
    const got = losses(rest.runDir);
    expect(got.length).toBe(ref.length);
    got.forEach(([step, loss], i) => {
      expect(step).toBe(ref[i]![0]);
      expect(loss).toBe(ref[i]![1]); // bit-identical on CPU
    });
    for (const x of [a, b, c]) {
      x.backbone.dispose();
      x.head.dispose();
    }
  });

  it('stops on a NaN loss naming the step and keeps the last good checkpoint', async () => {
    const c = components();
    (c.head as TinyHead).nanAt = 8;
    const cfg = config('nan', { checkpointEvery: 4 });
    const err = await runTraining(cfg, c, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as Error).message).toMatch(/loss is NaN at step 9 \(epoch 1, 0-based\).*last good checkpoint is kept/s);
    const ck = loadTensors(join(root, 'nan', 'checkpoint.safetensors'));
    expect(JSON.parse(ck.metadata.train!).step).toBe(8); // the every-4 checkpoint of step 8, the last good one
    for (const t of ck.tensors.values()) t.dispose();
  });

  it('Ctrl-C (SIGINT) finishes the step, writes a checkpoint and resolves as interrupted', async () => {
    const c = components();
    const s = await runTraining(config('sigint'), c, {
      onProgress: (e) => {
        if (e.kind === 'step' && e.step === 3) process.emit('SIGINT', 'SIGINT');
      },
    });
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBe(3);
    expect(process.listenerCount('SIGINT')).toBe(0); // the handler is removed again
    const ck = loadTensors(s.last.checkpoint);
    expect(JSON.parse(ck.metadata.train!).position).toEqual({ epoch: 0, batch: 3 });
    for (const t of ck.tensors.values()) t.dispose();
    c.backbone.dispose();
    c.head.dispose();
  });

  it('stops at maxMinutes after validating and checkpointing', async () => {
    const c = components();
    const s = await runTraining(config('timed', { maxMinutes: 1e-6 }), c, {});
    expect(s.timeLimited).toBe(true);
    expect(s.steps).toBe(1);
    expect(s.validation.length).toBe(1);
    const ck = loadTensors(s.last.checkpoint);
    expect(JSON.parse(ck.metadata.train!).step).toBe(1);
    for (const t of ck.tensors.values()) t.dispose();
    c.backbone.dispose();
    c.head.dispose();
  });

  it('calls the hooks at their points; a hook can stop the run and refuse a save', async () => {
    const c = components();
    const calls: string[] = [];
    let backwardWithGrads = 0;
    const hooks: TrainHooks = {
      onStart: (ctx) => void calls.push(`start@${ctx.state.step}`),
      afterBackward: (ctx) => {
        if (ctx.backbone.parameters().every((p) => p.grad !== null)) backwardWithGrads++;
      },
      afterStep: (ctx) => {
        calls.push(`step${ctx.state.step}`);
        if (ctx.state.step === 7) ctx.requestStop('hook');
      },
      onLog: (r) => void calls.push(`log${r.step}`),
      onValidation: (res, ctx) => void calls.push(`val${ctx.state.step}:${res.length}`),
      beforeSave: (kind, path, ctx) => {
        calls.push(`${kind}@${ctx.state.step}`);
        expect(path.startsWith(ctx.runDir)).toBe(true);
      },
      onEnd: () => void calls.push('end'),
    };
    const s = await runTraining(config('hooks', { logEvery: 3 }), c, { hooks: [hooks] });
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBe(7);
    expect(backwardWithGrads).toBe(7);
    expect(calls).toEqual([
      'start@0',
      ...['step1', 'step2', 'log3', 'step3', 'step4', 'step5', 'log6', 'step6'], // 6 batches per epoch
      'val6:1', 'export@6', 'checkpoint@6',
      'step7', 'checkpoint@7', 'export@7', 'end',
    ]);
    c.backbone.dispose();
    c.head.dispose();

    const d = components();
    const refuse: TrainHooks = {
      beforeSave: (kind) => {
        if (kind === 'checkpoint') throw new Error('NaN in backbone.bn.running_var');
      },
    };
    await expect(runTraining(config('refused', { checkpointEvery: 2 }), d, { hooks: [refuse] })).rejects.toThrow(/NaN in backbone/);
    expect(existsSync(join(root, 'refused', 'checkpoint.safetensors'))).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(0);
    d.backbone.dispose();
    d.head.dispose();
  });

  it('fails to resume without a checkpoint, with the path in the message', async () => {
    await expect(runTraining(config('none'), components(), { resume: true })).rejects.toThrow(/no checkpoint at .*none\/checkpoint\.safetensors/);
    expect(readFileSync(join(root, 'none', 'config.json'), 'utf8')).toMatch(/"name": "none"/);
  });
});
