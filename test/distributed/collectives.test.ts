// Gloo process groups over 127.0.0.1: collectives, the launch environment, faults.
import { describe, expect, it } from 'vitest';
import { readLaunchEnv } from '../../lib/distributed/index.js';
import { firstSlurmHost } from '../../lib/distributed/env.js';
import { applyNcclDefaults } from '../../lib/distributed/group.js';
import { runRanks } from './helpers.js';

describe('launch environment', () => {
  it('reads torchrun variables', () => {
    const e = readLaunchEnv({ RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'n1', MASTER_PORT: '1234' });
    expect(e).toEqual({ rank: 3, worldSize: 8, localRank: 1, localWorldSize: 2, masterAddr: 'n1', masterPort: 1234, source: 'torchrun' });
  });
  it("reads SLURM's, with the first host of the node list", () => {
    const e = readLaunchEnv({ SLURM_PROCID: '5', SLURM_NTASKS: '16', SLURM_LOCALID: '1', SLURM_NTASKS_PER_NODE: '4(x4)', SLURM_NODELIST: 'gpu[07-10,12]' });
    expect(e).toMatchObject({ rank: 5, worldSize: 16, localRank: 1, localWorldSize: 4, masterAddr: 'gpu07', masterPort: 29500, source: 'slurm' });
    expect(firstSlurmHost('node3,node4')).toBe('node3');
    expect(firstSlurmHost('a[1-2],b5')).toBe('a1');
  });
  it('is a single process without launcher variables, and rejects bad values by name', () => {
    expect(readLaunchEnv({})).toMatchObject({ rank: 0, worldSize: 1, source: 'single' });
    expect(() => readLaunchEnv({ RANK: '2', WORLD_SIZE: '2' })).toThrow(/rank 2 must be < world size 2/);
    expect(() => readLaunchEnv({ RANK: 'x', WORLD_SIZE: '2' })).toThrow(/RANK/);
    expect(() => readLaunchEnv({ RANK: '0', WORLD_SIZE: '1', MASTER_PORT: '70000' })).toThrow(/MASTER_PORT/);
  });
});

describe('NCCL settings', () => {
  it('blocking waits where the environment says nothing; a user choice stays', () => {
    const env: NodeJS.ProcessEnv = { NCCL_BLOCKING_WAIT: '0' };
    expect(applyNcclDefaults(env)).toEqual(['TORCH_NCCL_BLOCKING_WAIT']);
    expect(env).toEqual({ NCCL_BLOCKING_WAIT: '0', TORCH_NCCL_BLOCKING_WAIT: '1' });
    expect(applyNcclDefaults(env)).toEqual([]);
  });
});

describe('Gloo collectives (2 ranks)', () => {
  it('allReduce, allGather, broadcast, barrier give the values every rank can compute', async () => {
    const rs = await runRanks('collectives.mjs', 2);
    for (const r of rs) {
      expect(r.code, r.stderr).toBe(0);
      const o = r.json;
      expect(o.sum).toEqual([3, 30, -1]);
      expect(o.max).toEqual([1, 0]);
      expect(o.avg).toEqual([1.5]);
      expect(o.packed).toEqual([[[1, 1], [2, 2]], [3]]);
      expect(o.gather).toEqual([[0, 0], [1, 1]]);
      expect(o.bcast).toEqual([42, 8]);
      expect(o.syncMin).toEqual([0.5]);
    }
  });
});

describe('faults', () => {
  it('a rank that dies makes the other fail promptly, naming it', async () => {
    const rs = await runRanks('fault.mjs', 2, { args: ['die', '20000'] });
    const r0 = rs[0]!;
    expect(r0.code, r0.stderr).toBe(0);
    expect(r0.json.ok).toBe(false);
    expect(r0.json.message).toMatch(/rank 1 stopped responding/);
    expect(r0.json.message).toMatch(/failed on rank 0 of 2/);
    // Gloo sees the closed connection: far sooner than the 20 s timeout.
    expect(r0.json.ms).toBeLessThan(15000);
    expect(rs[1]!.signal).toBe('SIGKILL');
  });
  it('a rank that stalls makes the other fail after the timeout, naming it', async () => {
    const rs = await runRanks('fault.mjs', 2, { args: ['stall', '3000'] });
    const r0 = rs[0]!;
    expect(r0.json.ok, r0.stderr).toBe(false);
    expect(r0.json.message).toMatch(/rank 1 .*is behind/);
    expect(r0.json.ms).toBeGreaterThanOrEqual(2900);
    expect(r0.json.ms).toBeLessThan(10000);
  });
});
