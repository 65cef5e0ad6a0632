/**
 * Resuming a run with another world size or head layout (docs/distributed.md, "Resuming with a
 * different number of ranks"): the checkpoint files of the saved ranks are read, the head's class
 * columns re-split for the new ranks, and the loop's position mapped by samples seen.
 *
 * The saved head is one kernel [D, C] (a single process, or data parallel without `shardedHead`)
 * or W shards [D, C_r], one per rank file, in rank order ({@link shardRange}). Concatenated they
 * give the full kernel; the new rank takes its {@link shardRange} of it (or all of it, unsharded).
 * The kernel's SGD momentum buffer is re-split the same way. Everything else (the backbone and its
 * momentum, the other head buffers such as CurricularFace's t, the RNG, the loop's state) comes
 * from rank 0's file: data parallel keeps the backbone's parameters identical on every rank, and
 * rank 0's BatchNorm statistics are the ones the exported model carries. Of the other ranks'
 * files only the head tensors are read, so a new rank reads one backbone, not W.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadSafetensors, readSafetensorsHeader } from '../io/safetensors.js';
import { cat, type Tensor } from '../tensor/index.js';
import {
  checkPosition,
  loadCheckpoint,
  parseCheckpointMeta,
  rankCheckpointPath,
  restoreCheckpoint,
  type CheckpointMeta,
  type CheckpointParts,
  type LoopState,
} from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { SourcePosition } from './types.js';
import { shardRange } from '../distributed/sharded-head.js';

/**
 * Re-splits column shards (in rank order, concatenated along dim 1 they are the full [D, C]
 * matrix) for `worldSize` ranks by {@link shardRange}; the new shards are contiguous copies
 * (`clone` of a column range lays it out contiguously).
 */
export function reshardColumns(shards: Tensor[], worldSize: number): Tensor[] {
  if (!shards.length) throw new RangeError('reshardColumns: no shards');
  const full = shards.length === 1 ? shards[0]! : cat(shards, 1);
  try {
    const C = full.size(1);
    return Array.from({ length: worldSize }, (_, r) => {
      const { start, count } = shardRange(C, worldSize, r);
      const view = full.narrow(1, start, count);
      const out = view.clone();
      view.dispose();
      return out;
    });
  } finally {
    if (full !== shards[0]) full.dispose();
  }
}

/** How a checkpoint was saved: by how many ranks, with the head sharded or whole, in which files. */
export interface SavedLayout {
  worldSize: number;
  /** Each rank's file holds a head shard (`head.shard.*`); else rank 0's holds the whole head. */
  sharded: boolean;
  /** The files to read, rank 0's first (one file unless sharded). */
  files: string[];
  /** Rank 0's metadata. */
  meta: CheckpointMeta;
}

/**
 * Reads the layout of the run saved at `checkpoint` (rank 0's file) from its header. Checkpoints
 * written before the world size was recorded: a sharded one counts its rank files, an unsharded
 * one is taken to have `fallbackWorldSize` ranks (the behaviour of those versions).
 */
export function savedLayout(checkpoint: string, fallbackWorldSize: number): SavedLayout {
  if (!existsSync(checkpoint)) throw new Error(`cannot resume: no checkpoint at ${checkpoint}`);
  const h = readSafetensorsHeader(checkpoint);
  const meta = parseCheckpointMeta(h.metadata, checkpoint);
  const sharded = h.tensors.has('head.shard.kernel');
  let worldSize = meta.worldSize ?? (sharded ? 1 : fallbackWorldSize);
  if (meta.worldSize === undefined && sharded) while (existsSync(rankCheckpointPath(checkpoint, worldSize))) worldSize++;
  const files = sharded ? Array.from({ length: worldSize }, (_, r) => rankCheckpointPath(checkpoint, r)) : [checkpoint];
  return { worldSize, sharded, files, meta };
}

/** The run resuming a checkpoint: its rank and world size, head layout and parameters. */
export interface ReshardTarget {
  rank: number;
  worldSize: number;
  /** This run shards its head (keys `head.shard.*`); else every rank holds the whole head. */
  sharded: boolean;
  /** The head type of this run's config. */
  headType: string;
  /** Classes in all (the full kernel's columns). */
  numClasses: number;
  /** Index of the head's kernel in the optimizer's flat parameter list (its momentum buffer). */
  kernelIndex: number;
}

/**
 * The tensors rank `target.rank` resumes from, assembled from the saved files (see the module
 * comment), and rank 0's metadata. Checks first, from the headers, that the files are complete and
 * agree (same step and head type, shard widths adding up to the classes); throws naming the files.
 * The caller disposes the tensors.
 */
