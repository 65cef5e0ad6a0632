/**
 * `train(config)`: validates the config, builds the backbone, head, data and validator, runs the
 * loop, draws the curves, and resolves to the run's summary.
 */
import { readLaunchEnv } from '../distributed/env.js';
import type { ProcessGroup } from '../distributed/group.js';
import { init as initDistributed, type Distributed } from '../distributed/init.js';
import { ShardedMarginHead, type ShardableHeadOptions } from '../distributed/sharded-head.js';
import { dataParallelHooks } from './data-parallel-hooks.js';
import { cuda, manualSeed, tensor } from '../tensor/index.js';
import { buildComponents } from './components.js';
import { validateConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { componentsFingerprint, configFingerprint } from './fingerprint.js';
import { plotRun } from './plots.js';
import { runTimestamp } from './run-dir.js';
import type { TrainOptions, TrainSummary } from './run.js';
import { runTraining } from './trainer.js';
import type { TrainComponents } from './types.js';

/** The summary of {@link train}, with the pictures drawn at the end. */
export interface TrainResult extends TrainSummary {
  plots: string[];
  /** This process's rank (0 outside a distributed run); only rank 0 validates, exports, plots and reports. */
  rank: number;
  /** The configuration the run used: validated, defaults filled (for `writeReport`). */
  config: TrainConfig;
}

/**
 * Trains a face-recognition model as configured (see `TrainConfig`; a raw object is validated
 * first and every problem reported at once).
 * @example
 * const r = await train({ backbone: 'mobilefacenet', data: { train: { type: 'recordio', path: 'faces/train.rec' }, val: ['lfw.bin'] } });
 * console.log(r.best?.results);
 */
export async function train(config: TrainConfigInput | TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  let c = validateConfig(config, { cudaAvailable: cuda.isAvailable() });
  // Started by `ecacface launch`, torchrun or srun: data parallel (docs/distributed.md).
  const message = (text: string) => (options.onProgress ? options.onProgress({ kind: 'message', text }) : process.stderr.write(`${text}\n`));
  const dist = readLaunchEnv().worldSize > 1 ? await initDistributed({ timeoutMs: c.distributed.timeoutMs, onProgress: message }) : null;
  try {
    if (dist) {
      // every rank must run the same config: compared before any collective depends on it
      await dist.group.agree(configFingerprint(c, { resume: options.resume !== undefined && options.resume !== false }), 'training configs');
      if (!c.name && typeof options.resume !== 'string') c = { ...c, name: await sharedRunName(dist.group) };
      if (c.device === 'cuda') c = { ...c, device: `cuda:${dist.localRank}` };
    }
    manualSeed(c.seed); // the run's one seeding: the initial weights, then the loop (runTraining does not reseed)
    const sharded = dist !== null && c.distributed.shardedHead;
    const components = dist ? await buildAgreedComponents(c, dist, sharded) : buildComponents(c);
    let summary: TrainSummary;
    try {
      summary = await runTraining(
        c,
        components,
        dist
          ? {
              ...options,
              hooks: [dataParallelHooks(dist.group, { shardedHead: sharded, bucketCapMB: c.distributed.bucketCapMB }), ...(options.hooks ?? [])],
              distributed: { rank: dist.rank, worldSize: dist.worldSize, perRankCheckpoint: sharded },
            }
          : options,
      );
    } finally {
      components.backbone.dispose();
      components.head.dispose();
    }
    if (dist && dist.rank !== 0) return { ...summary, plots: [], rank: dist.rank, config: c };
    return { ...summary, plots: drawPlots(summary, options), rank: 0, config: c };
  } finally {
    dist?.group.destroy();
  }
}

/**
 * A distributed run's components (a sharded head when asked), then the ranks compare the model
 * and data they built; a rank that fails to build them tells the others, which fail at once.
 */
async function buildAgreedComponents(c: TrainConfig, dist: Distributed, sharded: boolean): Promise<TrainComponents> {
  const makeHead = (numClasses: number) =>
    new ShardedMarginHead({
      group: dist.group,
      head: { type: c.head.type, numClasses, embeddingSize: c.embeddingSize, ...c.head.options } as ShardableHeadOptions,
      sampleRate: c.distributed.sampleRate,
    });
  let components: TrainComponents;
  try {
    components = buildComponents(c, { rank: dist.rank, worldSize: dist.worldSize, ...(sharded ? { makeHead } : {}) });
  } catch (err) {
    await dist.group.abandon(err, 'models and data');
    throw err;
  }
  try {
    await dist.group.agree(componentsFingerprint(components), 'models and data');
  } catch (err) {
    components.backbone.dispose();
    components.head.dispose();
    await components.source.close?.();
    throw err;
  }
  return components;
}

function drawPlots(summary: TrainSummary, options: TrainOptions): string[] {
  let plots: string[] = [];
  try {
    plots = plotRun(summary.runDir).files;
  } catch (err) {
    options.onProgress?.({ kind: 'message', text: `plots skipped: ${err instanceof Error ? err.message : String(err)}` });
  }
  return plots;
}

/** Rank 0's timestamp run name, the same on every rank (the run directory must be shared). */
async function sharedRunName(group: ProcessGroup): Promise<string> {
  const t = tensor([group.rank === 0 ? Date.now() : 0], { dtype: 'float64' });
  await group.broadcast(t, 0);
  const ms = t.item() as number;
  t.dispose();
  return runTimestamp(new Date(ms));
}
