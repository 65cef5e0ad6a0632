/**
 * A process group on libtorch's c10d: Gloo (CPU) or NCCL (CUDA builds) over a TCPStore
 * rendezvous served by rank 0 — the engine under PyTorch's `torch.distributed`.
 *
 * Collectives are issued at once (so every rank issues them in program order, which is how c10d
 * matches them) and awaited off the JS thread: the promise settles when the collective is done,
 * has failed, or has run past the group's timeout. A failure names this rank and, from the
 * ranks' heartbeats in the store, the rank that died or stalled.
 *
 * Joining reports progress (rendezvous.ts), and {@link ProcessGroup.agree} compares a fingerprint
 * of what must be the same on every rank before collectives depend on it (agree.ts).
 */
import { native, type NativeDistGroup } from '../native.js';
import { cat, noGrad, type Tensor } from '../tensor/index.js';
import { handleOf, wrap } from '../tensor/tensor.js';
import { agree, type Fingerprint } from './agree.js';
import { firstLine, rendezvous } from './rendezvous.js';
import { checkInt, checkNumber } from '../check.js';

/** Reduction of {@link ProcessGroup.allReduce}. */
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min' | 'product';

/** Options of {@link ProcessGroup.connect}. */
export interface ProcessGroupOptions {
  /** 'gloo' (CPU tensors) or 'nccl' (CUDA tensors, CUDA builds with NCCL). */
  backend: 'gloo' | 'nccl';
  rank: number;
  worldSize: number;
  /** Rendezvous host (rank 0 serves the store there, unless externalStorePrefix). Default 127.0.0.1. */
  masterAddr?: string;
  /** Rendezvous port. Default 29500. */
  masterPort?: number;
  /** A shared file for a FileStore rendezvous instead of TCP (all ranks on one file system). */
  storePath?: string;
  /** How long a collective may take before it fails (ms). Default 300 000. */
  timeoutMs?: number;
  /**
   * How long joining may take: reaching the store, every rank's arrival, the backend's connections
   * (ms). Default 300 000 (`init()`: ECACFACE_DIST_TIMEOUT_MS).
   */
  rendezvousTimeoutMs?: number;
  /** Progress while joining or agreeing takes long (every 10 s). Default: a line on stderr. */
  onProgress?: (message: string) => void;
  /**
   * Compare every collective across the ranks before it starts (default true): ranks at different
   * collectives (another size, dtype, op or root, or out of step) then fail with an Error naming
   * each rank's, instead of Gloo aborting the process or mixing data. Costs one small all-gather
   * per collective; false skips it (`init()`: ECACFACE_DIST_CHECK=0).
   */
  checkCollectives?: boolean;
  /**
   * The TCPStore at masterAddr:masterPort is served by the launcher (torchrun's elastic agent), not
   * by rank 0; the group keeps its keys under this prefix (torch.distributed uses
   * `/worker/attempt_<restart count>`). Set by {@link init} from TORCHELASTIC_USE_AGENT_STORE.
   */
  externalStorePrefix?: string;
}

/**
 * The NCCL settings a group sets where the environment does not: blocking waits
 * (`TORCH_NCCL_BLOCKING_WAIT`, libtorch 2.x; `NCCL_BLOCKING_WAIT`, 1.13). With them a failed or
 * timed-out collective is an exception in the thread that waits for it, which the group turns
 * into an Error naming the rank; without them NCCL's watchdog thread tears the process down
 * itself (an exception rethrown where nothing catches it: std::terminate, or std::abort).
 */
export const NCCL_ENV_DEFAULTS: Readonly<Record<string, string>> = { TORCH_NCCL_BLOCKING_WAIT: '1', NCCL_BLOCKING_WAIT: '1' };

/** Sets {@link NCCL_ENV_DEFAULTS} in `env` where unset (a user's own choice stays); returns the names set. */
export function applyNcclDefaults(env: NodeJS.ProcessEnv = process.env): string[] {
  const set: string[] = [];
  for (const [k, v] of Object.entries(NCCL_ENV_DEFAULTS)) {
    if (env[k] === undefined) {
      env[k] = v;
      set.push(k);
    }
  }
  return set;
}

