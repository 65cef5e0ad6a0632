/**
 * The trainer's own hooks (lib/train/hooks.ts) for what a run records besides its log lines:
 * - ESCA gate statistics on logging steps (config `gateStats`): the probes are armed after the
 *   step before a logging step (training-mode forwards only, so a validation in between is not
 *   counted) and harvested into the log record, which carries them to metrics.jsonl, the console,
 *   training.log and TensorBoard;
 * - the LR's changes as `type: 'lr'` records of metrics.jsonl (every warm-up step, each milestone),
 *   so the LR plot is exact.
 */
import type { ModuleTree } from '../nn/attention/esca.js';
import { GateStatsCollector } from './gate-stats.js';
import type { TrainContext, TrainHooks } from './hooks.js';
import { isLogStep, type MetricsWriter } from './metrics.js';

/** Whether the step after the current one writes a log line. */
function nextStepLogs(ctx: TrainContext): boolean {
  const b = ctx.state.position.batch >= ctx.batchesPerEpoch ? 0 : ctx.state.position.batch;
  return isLogStep(ctx.state.step + 1, b + 1, ctx.config.logEvery, ctx.batchesPerEpoch);
}

/** Gate statistics on logging steps; null when the backbone has no ESCA block. */
export function gateStatsHook(ctx: { backbone: ModuleTree }): TrainHooks | null {
  const collector = new GateStatsCollector(ctx.backbone);
  if (collector.size === 0) return null;
  const armIfLogging = (c: TrainContext): void => {
    if (nextStepLogs(c)) collector.arm({ trainingOnly: true });
  };
  return {
    onStart: armIfLogging,
    afterStep: armIfLogging,
    onLog(record) {
      if (!collector.armed) return;
      const stats = collector.harvest();
      if (stats.length) record.gates = stats;
    },
    onEnd() {
      if (collector.armed) collector.harvest();
    },
  };
}

/** Writes an `lr` record at a session's first step and whenever the LR changes. */
export function lrChangesHook(metrics: MetricsWriter): TrainHooks {
  let last = NaN;
  return {
    afterStep(ctx) {
      const lr = ctx.optimizer.paramGroups[0]?.lr ?? NaN;
      if (lr === last) return;
      last = lr;
      metrics.append({ type: 'lr', step: ctx.state.step, epoch: ctx.state.position.epoch, lr });
    },
  };
}
