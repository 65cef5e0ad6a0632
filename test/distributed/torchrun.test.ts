// `torchrun --no_python --nproc_per_node 2 ecacface train …`: PyTorch's own launcher starts the
// workers; its elastic agent serves the rendezvous store (TORCHELASTIC_USE_AGENT_STORE), which
// distributed.init() joins as a client. Needs torchrun (Debian's python3-torch, installed by
// `bash scripts/setup.sh --bench`); skipped where it is absent.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLaunchEnv } from '../../lib/distributed/index.js';
import { freePort } from './helpers.js';
import { writeTrainConfig } from './train-config.js';

const torchrun = spawnSync('sh', ['-c', 'command -v torchrun'], { encoding: 'utf8' }).stdout.trim();

describe('torchrun', () => {
  it('its environment: the agent serves the store, the ranks use /worker/attempt_<restart> keys', () => {
    const base = { RANK: '1', WORLD_SIZE: '2', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500' };
    expect(readLaunchEnv(base).agentStorePrefix).toBeUndefined();
    expect(readLaunchEnv({ ...base, TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2' }).agentStorePrefix).toBe('/worker/attempt_2');
    expect(readLaunchEnv({ ...base, TORCHELASTIC_USE_AGENT_STORE: 'False' }).agentStorePrefix).toBeUndefined();
  });

  it.skipIf(!torchrun)(
    `--no_python --nproc_per_node 2 ecacface train: both ranks train the sharded head and checkpoint${torchrun ? '' : ' (skipped: torchrun not installed; bash scripts/setup.sh --bench installs python3-torch)'}`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'ecf-torchrun-'));
      const config = await writeTrainConfig(root);
      // `ecacface` on PATH, as an installed package puts it
      const bin = join(root, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'ecacface'), `#!/bin/sh\nexec "${process.execPath}" "${join(process.cwd(), 'dist', 'lib', 'cli', 'main.js')}" "$@"\n`);
      chmodSync(join(bin, 'ecacface'), 0o755);
      const port = await freePort();
      // The underscore spellings work in every torchrun (1.13 has no --no-python / --nproc-per-node).
      // `-r 1 -t 1`: Debian 12's torch 1.13 on Python 3.11 crashes on the default `--redirects 0`
      // (enum.IntFlag no longer iterates its 0 member); stdout to a log file, teed to the console.
      const r = spawnSync(
        torchrun,
        ['--no_python', '--nproc_per_node', '2', '--master_port', String(port), '--log_dir', join(root, 'logs'), '-r', '1', '-t', '1', 'ecacface', 'train', '-c', config, '--plain'],
        { encoding: 'utf8', timeout: 200_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OMP_NUM_THREADS: '1' } },
      );
      const out = r.stdout + r.stderr;
      expect(r.status, out).toBe(0);
      expect(out).toMatch(/\[default0\]:.*done: 2 steps/);
      expect(out).toMatch(/\[default1\]:.*done: 2 steps/);
      expect(existsSync(join(root, 'dist', 'checkpoint.safetensors'))).toBe(true);
      expect(existsSync(join(root, 'dist', 'checkpoint.rank1.safetensors'))).toBe(true);
    },
    240_000,
  );
});
