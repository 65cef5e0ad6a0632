/**
 * `distributed.init()`: joins the job this process was launched into (torchrun, `ecacface
 * launch` or SLURM's srun), as `torch.distributed.init_process_group('env://')`.
 */
import { cuda } from '../tensor/index.js';
import { readLaunchEnv, type LaunchEnv } from './env.js';
import { availableBackends, ProcessGroup, type ProcessGroupOptions } from './group.js';

/** Options of {@link init}. */
export interface InitOptions {
  /** Default: 'nccl' when CUDA is available and the build has NCCL, else 'gloo'. */
  backend?: 'gloo' | 'nccl';
  /** Collective timeout (ms). Default: ECACFACE_DIST_TIMEOUT_MS or 300 000. */
  timeoutMs?: number;
  /** Rendezvous timeout (ms); see {@link ProcessGroupOptions.rendezvousTimeoutMs}. */
  rendezvousTimeoutMs?: number;
  /** The environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A FileStore rendezvous on this path instead of TCP. */
  storePath?: string;
}

/** The connected group and where this process sits in the job. */
export interface Distributed extends LaunchEnv {
  group: ProcessGroup;
}

/**
 * Reads the launch environment and connects every rank's process group (all ranks must call it).
 * A single process (no launcher variables) gets a group of one.
 */
export async function init(options: InitOptions = {}): Promise<Distributed> {
  const env = options.env ?? process.env;
  const place = readLaunchEnv(env);
  const backends = availableBackends();
  const backend = options.backend ?? (cuda.isAvailable() && backends.includes('nccl') ? 'nccl' : 'gloo');
  const fromEnv = Number(env.ECACFACE_DIST_TIMEOUT_MS);
  const timeoutMs = options.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 300_000);
  const group = await ProcessGroup.connect({
    backend,
    rank: place.rank,
    worldSize: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    timeoutMs,
    ...(options.rendezvousTimeoutMs !== undefined ? { rendezvousTimeoutMs: options.rendezvousTimeoutMs } : {}),
    ...(options.storePath ? { storePath: options.storePath } : place.agentStorePrefix ? { externalStorePrefix: place.agentStorePrefix } : {}),
  });
  return { ...place, group };
}
