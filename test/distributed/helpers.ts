/**
 * Runs a worker script as N ranks (child processes with the torchrun environment, Gloo over
 * 127.0.0.1 on a free port) and collects what each prints as JSON on its last stdout line.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

export const workers = join(dirname(fileURLToPath(import.meta.url)), 'workers');

/** The built CLI (dist/lib/cli/main.js). */
export const cli = join(process.cwd(), 'dist', 'lib', 'cli', 'main.js');

/** `ecacface launch --nproc-per-node 2 train …args` on a free port; waits for it to exit. */
export async function launchTrain(args: string[], timeoutMs = 150_000): Promise<SpawnSyncReturns<string>> {
  const port = await freePort();
  return spawnSync(process.execPath, [cli, 'launch', '--nproc-per-node', '2', '--master-port', String(port), 'train', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RankResult {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON of the last stdout line, if any. */
  json: any;
  /** ms from start to exit. */
  ms: number;
}

/** Options of {@link runRanks}. */
export interface RunRanksOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Per-rank arguments after `args`, and environment over `env` (e.g. a rank with another config). */
  argsOf?: (rank: number) => string[];
  envOf?: (rank: number) => Record<string, string>;
  /** Start only these ranks of the world (default: all). */
  ranks?: number[];
  timeoutMs?: number;
  onSpawn?: (rank: number, pid: number) => void;
}

/**
 * Starts `script` (a file in workers/, or an absolute path such as {@link cli}) as the ranks of a
 * world of `world`; resolves when all have exited (or `timeoutMs` passed: then kills them).
 */
export async function runRanks(script: string, world: number, options: RunRanksOptions = {}): Promise<RankResult[]> {
  const port = await freePort();
  const t0 = Date.now();
  const ranks = options.ranks ?? Array.from({ length: world }, (_, rank) => rank);
  const runs = ranks.map((rank) =>
    new Promise<RankResult>((resolve) => {
      const child = spawn(process.execPath, [resolvePath(workers, script), ...(options.args ?? []), ...(options.argsOf?.(rank) ?? [])], {
        env: {
          ...process.env,
          RANK: String(rank),
          WORLD_SIZE: String(world),
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: String(world),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          OMP_NUM_THREADS: '1',
          ECACFACE_NUM_THREADS: '1',
          ...options.env,
          ...options.envOf?.(rank),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      options.onSpawn?.(rank, child.pid!);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const last = stdout.trim().split('\n').pop() ?? '';
        let json: unknown = null;
        try {
          json = JSON.parse(last);
        } catch {
          /* not JSON */
        }
        resolve({ rank, code, signal, stdout, stderr, json, ms: Date.now() - t0 });
      });
    }),
  );
  return Promise.all(runs);
}

/** max |a − b| / max(|b|, floor) over two flat arrays. */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let scale = floor;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / scale;
}
