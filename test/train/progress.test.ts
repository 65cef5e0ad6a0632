import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDuration, formatValidation, progressReporter } from '../../lib/train/progress.js';
import { RunLog } from '../../lib/train/run-log.js';
import { TensorBoardLogger } from '../../lib/train/tensorboard.js';
import type { ProgressEvent } from '../../lib/train/types.js';
import { readEventsIndependently } from '../io/tfevents-reader.js';

function fakeStream(isTTY = false): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY, write: (s: string) => ((out += s), true), columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const gate = (mean: number, low: number, high: number) => ({ mean, low, high });
const step10 = {
  kind: 'step', step: 10, totalSteps: 100, epoch: 0, epochs: 4, batchesPerEpoch: 25,
  loss: 12.34567, lr: 0.1, t: 0.0123, positiveCosine: 0.25, hardFraction: 0.975, imagesPerSec: 88.8, dataWait: 0.012,
} as const;
const events: ProgressEvent[] = [
  { kind: 'start', runDir: '/runs/x', totalSteps: 100, startStep: 0, resumed: false, numImages: 4000, numClasses: 200 },
  { ...step10, gates: [{ block: 'conv_23', channel: gate(0.5, 0, 0), spatial: gate(0.995, 0, 0.75) }] } as ProgressEvent,
  { kind: 'validation', step: 25, epoch: 1, results: [{ name: 'lfw', accuracy: 0.9783, std: 0.0071 }] },
  { kind: 'checkpoint', step: 25, epoch: 1, path: '/runs/x/checkpoint.safetensors', reason: 'epoch' },
  { kind: 'checkpoint', step: 26, epoch: 1, path: '/runs/x/checkpoint.safetensors', reason: 'interrupt' },
];

describe('progress reporter', () => {
  it('writes plain lines with the step statistics, elapsed time and ETA off a TTY', () => {
    const f = fakeStream();
    let now = 100;
    const r = progressReporter({ stream: f.stream, now: () => now });
    r.onProgress(events[0]!);
    now = 120; // 10 steps in 20 s → 90 steps left take 180 s
    for (const e of events.slice(1)) r.onProgress(e);
    r.stop();
    expect(f.text().split('\n')).toEqual([
      'training in /runs/x: 4000 images, 200 identities, steps 0/100',
      'step 10/100 epoch 1/4  loss 12.3457  lr 0.100  t 0.0123  cos+ 0.250  hard 97.50%  88.8 img/s  data-wait 1.2%  [0:20 elapsed, ETA 3:00]',
      'esca gates (1 blocks): channel σ̄ 0.500–0.500  spatial σ̄ 0.995–0.995  saturated: conv_23.spatial (75% > 0.99)',
      'validation at step 25: lfw 97.83±0.71',
      'checkpoint (interrupt) at step 26: /runs/x/checkpoint.safetensors',
      '',
    ]);
  });

  it('measures the ETA over this session when resumed', () => {
    const f = fakeStream();
    let now = 0;
    const r = progressReporter({ stream: f.stream, now: () => now });
    r.onProgress({ kind: 'start', runDir: '/r', totalSteps: 100, startStep: 50, resumed: true, numImages: 1, numClasses: 1 });
    now = 3700;
    r.onProgress({ ...step10, step: 60 });
    expect(f.text()).toContain('resuming in /r');
    expect(f.text()).toContain('[1:01:40 elapsed, ETA 4:06:40]');
  });

  it('shows a dash for statistics a head does not have', () => {
    const f = fakeStream();
    const r = progressReporter({ stream: f.stream });
    r.onProgress({ ...step10, step: 1, totalSteps: 2, t: NaN, positiveCosine: 0.1, hardFraction: NaN, imagesPerSec: 1, dataWait: 0 });
    expect(f.text()).toMatch(/t –  cos\+ 0\.100  hard –  1\.0 img\/s/);
    expect(f.text()).toMatch(/\[0:00 elapsed, ETA –\]/); // no start event: the clock starts here
    expect(formatValidation([])).toBe('');
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(3599)).toBe('59:59');
    expect(formatDuration(NaN)).toBe('–');
  });

  it('draws a bar with elapsed and ETA on a TTY, and prints saturated gates above it', () => {
    const f = fakeStream(true);
    let now = 0;
    const r = progressReporter({ stream: f.stream, now: () => now });
    for (const e of events) {
      now += 10;
      r.onProgress(e);
    }
    r.stop();
    const text = f.text();
    expect(text).toContain('10/100 steps | 0:10 elapsed, ETA 1:30 | loss 12.3457');
    expect(text).toContain('esca gates (1 blocks)');
    expect(text).toContain('validation at step 25: lfw 97.83±0.71\n');
  });
});

describe('training.log', () => {
  it('holds the console lines with ISO time stamps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runlog-'));
    dirs.push(dir);
    const log = new RunLog(join(dir, 'training.log'), () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)));
    for (const e of events) log.onProgress(e);
    log.write('done');
    const lines = readFileSync(join(dir, 'training.log'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.every((l) => l.startsWith('2026-01-02T03:04:05.678Z '))).toBe(true);
    expect(lines[1]).toMatch(/^\S+ step 10\/100 epoch 1\/4  loss 12\.3457 .* \[\d:\d\d elapsed, ETA /);
    expect(lines[2]).toMatch(/esca gates/);
    expect(lines[5]).toBe('2026-01-02T03:04:05.678Z done');
  });
});

describe('TensorBoardLogger', () => {
  it('writes train, gate and validation scalars, and a session start on resume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-'));
    dirs.push(dir);
    const tb = new TensorBoardLogger(dir);
    for (const e of events) tb.onProgress(e);
    tb.close();
    const tb2 = new TensorBoardLogger(dir);
    tb2.onProgress({ kind: 'start', runDir: '/runs/x', totalSteps: 100, startStep: 26, resumed: true, numImages: 1, numClasses: 1 });
    tb2.close();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    const first = readEventsIndependently(join(dir, files[0]!)).events;
    expect(first.map((e) => e.step)).toEqual([0, 10, 25]);
    expect(first[1]!.scalars).toEqual({
      'train/loss': Math.fround(12.34567),
      'train/lr': Math.fround(0.1),
      'train/t': Math.fround(0.0123),
      'train/positive_cosine': 0.25,
      'train/hard_fraction': Math.fround(0.975),
      'train/images_per_sec': Math.fround(88.8),
      'train/data_wait': Math.fround(0.012),
      'esca/conv_23/channel_mean': 0.5,
      'esca/conv_23/channel_below_0.01': 0,
      'esca/conv_23/channel_above_0.99': 0,
      'esca/conv_23/spatial_mean': Math.fround(0.995),
      'esca/conv_23/spatial_below_0.01': 0,
      'esca/conv_23/spatial_above_0.99': 0.75,
    });
    expect(first[2]!.scalars).toEqual({ 'val/lfw/accuracy': Math.fround(0.9783), 'val/lfw/std': Math.fround(0.0071) });
    const second = readEventsIndependently(join(dir, files[1]!)).events;
    expect(second[1]).toMatchObject({ step: 27, session_status: 1 });
  });
});
