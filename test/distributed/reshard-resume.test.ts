// Resuming a 2-rank run with a sharded CurricularFace head in one process (the head shards
// concatenated), again with 2 ranks and then 3 (re-split): the head and its momentum at resume time are the
// saved ones, training continues, metrics.jsonl keeps every step logged, and the model exports.
// Incomplete or inconsistent shard files fail with an error naming them.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../lib/index.js';
import { loadSafetensors, saveSafetensors } from '../../lib/io/safetensors.js';
import { reshardCheckpoint, savedLayout } from '../../lib/train/reshard.js';
import { loadModel } from '../../lib/eval/model.js';
import { readMetrics } from '../../lib/train/metrics.js';
import { train } from '../../lib/train/train.js';
import { launchTrain, runRanks } from './helpers.js';
import { writeTrainConfig } from './train-config.js';

const root = mkdtempSync(join(tmpdir(), 'ecf-reshard-'));
const runDir = join(root, 'dist');
let config = '';

beforeAll(async () => {
  config = await writeTrainConfig(root);
});

/** A checkpoint file's head kernel and the momentum buffers shaped like it (by index), as [D][C] arrays. */
function savedHead(file: string, key: string): { kernel: number[][]; momentum: Map<number, number[][]> } {
  const { tensors } = loadSafetensors(file);
  try {
    const k = tensors.get(key)!;
    const momentum = new Map<number, number[][]>();
    for (const [name, t] of tensors) {
      const m = /^optimizer\.momentum\.(\d+)$/.exec(name);
      if (m && t.shape.join() === k.shape.join()) momentum.set(Number(m[1]), t.toArray() as number[][]);
    }
    return { kernel: k.toArray() as number[][], momentum };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
const concatColumns = (parts: number[][][]) => parts[0]!.map((_, d) => parts.flatMap((p) => p[d]!));

describe('resume a sharded run with another world size', () => {
  it('2 ranks → 1 process → 2 ranks → 3 ranks: the head is the saved one, concatenated or re-split; position by samples; exports', async () => {
    // 2 ranks × 8 samples a step over 48 images: 3 batches an epoch; the time limit stops both
    // after step 1, mid-epoch, as a finished run (checkpointed and exported, not interrupted)
    const r1 = await runRanks('train.mjs', 2, { args: [config, JSON.stringify({ stepsPerEpoch: 0, maxMinutes: 0.0001 })], timeoutMs: 60_000 });
    for (const r of r1) expect(r.json, r.stdout + r.stderr).toMatchObject({ steps: 1, interrupted: false, messages: expect.arrayContaining([expect.stringMatching(/time limit/)]) });
    const c0 = join(runDir, 'checkpoint.safetensors');
    const shards = [savedHead(c0, 'head.shard.kernel'), savedHead(join(runDir, 'checkpoint.rank1.safetensors'), 'head.shard.kernel')];
    expect(shards.map((x) => x.kernel[0]!.length)).toEqual([3, 3]); // 6 classes over 2 ranks

    // a copy without rank 1's shard: a clear error naming it
    const broken = join(root, 'broken');
    cpSync(runDir, broken, { recursive: true });
    rmSync(join(broken, 'checkpoint.rank1.safetensors'));
    const base = JSON.parse(readFileSync(config, 'utf8'));
    await expect(train({ ...base, stepsPerEpoch: 0 }, { resume: broken })).rejects.toThrow(
      /saved by 2 ranks with a sharded head\) with 1 rank: the head shard file \S*broken\/checkpoint\.rank1\.safetensors is missing/,
    );
    // shards that do not add up to the classes, and another head type: named
    const layout = savedLayout(join(runDir, 'checkpoint.safetensors'), 1);
    const target = { rank: 0, worldSize: 1, sharded: false, headType: 'curricularface', numClasses: 6, kernelIndex: [...shards[0]!.momentum.keys()][0]! };
    expect(() => reshardCheckpoint(layout, { ...target, numClasses: 7 })).toThrow(/head kernels of \S*checkpoint\.safetensors, \S*checkpoint\.rank1\.safetensors have 6 columns in all, this run has 7 classes/);
    expect(() => reshardCheckpoint(layout, { ...target, headType: 'arcface' })).toThrow(/checkpoint\.safetensors has a 'curricularface' head, this run a 'arcface' head/);
    // CurricularFace's t, the same on every rank, differs in rank 1's file: named
    const skewed = join(root, 'skewed');
    cpSync(runDir, skewed, { recursive: true });
    const f1 = join(skewed, 'checkpoint.rank1.safetensors');
    const st = loadSafetensors(f1);
    st.tensors.get('head.shard.t')!.dispose();
    st.tensors.set('head.shard.t', tensor([0.5], { dtype: 'float32' }));
    saveSafetensors(f1, st.tensors, st.metadata);
    for (const t of st.tensors.values()) t.dispose();
    expect(() => reshardCheckpoint(savedLayout(join(skewed, 'checkpoint.safetensors'), 1), target)).toThrow(/'head\.shard\.t' of \S*skewed\/checkpoint\.rank1\.safetensors differs from/);

    // one process: the whole head is the shards concatenated, its momentum too; batch 1 of 3 → 2 of 6
    let atStart: { kernel: number[][]; momentum: number[][]; index: number } | null = null;
    const messages: string[] = [];
    const s1 = await train(
      { ...base, stepsPerEpoch: 0 },
      {
        resume: runDir,
        hooks: [
          {
            onStart(ctx) {
              const kernel = ctx.head.parameters()[0]!;
              const i = ctx.optimizer.paramGroups.flatMap((g) => g.params).indexOf(kernel);
              atStart = { index: i, kernel: kernel.toArray() as number[][], momentum: ctx.optimizer.stateDict().momentumBuffers[i]!.toArray() as number[][] };
            },
          },
        ],
        onProgress: (e) => void (e.kind === 'message' && messages.push(e.text)),
      },
    );
    expect(atStart!.kernel).toEqual(concatColumns(shards.map((x) => x.kernel)));
    const mi = atStart!.index;
    expect(atStart!.momentum).toEqual(concatColumns(shards.map((x) => x.momentum.get(mi)!)));
    expect(messages.join('\n')).toMatch(/world size changed from 2 to 1: .* epoch 0 batch 1 of 3 \(step 1\) → batch 2 of 6 \(step 2\)/);
    expect(s1.steps).toBe(6);
    expect(readFileSync(join(runDir, 'training.log'), 'utf8')).toMatch(/world size changed from 2 to 1/);

    // back to 2 ranks, one more epoch: the whole head re-split; epoch 1 starts at step 3 of 3 a epoch
    const r3 = await launchTrain(['-c', config, '--set', 'stepsPerEpoch=0', '--set', 'epochs=2', '--resume', runDir, '--plain']);
    expect(r3.status, r3.stdout + r3.stderr).toBe(0);
    expect(r3.stderr).toMatch(/\[rank 1\][^\n]*world size changed from 1 to 2: [^\n]*classes \[3, 6\)/);
    expect(r3.stdout).toMatch(/\[rank 0\] done: 6 steps/);
    // 2 ranks → 3 ranks, one more epoch (24 samples a step: 2 batches an epoch): shards of 2 classes
    const before = [c0, join(runDir, 'checkpoint.rank1.safetensors')].map((f) => savedHead(f, 'head.shard.kernel'));
    const r4 = await runRanks('train.mjs', 3, { args: [config, JSON.stringify({ stepsPerEpoch: 0, epochs: 3 }), runDir], timeoutMs: 60_000 });
    for (const r of r4) expect(r.json, r.stdout + r.stderr).toMatchObject({ steps: 6 });
    const heads = r4.map((r) => r.json.head as { kernel: number[][]; momentum: number[][] });
    expect(heads.map((h) => h.kernel[0]!.length)).toEqual([2, 2, 2]);
    expect(concatColumns(heads.map((h) => h.kernel))).toEqual(concatColumns(before.map((x) => x.kernel)));
    expect(concatColumns(heads.map((h) => h.momentum))).toEqual(concatColumns(before.map((x) => x.momentum.get(mi)!)));
    expect(r4[2]!.json.messages.join('\n')).toMatch(/world size changed from 2 to 3: .*classes \[4, 6\)\); epoch 2 batch 0 of 3 \(step 6\) → batch 0 of 2 \(step 4\)/);

    // every step logged once per session: 1 (2 ranks), 3–6 (1 process), 4–6 (2 ranks), 5–6 (3 ranks)
    const steps = readMetrics(join(runDir, 'metrics.jsonl')).filter((x) => x.type === 'train').map((x) => x.step);
    expect(steps).toEqual([1, 3, 4, 5, 6, 4, 5, 6, 5, 6]);
    expect(loadModel(join(runDir, 'model-last')).embeddingSize).toBe(16);
  }, 300_000); // four multi-process runs: 75 s alone, over 150 s beside the rest of the suite on 2 cores
});
