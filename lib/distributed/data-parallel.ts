/**
 * Data-parallel training over a {@link ProcessGroup}, as PyTorch's DistributedDataParallel:
 * parameters and buffers start from rank 0's, gradients are averaged over ranks by a bucketed
 * allreduce that starts while the backward is still running, BatchNorm statistics stay per rank
 * (as arcface_torch, which does not sync them).
 *
 *   const dp = await DataParallel.create(model, group);
 *   for (…micro-batches…) {
 *     dp.beforeBackward(isLastMicroBatch);   // like DDP: sync on the last one only (no_sync before)
 *     loss.backward();
 *     dp.afterBackward();                    // waits for the allreduce; grads are now averaged
 *   }
 *
 * The buckets are the addon's (native/distributed/process_group.cc, "gradient buckets"):
 * parameters in reverse order (the order gradients become ready), about `bucketCapMB` each; a
 * bucket's allreduce starts as soon as all its gradients are in, in the same bucket order on every
 * rank. Why not c10d::Reducer itself: see docs/distributed.md.
 */
import { native, type NativeGradSync } from '../native.js';
import type { Module } from '../nn/module.js';
import { handleOf, type Tensor } from '../tensor/tensor.js';
import type { ProcessGroup } from './group.js';
import { checkNumber } from '../check.js';

/** Options of {@link DataParallel.create}. */
export interface DataParallelOptions {
  /** Bucket size in MiB (DDP's bucket_cap_mb). Default 25. */
  bucketCapMB?: number;
  /** Parameters to leave out of the gradient averaging (e.g. a sharded head's weights). */
  exclude?: Tensor[];
}

/** Gradient averaging for one model on one group. Dispose it when training ends. */
export class DataParallel {
  readonly group: ProcessGroup;
  readonly params: Tensor[];
  #sync: NativeGradSync | null;
  #armed = false;

  private constructor(group: ProcessGroup, params: Tensor[], sync: NativeGradSync) {
    this.group = group;
    this.params = params;
    this.#sync = sync;
  }

  /**
   * Copies rank 0's parameters and buffers of the modules to every rank (all must call it) and
   * installs the gradient hooks on their trainable parameters.
   */
  static async create(modules: Module<any, any> | Module<any, any>[], group: ProcessGroup, options: DataParallelOptions = {}): Promise<DataParallel> {
    const cap = checkNumber('DataParallel: bucketCapMB', options.bucketCapMB ?? 25, { above: 0 });
    const skip = new Set(options.exclude ?? []);
    const list = Array.isArray(modules) ? modules : [modules];
    for (const m of list) await broadcastState(m, group);
    const params = list.flatMap((m) => m.parameters()).filter((p) => p.requiresGrad && !skip.has(p));
    if (params.length === 0) throw new RangeError('DataParallel: the module has no trainable parameters');
    const sync = new native.DistGradSync(group.native, params.map((p, i) => handleOf(p, `params[${i}]`)), Math.round(cap * 1024 * 1024));
    return new DataParallel(group, params, sync);
  }

  #s(what: string): NativeGradSync {
    if (!this.#sync) throw new Error(`DataParallel.${what}: disposed`);
    return this.#sync;
  }

  /**
   * Call before each backward. `sync` false accumulates locally (DDP's no_sync, for gradient
   * accumulation); true averages the accumulated gradients over ranks during this backward.
   */
  beforeBackward(sync = true): void {
    if (this.#armed) throw new Error('DataParallel.beforeBackward: afterBackward() was not called after the previous backward');
    if (sync) {
      this.#s('beforeBackward').arm();
      this.#armed = true;
    }
  }

  /** Call after each backward: for a synchronised one, waits for the allreduce and writes the averaged gradients. */
  afterBackward(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#s('afterBackward').finish();
  }

  /** Bucket sizes (elements) and the total time afterBackward() spent waiting for communication (ms). */
  stats(): { bucketNumel: number[]; waitMs: number } {
    return this.#s('stats').info();
  }

  /** Removes the hooks. Idempotent. */
  dispose(): void {
    this.#sync?.dispose();
    this.#sync = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Copies rank 0's parameters and buffers into every rank's module (one collective per dtype). */
export async function broadcastState(module: Module<any, any>, group: ProcessGroup, root = 0): Promise<void> {
  const ts = [...module.parameters(), ...module.buffers()];
  if (ts.length > 0) await group.broadcast(ts, root);
}
