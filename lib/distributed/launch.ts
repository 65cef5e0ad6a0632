/**
 * `ecacface launch`: starts one worker process per device with the environment torchrun sets
 * (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, GROUP_RANK), prefixes
 * each worker's output lines with its rank, forwards Ctrl-C (a second one kills), and when a worker
 * fails stops the others and names it. The number of workers per node is bounded by the machine
 * ({@link workerLimit}) unless forced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { cuda } from '../tensor/runtime.js';
import { checkInt } from '../check.js';

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** The program and its arguments, run once per local rank. */
  command: string[];
  nprocPerNode: number;
  /** Default 1. */
  nnodes?: number;
  /** This node's index in [0, nnodes). Default 0. */
  nodeRank?: number;
  /** Default 127.0.0.1. */
  masterAddr?: string;
  /** Default: a free port for a single node, 29500 for several. */
  masterPort?: number;
  /** Start more workers than {@link workerLimit} allows (e.g. CPU workers on a GPU machine). */
  force?: boolean;
  /** GPUs on this node, for {@link workerLimit} (default: as libtorch counts them; 0 without CUDA). */
  gpus?: number;
  /** After a failure, how long the other workers get to exit after SIGTERM before SIGKILL (ms). Default 15 000. */
  killGraceMs?: number;
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /** Where prefixed lines go (default process.stdout / process.stderr). */
  out?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** What happened. */
export interface LaunchResult {
  /** 0 when every worker succeeded; the failed worker's code otherwise (1 for a signal); 130 after Ctrl-C. */
  exitCode: number;
  /** The first worker that failed, if any. */
  failed?: { rank: number; localRank: number; pid: number; code: number | null; signal: NodeJS.Signals | null };
  interrupted: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 29500));
    });
  });
}

/** Workers per CPU core at most, on a machine without GPUs. */
export const WORKERS_PER_CORE = 4;

/**
 * The most workers a node runs without `force`: one per GPU on a machine with GPUs (each worker
 * takes `cuda:<local rank>`), else {@link WORKERS_PER_CORE} × the CPU cores.
 */
export function workerLimit(gpus = cuda.deviceCount()): { limit: number; why: string } {
  if (gpus > 0) return { limit: gpus, why: `this node has ${gpus} GPU${gpus > 1 ? 's' : ''} (one worker each)` };
  const cores = availableParallelism();
  return { limit: cores * WORKERS_PER_CORE, why: `this node has no GPU and ${cores} CPU core${cores > 1 ? 's' : ''} (at most ${WORKERS_PER_CORE} workers each)` };
}

/** Runs the workers of this node until they end; see the module comment. */
export async function launch(o: LaunchOptions): Promise<LaunchResult> {
  const nproc = checkInt('launch: --nproc-per-node', o.nprocPerNode, 1);
  const nnodes = checkInt('launch: --nnodes', o.nnodes ?? 1, 1);
  const nodeRank = checkInt('launch: --node-rank', o.nodeRank ?? 0, 0);
  if (nodeRank >= nnodes) throw new RangeError(`launch: --node-rank ${nodeRank} must be < --nnodes ${nnodes}`);
  if (o.command.length === 0) throw new RangeError('launch: no command to run (e.g. `ecacface launch --nproc-per-node 2 train -c run.yaml`)');
  if (!o.force) {
    const { limit, why } = workerLimit(o.gpus);
    if (nproc > limit) {
      throw new RangeError(`launch: --nproc-per-node ${nproc} is more than ${limit}: ${why}. Add --force to start them anyway (e.g. CPU workers on a GPU machine)`);
    }
  }
  if (o.masterPort !== undefined) checkInt('launch: --master-port', o.masterPort, 1, 65535);
  const masterPort = o.masterPort ?? (nnodes === 1 ? await freePort() : 29500);
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const world = nnodes * nproc;
  const out = o.out ?? ((line, s) => (s === 'stdout' ? process.stdout : process.stderr).write(line + '\n'));
  const threads = String(Math.max(1, Math.floor(availableParallelism() / nproc)));

  const children: { child: ChildProcess; rank: number; localRank: number; done: boolean }[] = [];
  let failed: LaunchResult['failed'];
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stopOthers = (signal: NodeJS.Signals) => {
    for (const c of children) if (!c.done) c.child.kill(signal);
  };
  const onSigint = () => {
    if (interrupted) {
      stopOthers('SIGKILL');
      return;
    }
    interrupted = true;
    out('launch: interrupted: forwarding SIGINT to the workers (again to kill them)', 'stderr');
    stopOthers('SIGINT');
  };
  const onSigterm = () => {
    interrupted = true;
    stopOthers('SIGTERM');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  try {
    await new Promise<void>((resolveAll) => {
      let running = nproc;
      for (let localRank = 0; localRank < nproc; localRank++) {
        const rank = nodeRank * nproc + localRank;
        const child = spawn(o.command[0]!, o.command.slice(1), {
          env: {
            ...process.env,
            ...(process.env.OMP_NUM_THREADS ? {} : { OMP_NUM_THREADS: threads }),
            ...o.env,
            RANK: String(rank),
            WORLD_SIZE: String(world),
            LOCAL_RANK: String(localRank),
            LOCAL_WORLD_SIZE: String(nproc),
            GROUP_RANK: String(nodeRank),
            MASTER_ADDR: masterAddr,
            MASTER_PORT: String(masterPort),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const entry = { child, rank, localRank, done: false };
        children.push(entry);
        for (const stream of ['stdout', 'stderr'] as const) {
          let buf = '';
          child[stream]!.setEncoding('utf8');
          child[stream]!.on('data', (d: string) => {
            buf += d;
            const lines = buf.split(/\r?\n|\r/);
            buf = lines.pop()!;
            for (const l of lines) out(`[rank ${rank}] ${l}`, stream);
          });
          child[stream]!.on('end', () => {
            if (buf) out(`[rank ${rank}] ${buf}`, stream);
            buf = '';
          });
        }
        child.on('error', (err) => out(`launch: rank ${rank} could not start: ${err.message}`, 'stderr'));
        child.on('exit', (code, signal) => {
          entry.done = true;
          if ((code !== 0 || signal) && !failed && !interrupted) {
            failed = { rank, localRank, pid: child.pid ?? -1, code, signal };
            out(
              `launch: rank ${rank} (local rank ${localRank}, pid ${child.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; stopping the other workers`,
              'stderr',
            );
            stopOthers('SIGTERM');
            killTimer = setTimeout(() => stopOthers('SIGKILL'), o.killGraceMs ?? 15_000);
            killTimer.unref();
          }
          if (--running === 0) resolveAll();
        });
      }
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    if (killTimer) clearTimeout(killTimer);
  }
  if (failed) return { exitCode: failed.code && failed.code > 0 ? failed.code : 1, failed, interrupted };
  if (interrupted) return { exitCode: 130, interrupted };
  return { exitCode: 0, interrupted };
}
