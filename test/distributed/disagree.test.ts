// Ranks that disagree about a collective (size, dtype, op, root, or out of step) get an Error on
// every rank, naming each rank's collective, and the process never aborts: before the check, Gloo
// ended rank 0 with `terminate called after throwing an instance of 'gloo::EnforceNotMet'` (exit
// 134), or silently mixed data when the message was the smaller one (issue 26 A).
import { describe, expect, it } from 'vitest';
import { runRanks, type RankResult } from './helpers.js';

const run = (mode: string) => runRanks('disagree.mjs', 2, { args: [mode], timeoutMs: 200_000 });

function outputs(rs: RankResult[]): { rank: number; errors: (string | null)[]; after: number[] }[] {
  for (const r of rs) {
    expect(r.signal, r.stderr).toBeNull();
    expect(r.stderr).not.toMatch(/terminate called|EnforceNotMet/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  return rs.map((r) => r.json);
}

const at = (rank0: string, rank1: string) =>
  new RegExp(`the ranks are not at the same collective, so it was not started \\(.*\\): rank 0: #\\d+ ${rank0}\\b.*, rank 1: #\\d+ ${rank1}\\b`);

describe('ranks that disagree about a collective (2 ranks, Gloo)', () => {
  it('another size, dtype, op or root: an Error on every rank naming both, and the group goes on', async () => {
    for (const o of outputs(await run('sizes'))) {
      const e = o.errors;
      expect(e).toHaveLength(9);
      expect(e[0]).toMatch(at('allreduce \\(sum\\) of 256 float32 values on cpu', 'allreduce \\(sum\\) of 512 float32 values on cpu'));
      expect(e[0]).toMatch(new RegExp(`^allReduce: distributed: rank ${o.rank} of 2: `));
      expect(e[1]).toMatch(at('allreduce \\(sum\\) of 256 float32', 'allreduce \\(sum\\) of 512 float32'));
      expect(e[2]).toMatch(at('allgather of 256 float32 values per rank on cpu', 'allgather of 512 float32 values per rank on cpu'));
      expect(e[3]).toMatch(at('broadcast from rank 0 of 256 float32', 'broadcast from rank 0 of 512 float32'));
      expect(e[4]).toMatch(at('allgather of 256 float32', 'allgather of 512 float32'));
      expect(e[5]).toMatch(at('allreduce \\(sum\\) of 4 float32', 'allreduce \\(sum\\) of 4 float64'));
      expect(e[6]).toMatch(at('allreduce \\(sum\\) of 4 float32', 'allreduce \\(max\\) of 4 float32'));
      expect(e[7]).toMatch(at('broadcast from rank 0 of 4', 'broadcast from rank 1 of 4'));
      expect(e[8]).toBeNull();
      expect(o.after).toEqual([3]); // 1 + 2: the ranks are still in step
    }
  }, 300_000);

  it('a rank that skips a collective: the next one that differs fails on both, naming it', async () => {
    const [r0, r1] = outputs(await run('skip'));
    expect(r0!.errors[0]).toMatch(at('allreduce \\(sum\\) of 4 float32', 'allreduce \\(sum\\) of 8 float32'));
    expect(r1!.errors[0]).toMatch(at('allreduce \\(sum\\) of 4 float32', 'allreduce \\(sum\\) of 8 float32'));
  }, 300_000);

  it('data parallel over different models: the parameter broadcast fails on both (it used to pass, mixing data)', async () => {
    for (const o of outputs(await run('models'))) {
      expect(o.errors[0]).toMatch(at('broadcast from rank 0 of 36 float32', 'broadcast from rank 0 of 54 float32'));
      expect(o.after).toEqual([3]);
    }
    // ECACFACE_DIST_CHECK=0 turns the check off: the smaller message passes unnoticed, as before
    const unchecked = await runRanks('disagree.mjs', 2, { args: ['models'], env: { ECACFACE_DIST_CHECK: '0' }, timeoutMs: 200_000 });
    for (const o of outputs(unchecked)) expect(o.errors[0]).toBeNull();
  }, 500_000);
});