export function reshardCheckpoint(saved: SavedLayout, target: ReshardTarget): { tensors: Map<string, Tensor>; meta: CheckpointMeta } {
  const { files, meta } = saved;
  const where = `cannot resume from ${dirname(files[0]!)} (saved by ${saved.worldSize} rank${saved.worldSize > 1 ? 's' : ''}${saved.sharded ? ' with a sharded head' : ''}) with ${target.worldSize} rank${target.worldSize > 1 ? 's' : ''}`;
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`${where}: the head shard file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
  const prefix = saved.sharded ? 'head.shard.' : 'head.';
  const kernelKey = `${prefix}kernel`;
  const momentumKey = `optimizer.momentum.${target.kernelIndex}`;
  // Check every file's header before loading any tensor.
  const problems: string[] = [];
  const savedType = (meta.config as Partial<TrainConfig>).head?.type;
  if (savedType !== target.headType) problems.push(`${files[0]} has a '${savedType}' head, this run a '${target.headType}' head`);
  let D = -1;
  let classes = 0;
  let momenta = 0;
  files.forEach((f, r) => {
    const h = readSafetensorsHeader(f);
    if (r > 0) {
      const m = parseCheckpointMeta(h.metadata, f);
      if (m.step !== meta.step) problems.push(`${f} is at step ${m.step}, ${files[0]} at step ${meta.step} (a checkpoint written half-way?)`);
      const type = (m.config as Partial<TrainConfig>).head?.type;
      if (type !== savedType) problems.push(`${f} has a '${type}' head, ${files[0]} a '${savedType}' head`);
    }
    const k = h.tensors.get(kernelKey);
    if (!k || k.shape.length !== 2) {
      problems.push(`${f} has no head kernel '${kernelKey}' [D, classes]${saved.sharded || r > 0 ? '' : ' (a head that does not shard?)'}`);
      return;
    }
    if (D < 0) D = k.shape[0]!;
    else if (k.shape[0] !== D) problems.push(`${f}: head kernel [${k.shape}] has embedding size ${k.shape[0]}, rank 0's ${D}`);
    classes += k.shape[1]!;
    const mo = h.tensors.get(momentumKey);
    if (mo) {
      momenta++;
      if (mo.shape.join() !== k.shape.join()) problems.push(`${f}: momentum '${momentumKey}' [${mo.shape}] does not match the head kernel [${k.shape}]`);
    }
  });
  if (!problems.length && classes !== target.numClasses) {
    problems.push(`the head kernels of ${files.join(', ')} have ${classes} columns in all, this run has ${target.numClasses} classes`);
  }
  if (!problems.length && momenta !== 0 && momenta !== files.length) problems.push(`only ${momenta} of ${files.length} files hold the head's momentum '${momentumKey}'`);
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);

  const kernels: Tensor[] = [];
  const momentumBufs: Tensor[] = [];
  let base: Map<string, Tensor> | null = null;
  const out = new Map<string, Tensor>();
  try {
    files.forEach((f, r) => {
      // the other ranks' files: their head tensors only (the backbone copies are not read)
      const { tensors } = loadSafetensors(f, r === 0 ? undefined : (k) => k.startsWith(prefix) || k === momentumKey);
      kernels.push(tensors.get(kernelKey)!);
      tensors.delete(kernelKey);
      const mo = tensors.get(momentumKey);
      if (mo) {
        momentumBufs.push(mo);
        tensors.delete(momentumKey);
      }
      if (r === 0) {
        base = tensors;
        return;
      }
      // Replicated head buffers (CurricularFace's t) must agree with rank 0's.
      try {
        for (const [k, v] of tensors) {
          if (!k.startsWith(prefix)) continue;
          const ref = base!.get(k);
          if (!ref || !sameValues(ref, v)) throw new Error(`${where}: '${k}' of ${f} differs from ${files[0]}'s (it is the same on every rank in a consistent run)`);
        }
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
    });
    const pick = (shards: Tensor[]): Tensor => {
      if (!target.sharded) return shards.length === 1 ? shards[0]!.clone() : cat(shards, 1);
      const all = reshardColumns(shards, target.worldSize);
      all.forEach((t, r) => r !== target.rank && t.dispose());
      return all[target.rank]!;
    };
    const newPrefix = target.sharded ? 'head.shard.' : 'head.';
    for (const [k, v] of base! as Map<string, Tensor>) {
      if (k.startsWith(prefix)) out.set(newPrefix + k.slice(prefix.length), v);
      else out.set(k, v);
    }
    base = null;
    out.set(`${newPrefix}kernel`, pick(kernels));
    if (momentumBufs.length) out.set(momentumKey, pick(momentumBufs));
    return { tensors: out, meta };
  } catch (err) {
    for (const t of out.values()) t.dispose();
    for (const t of (base as Map<string, Tensor> | null)?.values() ?? []) t.dispose();
    throw err;
  } finally {
    for (const t of [...kernels, ...momentumBufs]) t.dispose();
  }
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (a.shape.join() !== b.shape.join() || a.dtype !== b.dtype) return false;
  const x = a.toArray() as number[];
  const y = b.toArray() as number[];
  return x.every((v, i) => Object.is(v, y[i]));
}

