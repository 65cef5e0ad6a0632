// Ranks started by hand (as torchrun or SLURM would) with different configs or data: every rank
// fails at once with an Error naming the first thing that differs and each rank's value, instead
// of Gloo aborting the process (exit 134) or both ranks stalling until the collective timeout.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../lib/data/synth-files.js';
import { cli, runRanks, type RankResult } from './helpers.js';
import { writeTrainConfig } from './train-config.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-mismatch-'));
let config = '';

beforeAll(async () => {
  config = await writeTrainConfig(root);
});

/** `ecacface train -c config` as ranks 0 and 1, rank 1 with `extra` arguments. */
function trainRanks(extra: string[], env: Record<string, string> = {}, ranks?: number[]): Promise<RankResult[]> {
  return runRanks(cli, 2, { args: ['train', '-c', config, '--plain'], argsOf: (r) => (r === 1 ? extra : []), env, timeoutMs: 240_000, ...(ranks ? { ranks } : {}) });
}

function expectBothFail(rs: RankResult[], message: RegExp): void {
  for (const r of rs) {
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/terminate called|EnforceNotMet/);
  }
}

describe('ranks with different setups (issue 26 A)', () => {
  it('embeddingSize, batchSize or shardedHead on one rank only: both fail at once, naming the key and each value', async () => {
    // (the test config gives a full backbone spec, whose embedding size must follow)
    expectBothFail(
      await trainRanks(['--set', 'embeddingSize=32', '--set', 'backboneSpec.head.embeddingSize=32']),
      /the ranks' training configs differ at 'config\.embeddingSize': rank 0: 16, rank 1: 32/,
    );
    expectBothFail(await trainRanks(['--set', 'batchSize=8']), /the ranks' training configs differ at 'config\.batchSize': rank 0: 4, rank 1: 8/);
    expectBothFail(await trainRanks(['--set', 'distributed.shardedHead=false']), /the ranks' training configs differ at 'config\.distributed\.shardedHead': rank 0: true, rank 1: false/);
  }, 900_000); // three pairs of training processes, each bounded by trainRanks' 240 s

  it('another data set on one rank: its size is named (paths may differ between nodes)', async () => {
    const d = await generateSynthDataset({ seed: 12, identities: 6, imagesPerIdentity: 6, valIdentities: 6, valPairs: 40, imageSize: 32, cacheDir: join(root, 'cache2') });
    const rs = await trainRanks(['--set', `data.train.path=${d.rec}`]);
    expectBothFail(rs, /the ranks' models and data differ at 'data\.images': rank 0: 48, rank 1: 36/);
  }, 400_000);

  it('a rank whose data does not open makes the other fail at once, naming it', async () => {
    // rank 1's copy of the set has a damaged property file: its data fails to open after the config checks
    const rec = (JSON.parse(readFileSync(config, 'utf8')) as { data: { train: { path: string } } }).data.train.path;
    const other = join(root, 'broken');
    mkdirSync(other);
    for (const f of ['train.rec', 'train.idx']) copyFileSync(join(dirname(rec), f), join(other, f));
    writeFileSync(join(other, 'property'), 'six,32,32\n');
    const rs = await trainRanks(['--set', `data.train.path=${join(other, 'train.rec')}`]);
    expect(rs[1]!.code, rs[1]!.stderr).toBe(1);
    expect(rs[1]!.stderr).toMatch(/broken\/property.*is not "num_classes,H,W"/);
    expect(rs[0]!.code, rs[0]!.stderr).toBe(1);
    expect(rs[0]!.stderr).toMatch(/rank 1 failed before the ranks compared their models and data: .*broken\/property/);
    expect(rs[0]!.ms).toBeLessThan(150_000); // not the 30 min collective timeout
  }, 400_000);

  it('the rendezvous bound is ECACFACE_DIST_TIMEOUT_MS, not the config’s collective timeout', async () => {
    const rs = await trainRanks([], { ECACFACE_DIST_TIMEOUT_MS: '3000' }, [0]);
    expect(rs[0]!.code, rs[0]!.stderr).toBe(1);
    expect(rs[0]!.stderr).toMatch(/timed out after 3000 ms \(ECACFACE_DIST_TIMEOUT_MS\): 1 of 2 ranks joined \(0\); waiting for rank 1/);
    expect(rs[0]!.ms).toBeLessThan(150_000); // not the 30 min collective timeout
  }, 400_000);
});
