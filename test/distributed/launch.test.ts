// The launcher: the torchrun environment, rank-prefixed output, stop-all-on-failure naming the rank.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launch, workerLimit, WORKERS_PER_CORE } from '../../lib/distributed/launch.js';
import { workers } from './helpers.js';

function collector() {
  const lines: { line: string; stream: string }[] = [];
  return { lines, out: (line: string, stream: 'stdout' | 'stderr') => lines.push({ line, stream }) };
}

describe('launch()', () => {
  it('starts N workers with the torchrun environment and prefixes their lines with the rank', async () => {
    const c = collector();
    const r = await launch({ command: [process.execPath, join(workers, 'exit.mjs')], nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterPort: 29999, out: c.out });
    expect(r).toEqual({ exitCode: 0, interrupted: false });
    const text = c.lines.map((l) => l.line).sort();
    expect(text).toContain('[rank 2] hello 2/4 local 0/2 at 127.0.0.1:29999');
    expect(text).toContain('[rank 3] hello 3/4 local 1/2 at 127.0.0.1:29999');
    expect(c.lines.filter((l) => l.stream === 'stderr' && l.line.endsWith('err line'))).toHaveLength(2);
  });

  it('stops the other workers when one fails, and names it', async () => {
    const c = collector();
    const t0 = Date.now();
    const r = await launch({ command: [process.execPath, join(workers, 'exit.mjs')], nprocPerNode: 3, env: { FAIL_RANK: '1' }, out: c.out, killGraceMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.exitCode).toBe(3);
    expect(r.failed).toMatchObject({ rank: 1, localRank: 1, code: 3, signal: null });
    expect(c.lines.map((l) => l.line).join('\n')).toMatch(/launch: rank 1 \(local rank 1, pid \d+\) exited with code 3; stopping the other workers/);
  });

  it('rejects bad options by name', async () => {
    await expect(launch({ command: ['x'], nprocPerNode: 0 })).rejects.toThrow(/--nproc-per-node/);
    await expect(launch({ command: ['x'], nprocPerNode: 1, nnodes: 2, nodeRank: 2 })).rejects.toThrow(/--node-rank 2 must be < --nnodes 2/);
    await expect(launch({ command: [], nprocPerNode: 1 })).rejects.toThrow(/no command/);
    for (const port of [0, -1, 65536, 70000, 1.5]) {
      await expect(launch({ command: ['x'], nprocPerNode: 1, masterPort: port }), String(port)).rejects.toThrow(/--master-port must be an integer in \[1, 65535\], got/);
    }
  });

  it('bounds the workers by the node (GPUs, else 4 × the CPU cores) unless forced, before starting any', async () => {
    const cmd = [process.execPath, join(workers, 'exit.mjs')];
    const cores = availableParallelism();
    expect(workerLimit(0).limit).toBe(cores * WORKERS_PER_CORE);
    const t0 = Date.now();
    // one over the bound first: without the bound this starts a few workers, not a million
    await expect(launch({ command: cmd, nprocPerNode: cores * 4 + 1, gpus: 0, out: () => {} })).rejects.toThrow(/is more than/);
    await expect(launch({ command: cmd, nprocPerNode: 1_000_000, gpus: 0 })).rejects.toThrow(
      new RegExp(`--nproc-per-node 1000000 is more than ${cores * 4}: this node has no GPU and ${cores} CPU cores? \\(at most 4 workers each\\)\\. Add --force`),
    );
    expect(Date.now() - t0).toBeLessThan(60_000); // refused, not started (a million workers would take hours)
    await expect(launch({ command: cmd, nprocPerNode: 3, gpus: 2, out: () => {} })).rejects.toThrow(/--nproc-per-node 3 is more than 2: this node has 2 GPUs \(one worker each\)/);
    const c = collector();
    const r = await launch({ command: cmd, nprocPerNode: 3, gpus: 2, force: true, out: c.out });
    expect(r.exitCode).toBe(0);
    expect(c.lines.filter((l) => l.line.includes('hello'))).toHaveLength(3);
  });
});
