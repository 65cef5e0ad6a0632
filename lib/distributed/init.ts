/**
 * `distributed.init()`: joins the job this process was launched into (torchrun, `ecacface
 * launch` or SLURM's srun), as `torch.distributed.init_process_group('env://')`.
 */
import { cuda } from '../tensor/index.js';
import { readLaunchEnv, type LaunchEnv } from './env.js';
import { availableBackends, ProcessGroup, type ProcessGroupOptions } from './group.js';
import { checkNumberText } from '../check.js';

/** Options of {@link init}. */
export interface InitOptions {
  /** Default: 'nccl' when CUDA is available and the build has NCCL, else 'gloo'. */
  backend?: 'gloo' | 'nccl';
  /** Collective timeout (ms). Default: ECACFACE_DIST_TIMEOUT_MS or 300 000. */
  timeoutMs?: number;
  /** Rendezvous timeout (ms). Default: ECACFACE_DIST_TIMEOUT_MS or 300 000; see {@link ProcessGroupOptions.rendezvousTimeoutMs}. */
  rendezvousTimeoutMs?: number;
  /** Progress while joining takes long (every 10 s); default: a line on stderr. */
  onProgress?: (message: string) => void;
  /** See {@link ProcessGroupOptions.checkCollectives}. Default: true, unless ECACFACE_DIST_CHECK=0. */
  checkCollectives?: boolean;
  /** The environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A FileStore rendezvous on this path instead of TCP. */
  storePath?: string;
}

/** The default rendezvous and collective timeout (ms), when ECACFACE_DIST_TIMEOUT_MS is not set. */
export const DEFAULT_DIST_TIMEOUT_MS = 300_000;

/** ECACFACE_DIST_TIMEOUT_MS (a positive number of ms), else {@link DEFAULT_DIST_TIMEOUT_MS}. */
export function envTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ECACFACE_DIST_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_DIST_TIMEOUT_MS;
  return checkNumberText('distributed: ECACFACE_DIST_TIMEOUT_MS (ms)', raw, { above: 0 });
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
  const timeoutMs = options.timeoutMs ?? envTimeoutMs(env);
  const rendezvousTimeoutMs = options.rendezvousTimeoutMs ?? envTimeoutMs(env);
  const group = await ProcessGroup.connect({
    backend,
    rank: place.rank,
    worldSize: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    timeoutMs,
    rendezvousTimeoutMs,
    checkCollectives: options.checkCollectives ?? env.ECACFACE_DIST_CHECK !== '0',
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.storePath ? { storePath: options.storePath } : place.agentStorePrefix ? { externalStorePrefix: place.agentStorePrefix } : {}),
  });
  return { ...place, group };
}
