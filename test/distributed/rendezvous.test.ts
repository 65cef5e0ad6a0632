// Joining a group: the rendezvous timeout (ECACFACE_DIST_TIMEOUT_MS) is honoured, progress names
// who has joined every 10 s, ranks on different ports or with different world sizes are told so,
// a port in use fails at once and says so; and the ranks' fingerprints are compared (agree).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SetupMismatchError } from '../../lib/distributed/agree.js';
import { rankList } from '../../lib/distributed/rendezvous.js';
import { freePort, runRanks } from './helpers.js';

describe('rendezvous', () => {
  it('rankList collapses runs', () => {
    expect(rankList([5, 0, 1, 2, 3, 7, 8])).toBe('0-3, 5, 7-8');
    expect(rankList([1])).toBe('1');
    expect(rankList([])).toBe('');
  });

  it('honours ECACFACE_DIST_TIMEOUT_MS and reports who joined every 10 s; a rank on another port says where it waits', async () => {
    const other = await freePort();
    // rank 1 was given another port: nobody serves it, and rank 0 waits for rank 1 (a 25 s bound leaves a
    // progress line at 10 s room to come before it, however loaded the machine)
    const rs = await runRanks('join.mjs', 2, { env: { ECACFACE_DIST_TIMEOUT_MS: '25000' }, envOf: (r) => (r === 1 ? { MASTER_PORT: String(other) } : {}), timeoutMs: 200_000 });
    const [r0, r1] = rs.map((r) => r.json);
    expect(r0.ok, rs[0]!.stdout + rs[0]!.stderr).toBe(false);
    expect(r0.message).toMatch(/rank 0 of 2: the rendezvous at 127\.0\.0\.1:\d+ timed out after 25000 ms \(ECACFACE_DIST_TIMEOUT_MS\): 1 of 2 ranks joined \(0\); waiting for rank 1\./);
    expect(r0.progress[0]).toMatch(/^rank 0 of 2: rendezvous at 127\.0\.0\.1:\d+: 1 of 2 ranks joined \(0\); waiting for rank 1 \(\d+ s of 25 s\)$/);
    expect(r0.ms).toBeLessThan(120_000); // 25 s; not the 300 s default
    expect(r1.ok).toBe(false);
    expect(r1.message).toContain(`rank 1 of 2 could not reach the rendezvous store at 127.0.0.1:${other} (gave up after`);
    expect(r1.message).toMatch(/same MASTER_ADDR and MASTER_PORT/);
    expect(r1.progress[0]).toMatch(new RegExp(`^rank 1 of 2: waiting for the rendezvous store at 127\\.0\\.0\\.1:${other} \\(rank 0 serves it\\): \\d+ s of 25 s$`));
    expect(r1.ms).toBeLessThan(120_000);
  }, 300_000);

  it('a port in use fails at once, and says so without claiming a wait', async () => {
    const port = await freePort();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(port, r));
    try {
      const rs = await runRanks('join.mjs', 2, { ranks: [0], envOf: () => ({ MASTER_PORT: String(port) }), timeoutMs: 200_000 });
      const r0 = rs[0]!.json;
      expect(r0.ok, rs[0]!.stdout + rs[0]!.stderr).toBe(false);
      expect(r0.message).toMatch(new RegExp(`rank 0 of 2 cannot serve the rendezvous store on port ${port}: the port is in use .*--master-port`));
      expect(r0.message).not.toMatch(/within|timed out/);
      expect(r0.ms).toBeLessThan(60_000); // at once, not after the 300 s bound
    } finally {
      srv.close();
    }
  }, 300_000);

  it('ranks started with different world sizes fail at once, naming both', async () => {
    const rs = await runRanks('join.mjs', 2, { envOf: (r) => (r === 1 ? { WORLD_SIZE: '3' } : {}), timeoutMs: 200_000 });
    for (const r of rs) {
      expect(r.json.ok, r.stdout + r.stderr).toBe(false);
      expect(r.json.message).toMatch(/the ranks disagree about the world size: rank \d \(.*\) has WORLD_SIZE=[23], rank \d \(.*\) has WORLD_SIZE=[23]/);
      expect(r.json.ms).toBeLessThan(120_000); // not after the 300 s bound
    }
  }, 300_000);
});

describe('agree', () => {
  // retried: in the PyTorch 2.13 lane, beside other multi-process files, rank 1 once reported a lost
  // store instead of the difference (rank 0 gone before rank 1 read; not reproduced alone): an open
  // race, noted in docs/decisions/runs.md. A retry still fails when it happens every time.
  it('every rank fails at once naming the first key that differs and each rank value', { retry: 2 }, async () => {
    const fp = (r: number) => JSON.stringify({ same: [1, 2], size: r === 0 ? 512 : 32, later: r });
    const rs = await runRanks('join.mjs', 2, { envOf: (r) => ({ FINGERPRINT: fp(r) }), timeoutMs: 200_000 });
    for (const r of rs) {
      expect(r.json.ok, r.stdout + r.stderr).toBe(false);
      expect(r.json.name).toBe('SetupMismatchError');
      expect(r.json.message).toBe("distributed: the ranks' test setups differ at 'size': rank 0: 512, rank 1: 32");
    }
    const same = await runRanks('join.mjs', 2, { env: { FINGERPRINT: fp(0) }, timeoutMs: 200_000 });
    for (const r of same) expect(r.json.ok, r.stdout + r.stderr).toBe(true);
  }, 300_000);

  it('a rank that abandons makes the others fail at once, naming it and why', async () => {
    const rs = await runRanks('join.mjs', 2, { env: { FINGERPRINT: '{"a":1}' }, envOf: (r) => (r === 1 ? { ABANDON: 'its data did not open' } : {}), timeoutMs: 200_000 });
    expect(rs[1]!.json.ok).toBe(true);
    expect(rs[0]!.json.ok, rs[0]!.stdout + rs[0]!.stderr).toBe(false);
    expect(rs[0]!.json.message).toBe('distributed: rank 1 failed before the ranks compared their test setups: its data did not open');
  }, 300_000);

  it('names each rank value, grouped by value past 8 ranks', () => {
    const e = new SetupMismatchError('config.batchSize', ['64', '64', '32', '64', '64', '64', '64', '64', '64', undefined], 'training configs');
    expect(e.message).toBe("distributed: the ranks' training configs differ at 'config.batchSize': 64 (ranks 0-1, 3-8), 32 (rank 2), (none) (rank 9)");
  });
});
