import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogWindow, MetricsWriter, readMetrics } from '../../lib/train/metrics.js';
import { RunLog } from '../../lib/train/run-log.js';

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

describe('a torn metrics.jsonl (a crash or a full disk mid-append)', () => {
  const torn = () => {
    const w = new MetricsWriter(join(mkdtempSync(join(tmpdir(), 'ecf-torn-')), 'metrics.jsonl'));
    for (const step of [1, 2, 3]) w.append({ type: 'lr', step, epoch: 0, lr: 0.1 });
    appendFileSync(w.path, '{"type":"train","step":4,"epoch":0,"lo'); // cut mid-record
    return w;
  };

  it('readers skip the torn last line with a warning naming the file and line', () => {
    const w = torn();
    const warnings: string[] = [];
    expect(readMetrics(w.path, { onWarning: (m) => warnings.push(m) }).map((r) => r.step)).toEqual([1, 2, 3]);
    expect(warnings).toEqual([`${w.path}:4: skipped a torn last line (38 bytes, cut off mid-record by a crash or a full disk)`]);
    // a bad line that is not the last is still an error
    appendFileSync(w.path, '\n{"type":"lr","step":5,"epoch":0,"lr":0.1}\n');
    expect(() => readMetrics(w.path)).toThrow(/metrics\.jsonl:4: not a JSON line/);
  });

  it('resume truncates it: the file ends with a whole record, and appends start on a new line', () => {
    const w = torn();
    const warnings: string[] = [];
    w.truncateAfter(2, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    w.append({ type: 'lr', step: 3, epoch: 0, lr: 0.01 });
    const text = readFileSync(w.path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
  });

  it.skipIf(!existsSync('/dev/full'))('ENOSPC names the file (metrics.jsonl, training.log)', () => {
    expect(() => new MetricsWriter('/dev/full').append({ type: 'lr', step: 1, epoch: 0, lr: 0.1 })).toThrow(
      /^appending a record to \/dev\/full failed: ENOSPC: no space left on device, write \(the disk is full\)$/,
    );
    expect(() => new RunLog('/dev/full').write('x')).toThrow(/^appending to \/dev\/full failed: ENOSPC.*\(the disk is full\)$/);
    try {
      new MetricsWriter('/dev/full').append({ type: 'lr', step: 1, epoch: 0, lr: 0.1 });
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect((e as NodeJS.ErrnoException).path).toBe('/dev/full');
    }
  });
});
