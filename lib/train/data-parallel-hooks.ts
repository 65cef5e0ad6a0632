/**
 * The training loop's data-parallel hooks (lib/train/hooks.ts): rank 0's weights to every rank
 * at the start, gradient averaging in each step (armed on the step's last micro-batch, so earlier
 * micro-batches only accumulate), and one small allreduce per step so that the ranks stop together
 * (Ctrl-C on one, or the time limit) instead of leaving the others in a collective.
 */
import type { TrainHooks } from './hooks.js';
import { tensor } from '../tensor/index.js';
import { DataParallel } from '../distributed/data-parallel.js';
import type { ProcessGroup } from '../distributed/group.js';

/** Options of {@link dataParallelHooks}. */
export interface DataParallelHooksOptions {
  /** The head is sharded (its weights stay out of the averaging). */
  shardedHead: boolean;
  bucketCapMB: number;
}

/** Hooks that make `runTraining` data parallel over `group`. */
export function dataParallelHooks(group: ProcessGroup, o: DataParallelHooksOptions): TrainHooks {
  let dp: DataParallel | null = null;
  let t0 = 0;
  return {
    async onStart(ctx) {
      // A resumed run: every rank must be at the same step (the checkpoints of one step).
      const mine = tensor([ctx.state.step], { dtype: 'float64' });
      const all = await group.allGather(mine);
      const steps = all.map((t) => t.item() as number);
      for (const t of [mine, ...all]) t.dispose();
      if (new Set(steps).size > 1) {
        throw new Error(
          `distributed: the ranks start from different steps (${steps.map((s, r) => `rank ${r}: ${s}`).join(', ')}); ` +
            'resume needs the checkpoints of one step from every rank',
        );
      }
      dp = await DataParallel.create(o.shardedHead ? [ctx.backbone] : [ctx.backbone, ctx.head], group, { bucketCapMB: o.bucketCapMB });
      t0 = performance.now();
    },
    beforeBackward(_ctx, last) {
      dp?.beforeBackward(last);
    },
    afterBackward() {
      dp?.afterBackward();
    },
    afterStep(ctx) {
      const limit = ctx.config.maxMinutes * 60_000;
      const local = ctx.stopRequested ? 2 : limit > 0 && performance.now() - t0 > limit ? 1 : 0;
      const flag = tensor([local], { dtype: 'float32' });
      group.allReduceSync(flag, 'max');
      const any = flag.item() as number;
      flag.dispose();
      if (any === 2 && !ctx.stopRequested) ctx.requestStop('another rank is stopping');
      else if (any === 1 && !ctx.stopRequested) ctx.requestStop('time limit (on some rank)', { timeLimit: true });
    },
    onEnd() {
      dp?.dispose();
      dp = null;
    },
  };
}
