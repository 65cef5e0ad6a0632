import { describe, expect, it } from 'vitest';
import { countProgress } from '../../lib/cli/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  return { stream: { isTTY, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, text: () => out };
}

describe('countProgress', () => {
  it('writes plain lines (one per 10 % and the last) with elapsed time and ETA off a terminal, never \\r', () => {
    const f = fakeStream(false);
    let now = 0;
    const p = countProgress({ stream: f.stream, now: () => now });
    for (let i = 1; i <= 80; i++) {
      now = i * 0.5;
      p('synth-val', i, 80);
    }
    p('synth-hard', 40, 40);
    p.end();
    const lines = f.text().trimEnd().split('\n');
    expect(f.text()).not.toContain('\r');
    expect(lines).toHaveLength(12); // 1 (first) + 10 tenths + the other set
    expect(lines[0]).toBe('synth-val: 1/80  [0:00 elapsed, ETA –]'); // the clock starts at the first report
    expect(lines[1]).toBe('synth-val: 8/80  [0:04 elapsed, ETA 0:32]');
    expect(lines[10]).toBe('synth-val: 80/80  [0:40 elapsed, ETA 0:00]');
    expect(lines[11]).toMatch(/^synth-hard: 40\/40  \[/);
  });

  it('rewrites one line on a terminal and ends it', () => {
    const f = fakeStream(true);
    const p = countProgress({ stream: f.stream, now: () => 0 });
    p('a', 1, 3);
    p('a', 2, 3);
    p('b', 1, 2);
    p.end();
    expect(f.text()).toBe('\ra: 1/3  [0:00 elapsed, ETA –]\ra: 2/3  [0:00 elapsed, ETA –]\n\rb: 1/2  [0:00 elapsed, ETA –]\n');
  });
});