/** The backends this build of the addon has ('gloo', 'nccl'). */
export function availableBackends(): string[] {
  return native.distBackends();
}

/** A connected process group. Dispose it (or call {@link ProcessGroup.destroy}) at the end. */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: 'gloo' | 'nccl';
  readonly timeoutMs: number;
  /** @internal */
  readonly native: NativeDistGroup;
  #destroyed = false;
  #agreements = 0;
  readonly #onProgress: (message: string) => void;
  readonly #servesStore: boolean;

  private constructor(
    o: Pick<ProcessGroup, 'rank' | 'worldSize' | 'backend' | 'timeoutMs'>,
    g: NativeDistGroup,
    onProgress: (message: string) => void,
    servesStore: boolean,
  ) {
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.backend = o.backend;
    this.timeoutMs = o.timeoutMs;
    this.native = g;
    this.#onProgress = onProgress;
    this.#servesStore = servesStore;
  }

  /** Rendezvous with the other ranks (all must call it) and returns the connected group. */
  static async connect(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const o = {
      backend: options.backend,
      rank: options.rank,
      worldSize: options.worldSize,
      masterAddr: options.masterAddr ?? '127.0.0.1',
      masterPort: options.masterPort ?? 29500,
      timeoutMs: options.timeoutMs ?? 300_000,
    };
    const rendezvousTimeoutMs = options.rendezvousTimeoutMs ?? 300_000;
    const onProgress = options.onProgress ?? ((m: string) => process.stderr.write(`distributed: ${m}\n`));
    const backends = availableBackends();
    if (!backends.includes(o.backend)) {
      throw new Error(
        `distributed: backend '${o.backend}' is not in this build of the addon (it has: ${backends.join(', ') || 'none'})` +
          (o.backend === 'gloo' ? '; install libgloo-dev and rebuild (npm run build:native)' : ''),
      );
    }
    checkInt('distributed: worldSize', o.worldSize, 1);
    checkInt('distributed: rank', o.rank, 0, o.worldSize - 1);
    checkNumber('distributed: timeoutMs', o.timeoutMs, { above: 0 });
    checkNumber('distributed: rendezvousTimeoutMs', rendezvousTimeoutMs, { above: 0 });
    if (o.backend === 'nccl') applyNcclDefaults(); // read by ProcessGroupNCCL's constructor
    const g = new native.DistGroup({
      ...o,
      rendezvousTimeoutMs,
      ...(options.storePath ? { storePath: options.storePath } : {}),
      ...(options.externalStorePrefix ? { externalStorePrefix: options.externalStorePrefix } : {}),
      checkCollectives: options.checkCollectives ?? true,
    });
    try {
      await rendezvous(g, {
        ...o,
        ...(options.storePath ? { storePath: options.storePath } : {}),
        externalStore: options.externalStorePrefix !== undefined,
        timeoutMs: rendezvousTimeoutMs,
        onProgress,
      });
    } catch (err) {
      g.destroy();
      throw err;
    }
    return new ProcessGroup(o, g, onProgress, o.rank === 0 && !options.storePath && options.externalStorePrefix === undefined);
  }

  /**
   * Compares `fingerprint` (names → JSON values that must be equal on every rank: config, model,
   * data…) across the ranks through the store, not a collective; every rank must call it, in the
   * same order. Throws `SetupMismatchError` on every rank, naming the first key that differs and
   * each rank's value, or an Error naming a rank that failed ({@link abandon}) or stopped. `what`
   * names the fingerprint in messages.
   */
  async agree(fingerprint: Fingerprint, what = 'setups'): Promise<void> {
    if (this.#destroyed) throw new Error('distributed: agree on a destroyed group');
    await agree(this.native, this.#place(), this.#agreements++, { entries: fingerprint }, what);
  }

  /**
   * Tells the ranks waiting in their next {@link agree} that this rank failed (they fail at once,
   * naming it and `error`) instead of letting them wait for the timeout. Never throws.
   */
  async abandon(error: unknown, what = 'setups'): Promise<void> {
    if (this.#destroyed) return;
    try {
      await agree(this.native, this.#place(), this.#agreements++, { failed: firstLine(error) }, what);
    } catch {
      /* the store is gone too: the others learn it from there */
    }
  }

  #place() {
    return { rank: this.rank, worldSize: this.worldSize, servesStore: this.#servesStore, timeoutMs: this.timeoutMs, onProgress: this.#onProgress };
  }

  #check(what: string, ts: Tensor[]): void {
    if (this.#destroyed) throw new Error(`distributed: ${what} on a destroyed group`);
    for (const t of ts) {
      const wantCuda = this.backend === 'nccl';
      if (t.device.startsWith('cuda') !== wantCuda) {
        throw new TypeError(`distributed: ${what}: the ${this.backend} backend takes ${wantCuda ? 'CUDA' : 'CPU'} tensors, got one on ${t.device}`);
      }
    }
  }

  /**
   * Reduces `tensor` in place over all ranks. Several tensors are packed into one buffer per
   * dtype (one collective each), then unpacked.
   */
  async allReduce(tensor: Tensor | Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    const ts = Array.isArray(tensor) ? tensor : [tensor];
    this.#check('allReduce', ts);
    await this.#packed(ts, async (flat) => {
      await this.native.allreduce([handleOf(flat, 'tensor')], op === 'avg' ? 'sum' : op);
      if (op === 'avg') noGrad(() => flat.mul_(1 / this.worldSize));
    });
  }

  /** Same as {@link allReduce} on one tensor, blocking until done (for use inside a forward). */
  allReduceSync(tensor: Tensor, op: ReduceOp = 'sum'): void {
    this.#check('allReduceSync', [tensor]);
    if (!tensor.isContiguous()) throw new TypeError('distributed: allReduceSync needs a contiguous tensor');
    this.native.allreduceSync([handleOf(tensor, 'tensor')], op === 'avg' ? 'sum' : op);
    if (op === 'avg') noGrad(() => tensor.mul_(1 / this.worldSize));
  }

  /** Every rank's `tensor` (same shape on all ranks), in rank order. */
  async allGather(tensor: Tensor): Promise<Tensor[]> {
    this.#check('allGather', [tensor]);
    const hs = await this.native.allgather(handleOf(tensor, 'tensor'));
    return hs.map(wrap);
  }

  /** Copies rank `root`'s values into `tensor` on every rank (several tensors: packed per dtype). */
  async broadcast(tensor: Tensor | Tensor[], root = 0): Promise<void> {
    const ts = Array.isArray(tensor) ? tensor : [tensor];
    this.#check('broadcast', ts);
    await this.#packed(ts, (flat) => this.native.broadcast([handleOf(flat, 'tensor')], root));
  }

  /** Waits until every rank has reached it. */
  async barrier(): Promise<void> {
    if (this.#destroyed) throw new Error('distributed: barrier on a destroyed group');
    await this.native.barrier();
  }

  /** Which ranks look dead or behind, from their heartbeats ("" when all look healthy). */
  diagnose(): Promise<string> {
    return this.native.diagnose();
  }

  /** Leaves the group (stops the heartbeat, closes the connections). Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.native.destroy();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }

  // One collective per dtype over a flat copy of the tensors (a single contiguous tensor goes as is).
  async #packed(ts: Tensor[], run: (flat: Tensor) => Promise<void>): Promise<void> {
    if (ts.length === 1 && ts[0]!.isContiguous()) {
      await run(ts[0]!);
      return;
    }
    const byDtype = new Map<string, Tensor[]>();
    for (const t of ts) {
      const k = `${t.dtype}@${t.device}`;
      const list = byDtype.get(k);
      if (list) list.push(t);
      else byDtype.set(k, [t]);
    }
    for (const group of byDtype.values()) {
      const flat = noGrad(() => {
        const parts = group.map((t) => t.detach().reshape([-1]));
        const out = cat(parts, 0);
        for (const p of parts) p.dispose();
        return out;
      });
      try {
        await run(flat);
        noGrad(() => {
          let off = 0;
          for (const t of group) {
            const n = t.numel;
            const src = flat.narrow(0, off, n);
            const v = src.view(t.shape);
            t.copy_(v);
            v.dispose();
            src.dispose();
            off += n;
          }
        });
      } finally {
        flat.dispose();
      }
    }
  }
}
