// Re-sharding a head for another world size (lib/train/reshard.ts) against a plain
// concatenate-then-split of float64 JS arrays, and the position mapping by samples seen.
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../lib/index.js';
import { remapPosition, reshardColumns } from '../../lib/train/reshard.js';

/** A [D, C] matrix of distinct float64 values with 1/3-ish fractions (no value repeats). */
function matrix(D: number, C: number, salt: number): number[][] {
  return Array.from({ length: D }, (_, d) => Array.from({ length: C }, (_, c) => (d * C + c + salt) / 3 + Math.sin(d * 7 + c + salt)));
}

/** The reference: concatenate the shards' rows, then cut columns by the sizes given. */
function concatSplit(shards: number[][][], sizes: number[]): number[][][] {
  const full = shards[0]!.map((_, d) => shards.flatMap((s) => s[d]!));
  let start = 0;
  return sizes.map((n) => {
    const out = full.map((row) => row.slice(start, start + n));
    start += n;
    return out;
  });
}

const toArrays = (ts: Tensor[]) => ts.map((t) => t.toArray() as number[][]);

describe('reshardColumns', () => {
  it('3 ranks → 2 ranks: kernel and momentum equal a plain concatenate/split (C = 11: sizes 4,4,3 → 6,5)', () => {
    const D = 5;
    const from = [4, 4, 3];
    for (const salt of [0, 0.5]) { // the kernel, then its momentum buffer
      const shards = from.map((n, r) => matrix(D, n, salt + 100 * r));
      const ts = shards.map((s) => tensor(s, { dtype: 'float64' }));
      const out = reshardColumns(ts, 2);
      expect(out.map((t) => t.shape)).toEqual([[D, 6], [D, 5]]);
      expect(toArrays(out)).toEqual(concatSplit(shards, [6, 5]));
      // the inputs are left alone (the caller owns them) and the outputs are copies
      expect(toArrays(ts)).toEqual(shards);
      out[0]!.mul_(0);
      expect(toArrays(ts)).toEqual(shards);
      for (const t of [...ts, ...out]) t.dispose();
    }
  });

  it('2 → 3 and 2 → 1 are the inverse cuts (round trip back to the original shards)', () => {
    const shards = [matrix(3, 4, 1), matrix(3, 3, 2)]; // C = 7 over 2 ranks: 4, 3
    const ts = shards.map((s) => tensor(s, { dtype: 'float64' }));
    const three = reshardColumns(ts, 3);
    expect(three.map((t) => t.size(1))).toEqual([3, 2, 2]);
    expect(toArrays(three)).toEqual(concatSplit(shards, [3, 2, 2]));
    const one = reshardColumns(three, 1);
    expect(toArrays(one)).toEqual(concatSplit(shards, [7]));
    const back = reshardColumns(one, 2);
    expect(toArrays(back)).toEqual(shards);
    for (const t of [...ts, ...three, ...one, ...back]) t.dispose();
  });
});

describe('remapPosition (keep the epoch, map the batch by samples seen)', () => {
  it('2 ranks → 1 rank doubles the batch index; 1 → 3 takes the floor; a finished epoch stays finished', () => {
    // 2 ranks × 8 samples a step, 10 batches an epoch → 1 rank, 20 batches
    expect(remapPosition({ epoch: 2, batch: 3 }, { samplesPerStep: 16, batchesPerEpoch: 10 }, { samplesPerStep: 8, batchesPerEpoch: 20 })).toEqual({ step: 46, position: { epoch: 2, batch: 6 } });
    // 1 rank → 3 ranks: 5 batches of 8 samples = 40 samples = 1.67 batches of 24
    expect(remapPosition({ epoch: 0, batch: 5 }, { samplesPerStep: 8, batchesPerEpoch: 20 }, { samplesPerStep: 24, batchesPerEpoch: 6 })).toEqual({ step: 1, position: { epoch: 0, batch: 1 } });
    expect(remapPosition({ epoch: 1, batch: 20 }, { samplesPerStep: 8, batchesPerEpoch: 20 }, { samplesPerStep: 24, batchesPerEpoch: 6 })).toEqual({ step: 12, position: { epoch: 1, batch: 6 } });
    expect(remapPosition({ epoch: 3, batch: 0 }, { samplesPerStep: 8, batchesPerEpoch: 20 }, { samplesPerStep: 24, batchesPerEpoch: 6 })).toEqual({ step: 18, position: { epoch: 3, batch: 0 } });
  });
});
