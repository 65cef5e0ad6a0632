// `ecacface launch --nproc-per-node 2 train` on a tiny synthetic set: runs, resumes and exports a
// model that loads in one process; killing a worker stops the other and names it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/eval/model.js';
import { readMetrics } from '../../lib/train/metrics.js';
import { cli, freePort, launchTrain } from './helpers.js';
import { writeTrainConfig } from './train-config.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-dist-'));
let config = '';

beforeAll(async () => {
  config = await writeTrainConfig(root);
});

describe('ecacface launch … train (2 ranks, sharded CurricularFace head, gradAccumSteps 2)', () => {
  it('runs, resumes with the same world size, and exports a model that loads in one process', async () => {
    const r1 = await launchTrain(['-c', config, '--plain']);
    expect(r1.status, r1.stdout + r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/\[rank 0\] done: 2 steps/);
    expect(r1.stdout).toMatch(/\[rank 1\] done: 2 steps/);
    expect(r1.stdout).toMatch(/\[rank 0\] report: /); // rank 0 alone writes report.md and prints validation
    expect(r1.stdout).not.toMatch(/\[rank 1\] (report|last validation|best)/);
    const runDir = join(root, 'dist');
    expect(existsSync(join(runDir, 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(runDir, 'checkpoint.rank1.safetensors'))).toBe(true); // rank 1's head shard
    const r2 = await launchTrain(['-c', config, '--set', 'epochs=2', '--resume', runDir, '--plain']);
    expect(r2.status, r2.stdout + r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/\[rank 0\] done: 4 steps/);
    const train = readMetrics(join(runDir, 'metrics.jsonl')).filter((x) => x.type === 'train');
    expect(train.map((x) => x.step)).toEqual([1, 2, 3, 4]); // rank 0 alone logs
    const model = loadModel(join(runDir, 'model-last'));
    expect(model.embeddingSize).toBe(16);
  }, 300_000);

  it('the time limit ends every rank as a finished run: validated, checkpointed, exported, exit 0', async () => {
    const r = await launchTrain(['-c', config, '--set', 'epochs=50', '--set', 'maxMinutes=0.0001', '--set', 'name=timelimit', '--plain']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[rank 0\] done: 1 steps/);
    expect(r.stdout).toMatch(/\[rank 1\] done: 1 steps/);
    expect(r.stdout).not.toMatch(/interrupted|resume with/);
    const runDir = join(root, 'timelimit');
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toMatch(/Stopped at the time limit \(maxMinutes 0\.0001\) at step 1/);
    expect(loadModel(join(runDir, 'model-last')).embeddingSize).toBe(16);
  }, 300_000);

  it('killing one worker stops the other, and the launcher names it', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [cli, 'launch', '--nproc-per-node', '2', '--master-port', String(port), 'train', '-c', config, '--set', 'epochs=50', '--set', 'name=kill', '--plain'], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!killed && /\[rank 0\][^\n]*loss/.test(out)) {
        killed = true;
        const kids = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
        process.kill(Math.max(...kids), 'SIGKILL'); // the later-started worker: rank 1
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const guard = setTimeout(() => {
      for (const pid of spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      child.kill('SIGKILL');
    }, 140_000);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    clearTimeout(guard);
    expect(killed, out).toBe(true);
    expect(code).not.toBe(0);
    expect(out).toMatch(/launch: rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL; stopping the other workers/);
  }, 160_000);
});
