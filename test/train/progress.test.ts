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
  { ...step10, gates: [{ block: 'conv_23', channel: gate(0.5, 0, 0), spatial: gate(0.995, 0, 0.75) }, { block: 'conv_34', channel: gate(0.5, 0, 0), spatial: gate(0.4, 0, 0) }] } as ProgressEvent,
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
      'step 10/100 epoch 1/4  loss 12.3457  lr 0.100  t 0.0123  cos+ 0.250  hard 97.50%  88.8 img/s  data-wait 1.2%  gates: 1/4 saturated  [0:20 elapsed, ETA 3:00]',
      'warning: ESCA gates saturated at step 10: conv_23.spatial (75% > 0.99) (per-block statistics: training.log, TensorBoard)',
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
    expect(text).toContain('gates: 1/4 saturated');
    expect(text).toContain('warning: ESCA gates saturated at step 10: conv_23.spatial');
    expect(text).not.toContain('esca gates ('); // the per-block line is for training.log
    expect(text).toContain('validation at step 25: lfw 97.83±0.71\n');
  });
});

/** The screen a terminal shows after `text`: the cursor moves, clears and save/restore cli-progress and readline write. */
function screen(text: string): string[] {
  const lines = [''];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const put = (ch: string) => {
    const l = lines[row]!.padEnd(col);
    lines[row] = l.slice(0, col) + ch + l.slice(col + 1);
    col++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      row++;
      col = 0;
      if (lines.length <= row) lines.push('');
    } else if (ch === '\r') col = 0;
    else if (ch === '\x1b') {
      const m = /^\x1b(?:([78])|\[(\??)(\d*)([A-Za-z]))/.exec(text.slice(i));
      if (!m) throw new Error(`unknown escape at ${i}: ${JSON.stringify(text.slice(i, i + 8))}`);
      i += m[0].length - 1;
      if (m[1] === '7') saved = { row, col };
      else if (m[1] === '8') ({ row, col } = saved);
      else if (m[2]) continue; // ?25l/h (cursor), ?7l/h (wrap)
      else if (m[4] === 'G') col = Number(m[3] || 1) - 1;
      else if (m[4] === 'K') lines[row] = m[3] === '2' ? '' : m[3] === '1' ? ' '.repeat(col) + lines[row]!.slice(col) : lines[row]!.slice(0, col);
      else throw new Error(`unhandled escape ${JSON.stringify(m[0])}`);
    } else put(ch);
  }
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
  return lines.map((l) => l.trimEnd());
}

describe('the bar on a terminal', () => {
  it('leaves no stale bar behind a line printed above it; the last bar stays', () => {
    const f = fakeStream(true);
    const r = progressReporter({ stream: f.stream, now: () => 0 });
    for (const e of events.slice(0, 3)) r.onProgress(e);
    r.stop();
    const shown = screen(f.text());
    expect(shown.filter((l) => l.includes(' steps |'))).toHaveLength(1);
    expect(shown.slice(0, -1)).toEqual([
      'training in /runs/x: 4000 images, 200 identities, steps 0/100',
      'warning: ESCA gates saturated at step 10: conv_23.spatial (75% > 0.99) (per-block statistics: training.log, TensorBoard)',
      'validation at step 25: lfw 97.83±0.71',
    ]);
    expect(shown.at(-1)).toMatch(/^epoch 1\/4 \[.*\] 10\/100 steps \| .* \| loss 12\.3457 .*gates: 1\/4 saturated/);
  });
});

describe('gate warnings', () => {
  const sat = (block: string) => ({ block, channel: gate(0.5, 0, 0), spatial: gate(0.001, 0.9, 0) });
  const ok = (block: string) => ({ block, channel: gate(0.5, 0, 0), spatial: gate(0.5, 0, 0) });
  const at = (step: number, gates: ReturnType<typeof ok>[]) => ({ ...step10, step, gates }) as ProgressEvent;

  it('come once each: the first saturation, then the collapse of every block; the step lines keep the count', () => {
    const f = fakeStream();
    const r = progressReporter({ stream: f.stream, now: () => 0 });
    const run = [
      at(10, [ok('a'), ok('b'), ok('c'), ok('d'), ok('e')]),
      at(20, [sat('a'), sat('b'), sat('c'), sat('d'), ok('e')]),
      at(30, [sat('a'), sat('b'), sat('c'), sat('d'), ok('e')]),
      at(40, [sat('a'), sat('b'), sat('c'), sat('d'), sat('e')]),
      at(50, [sat('a'), sat('b'), sat('c'), sat('d'), sat('e')]),
    ];
    for (const e of run) r.onProgress(e);
    const lines = f.text().trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^step (\d+)\/.*(gates: \d+\/\d+ saturated).*$/, 'step $1 $2'))).toEqual([
      'step 10 gates: 0/10 saturated',
      'step 20 gates: 4/10 saturated',
      'warning: ESCA gates saturated at step 20: a.spatial (90% < 0.01), b.spatial (90% < 0.01), c.spatial (90% < 0.01) and 1 more (per-block statistics: training.log, TensorBoard)',
      'step 30 gates: 4/10 saturated',
      'step 40 gates: 5/10 saturated',
      'warning: every ESCA block has a saturated gate at step 40: the network has likely collapsed (every face gets the same embedding); a lower learning rate or a warm-up avoids it (docs/training.md, "The demo")',
      'step 50 gates: 5/10 saturated',
    ]);
  });

  it('a network without gate statistics gets neither summary nor warnings', () => {
    const f = fakeStream();
    progressReporter({ stream: f.stream, now: () => 0 }).onProgress({ ...step10 });
    expect(f.text()).not.toMatch(/gates|warning/);
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
    expect(lines).toHaveLength(7);
    expect(lines.every((l) => l.startsWith('2026-01-02T03:04:05.678Z '))).toBe(true);
    expect(lines[1]).toMatch(/^\S+ step 10\/100 epoch 1\/4  loss 12\.3457 .*  gates: 1\/4 saturated  \[\d:\d\d elapsed, ETA /);
    expect(lines[2]).toMatch(/ esca gates \(2 blocks\): channel σ̄ 0\.500–0\.500  spatial σ̄ 0\.400–0\.995  saturated: conv_23\.spatial \(75% > 0\.99\)$/);
    expect(lines[3]).toMatch(/ warning: ESCA gates saturated at step 10/);
    expect(lines[6]).toBe('2026-01-02T03:04:05.678Z done');
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
      'esca/conv_34/channel_mean': 0.5,
      'esca/conv_34/channel_below_0.01': 0,
      'esca/conv_34/channel_above_0.99': 0,
      'esca/conv_34/spatial_mean': Math.fround(0.4),
      'esca/conv_34/spatial_below_0.01': 0,
      'esca/conv_34/spatial_above_0.99': 0,
    });
    expect(first[2]!.scalars).toEqual({ 'val/lfw/accuracy': Math.fround(0.9783), 'val/lfw/std': Math.fround(0.0071) });
    const second = readEventsIndependently(join(dir, files[1]!)).events;
    expect(second[1]).toMatchObject({ step: 27, session_status: 1 });
  });
});