/** What the position of a run depends on: samples per step over all ranks, and batches per epoch. */
export interface StepGeometry {
  /** batchSize × gradAccumSteps × worldSize. */
  samplesPerStep: number;
  batchesPerEpoch: number;
}

/**
 * Maps a saved position to a run with another step geometry: the epoch is kept and the batch index
 * mapped by samples seen in that epoch, batch' = ⌊batch × S / S'⌋ (an epoch finished stays
 * finished); the step is recomputed as epoch × batchesPerEpoch' + batch'.
 */
export function remapPosition(position: SourcePosition, from: StepGeometry, to: StepGeometry): { step: number; position: SourcePosition } {
  const { epoch, batch } = position;
  const b = batch >= from.batchesPerEpoch ? to.batchesPerEpoch : Math.min(to.batchesPerEpoch, Math.floor((batch * from.samplesPerStep) / to.samplesPerStep));
  return { step: epoch * to.batchesPerEpoch + b, position: { epoch, batch: b } };
}

/** What {@link resumeOtherLayout} restored. */
export interface OtherLayoutResume {
  /** The loop's state, its position mapped to this run's steps. */
  loaded: LoopState;
  /** The saved run's step: metrics.jsonl holds what was logged up to it. */
  loggedUpTo: number;
  /** What changed and how the position was mapped, for the log. */
  note: string;
}

/**
 * Resumes `parts` from a checkpoint saved with another world size or head layout: the head is
 * re-sharded (or loaded whole when neither side shards), and the position mapped by samples seen
 * ({@link remapPosition}), then checked against this run.
 */
export function resumeOtherLayout(
  saved: SavedLayout,
  target: Omit<ReshardTarget, 'headType'>,
  parts: CheckpointParts,
  config: TrainConfig,
  batchesPerEpoch: number,
): OtherLayoutResume {
  const { meta } = saved;
  let loaded: LoopState;
  if (!saved.sharded && !target.sharded) loaded = loadCheckpoint(saved.files[0]!, parts);
  else {
    const r = reshardCheckpoint(saved, { ...target, headType: config.head.type });
    try {
      loaded = restoreCheckpoint(r.tensors, r.meta, parts, saved.files.join(', '));
    } finally {
      for (const t of r.tensors.values()) t.dispose();
    }
  }
  const { epoch, batch } = loaded.position;
  const old = {
    samplesPerStep: meta.config.batchSize * (meta.config.gradAccumSteps ?? 1) * saved.worldSize,
    batchesPerEpoch: meta.batchesPerEpoch ?? (epoch > 0 ? (meta.step - batch) / epoch : Infinity),
  };
  const now = { samplesPerStep: config.batchSize * config.gradAccumSteps * target.worldSize, batchesPerEpoch };
  const mapped = remapPosition(loaded.position, old, now);
  const loggedUpTo = loaded.step;
  loaded = { ...loaded, ...mapped };
  checkPosition(loaded, batchesPerEpoch, config.epochs, saved.files[0]!);
  const mine = shardRange(target.numClasses, target.worldSize, target.rank);
  const note =
    `${saved.worldSize !== target.worldSize ? `world size changed from ${saved.worldSize} to ${target.worldSize}` : `head ${target.sharded ? 'now' : 'no longer'} sharded`}: resuming ${saved.files[0]}${saved.sharded ? ` (head sharded over ${saved.worldSize} files)` : ''} with ` +
    `${target.sharded ? `the head re-sharded (this rank: classes [${mine.start}, ${mine.start + mine.count}))` : 'the whole head on every rank'}; ` +
    `epoch ${epoch} batch ${batch} of ${Number.isFinite(old.batchesPerEpoch) ? old.batchesPerEpoch : '?'} (step ${meta.step}) → batch ${mapped.position.batch} of ${batchesPerEpoch} (step ${mapped.step}); ` +
    'the rest of this epoch sees its samples in another order than an uninterrupted run';
  return { loaded, loggedUpTo, note };
}
