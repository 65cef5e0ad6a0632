/**
 * Where this process sits in a distributed job, read from the environment the launchers set:
 * torchrun / `ecacface launch` (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT) or SLURM's srun (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE,
 * the first host of SLURM_NODELIST). torchrun's variables win when both are present. Under
 * torchrun the store is its agent's (TORCHELASTIC_USE_AGENT_STORE), see {@link LaunchEnv.agentStorePrefix}.
 */
import { checkIntText } from '../check.js';

/** A process's place in the job. */
export interface LaunchEnv {
  rank: number;
  worldSize: number;
  /** Rank among the processes of this node (the device index to use). */
  localRank: number;
  localWorldSize: number;
  /** Host and port of the rendezvous store (served by rank 0, or by torchrun's agent). */
  masterAddr: string;
  masterPort: number;
  /** Which variables gave it. */
  source: 'torchrun' | 'slurm' | 'single';
  /**
   * Set under torchrun (TORCHELASTIC_USE_AGENT_STORE=True): its elastic agent already serves the
   * store at MASTER_ADDR:MASTER_PORT, so rank 0 must not; the ranks keep their keys under this
   * prefix, `/worker/attempt_<TORCHELASTIC_RESTART_COUNT>`, as torch.distributed does.
   */
  agentStorePrefix?: string;
}

/** The default rendezvous port (torchrun's). */
export const DEFAULT_MASTER_PORT = 29500;

function int(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return checkIntText(`distributed: ${name}`, raw, min);
}

/**
 * The first host of a SLURM node list: `gpu[03-05,9],cpu1` → `gpu03`, `node7` → `node7`.
 */
export function firstSlurmHost(nodelist: string): string {
  const s = nodelist.trim();
  const m = /^([^,[]+)(?:\[([^\]]+)\])?/.exec(s);
  if (!m) throw new RangeError(`distributed: cannot read SLURM_NODELIST=${JSON.stringify(nodelist)}`);
  const prefix = m[1]!;
  if (m[2] === undefined) return prefix;
  const first = m[2].split(',')[0]!.split('-')[0]!;
  return prefix + first;
}

/**
 * Reads the launch environment. Without any launcher variables this is a single process
 * (rank 0 of 1). Throws a RangeError naming the variable when one is malformed or inconsistent.
 */
export function readLaunchEnv(env: NodeJS.ProcessEnv = process.env): LaunchEnv {
  const port = int(env, 'MASTER_PORT', 1) ?? DEFAULT_MASTER_PORT;
  if (port > 65535) throw new RangeError(`distributed: MASTER_PORT=${port} is not a port`);
  let out: LaunchEnv;
  if (env.RANK !== undefined || env.WORLD_SIZE !== undefined) {
    const rank = int(env, 'RANK', 0) ?? 0;
    const worldSize = int(env, 'WORLD_SIZE', 1) ?? 1;
    out = {
      rank,
      worldSize,
      localRank: int(env, 'LOCAL_RANK', 0) ?? rank,
      localWorldSize: int(env, 'LOCAL_WORLD_SIZE', 1) ?? worldSize,
      masterAddr: env.MASTER_ADDR || '127.0.0.1',
      masterPort: port,
      source: 'torchrun',
    };
    if (env.TORCHELASTIC_USE_AGENT_STORE === 'True') out.agentStorePrefix = `/worker/attempt_${int(env, 'TORCHELASTIC_RESTART_COUNT', 0) ?? 0}`;
  } else if (env.SLURM_PROCID !== undefined && env.SLURM_NTASKS !== undefined) {
    const rank = int(env, 'SLURM_PROCID', 0)!;
    const worldSize = int(env, 'SLURM_NTASKS', 1)!;
    // SLURM_NTASKS_PER_NODE may read "4" or "4(x2)".
    const perNode = Number((env.SLURM_NTASKS_PER_NODE ?? '').split('(')[0]);
    out = {
      rank,
      worldSize,
      localRank: int(env, 'SLURM_LOCALID', 0) ?? 0,
      localWorldSize: Number.isInteger(perNode) && perNode > 0 ? perNode : worldSize,
      masterAddr: env.MASTER_ADDR || (env.SLURM_NODELIST || env.SLURM_JOB_NODELIST ? firstSlurmHost((env.SLURM_NODELIST || env.SLURM_JOB_NODELIST)!) : '127.0.0.1'),
      masterPort: port,
      source: 'slurm',
    };
  } else {
    return { rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1, masterAddr: env.MASTER_ADDR || '127.0.0.1', masterPort: port, source: 'single' };
  }
  if (out.rank >= out.worldSize) throw new RangeError(`distributed: rank ${out.rank} must be < world size ${out.worldSize}`);
  if (out.localRank >= out.localWorldSize) {
    throw new RangeError(`distributed: local rank ${out.localRank} must be < local world size ${out.localWorldSize}`);
  }
  return out;
}
