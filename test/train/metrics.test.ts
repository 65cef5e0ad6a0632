import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogWindow, MetricsWriter, readMetrics } from '../../lib/train/metrics.js';

describe('LogWindow', () => {
  it('averages the steps since the last line, keeps the last t, and starts again after flush', () => {
    const w = new LogWindow();
    w.add({ loss: 2, t: 0.1, positiveCosine: 0.2, hardFraction: 0.5, images: 8, waitMs: 10, totalMs: 100 });
    w.add({ loss: 4, t: 0.3, positiveCosine: 0.4, hardFraction: 0.25, images: 8, waitMs: 30, totalMs: 300 });
    expect(w.size).toBe(2);
    const r = w.flush(12, 1, 0.05);
    expect(r).toMatchObject({ type: 'train', step: 12, epoch: 1, lr: 0.05, loss: 3, t: 0.3, hardFraction: 0.375 });
    expect(r.positiveCosine).toBeCloseTo(0.3, 15);
    expect(r.imagesPerSec).toBeCloseTo(16 / 0.4, 12); // 16 images in 400 ms
    expect(r.dataWait).toBeCloseTo(0.1, 15); // 40 of 400 ms
    expect(Number.isNaN(Date.parse(r.time))).toBe(false);
    expect(w.size).toBe(0);
    w.add({ loss: 1, t: NaN, positiveCosine: 0, hardFraction: 0, images: 4, waitMs: 0, totalMs: 50 });
    expect(w.flush(13, 1, 0.05).loss).toBe(1);
  });
});

describe('LogWindow warm-up', () => {
  const sample = (totalMs: number, warmUp?: boolean) => ({ loss: 1, t: 0, positiveCosine: 0, hardFraction: 0, images: 8, waitMs: totalMs / 10, totalMs, warmUp });

  it('keeps the warm-up step out of img/s and data-wait, not out of the loss mean', () => {
    const w = new LogWindow();
    w.add({ ...sample(1000, true), loss: 4 });
    w.add(sample(100));
    w.add(sample(300));
    expect(w.size).toBe(3);
    const r = w.flush(3, 0, 0.1);
    expect(r.imagesPerSec).toBeCloseTo(16 / 0.4, 12); // the 2 later steps: 16 images in 400 ms
    expect(r.dataWait).toBeCloseTo(0.1, 15);
    expect(r.loss).toBe(2); // (4 + 1 + 1) / 3
    // the next window starts clean
    w.add(sample(200));
    expect(w.flush(4, 0, 0.1).imagesPerSec).toBeCloseTo(8 / 0.2, 12);
  });

  it('uses the warm-up step when it is the whole window (logEvery 1), and snapshots what it would log', () => {
    const w = new LogWindow();
    w.add(sample(500, true));
    expect(w.snapshot()).toMatchObject({ n: 1, images: 8, time: 500 });
    expect(w.flush(1, 0, 0.1).imagesPerSec).toBeCloseTo(8 / 0.5, 12);
    w.add(sample(500, true));
    w.add(sample(250));
    expect(w.snapshot()).toMatchObject({ n: 2, images: 8, time: 250 });
  });
});

describe('MetricsWriter.truncateAfter', () => {
  it('drops the trailing records after the step, keeping an earlier world size’s higher step numbers', () => {
    const w = new MetricsWriter(join(mkdtempSync(join(tmpdir(), 'ecf-metrics-')), 'metrics.jsonl'));
    const lr = (step: number) => ({ type: 'lr' as const, step, epoch: 0, lr: 0.1 });
    // steps 1–6 under one world size, then a resume at the recomputed step 3: 4, 5, 6, 7
    for (const s of [1, 2, 3, 4, 5, 6, 4, 5, 6, 7]) w.append(lr(s));
    w.truncateAfter(5); // a second resume, from a checkpoint at step 5 of the new numbering
    expect(readMetrics(w.path).map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 4, 5]);
    w.truncateAfter(0);
    expect(readMetrics(w.path)).toEqual([]);
  });
});
