/**
 * Joining a process group, with progress: the store first (rank 0 serves it, or the launcher),
 * then every rank announces itself under `ecf/join/<rank>` with its view of the world (world size,
 * backend) and waits until all ranks have, naming who has joined every {@link PROGRESS_EVERY_MS}.
 * A rank that disagrees about the world is an error on every rank at once; the whole join is
 * bounded by the rendezvous timeout (ECACFACE_DIST_TIMEOUT_MS, default 300 000 ms, read by
 * `init()`). Only then does the backend (Gloo, NCCL) connect, which is quick once everyone is there.
 */
import { hostname } from 'node:os';
import type { NativeDistGroup } from '../native.js';

/** How often a wait reports progress (ms). */
export const PROGRESS_EVERY_MS = 10_000;
/** How often a wait polls the store (ms). */
const POLL_MS = 200;
/**
 * How long the rank serving the store (rank 0) stays, at most, after an exchange through it ended
 * in an error, so that the other ranks read what they need and report the same error (ms).
 */
export const LINGER_MS = 30_000;

/** Waits until every key in `keys` exists in the store, or {@link LINGER_MS} passed (a lost store ends it). */
export async function lingerFor(g: NativeDistGroup, keys: string[]): Promise<void> {
  const t0 = performance.now();
  while (keys.length && performance.now() - t0 < LINGER_MS) {
    const have = await g.storeCheck(keys).catch(() => keys.map(() => true));
    if (have.every(Boolean)) return;
    await sleep(POLL_MS / 2);
  }
}

/** What {@link rendezvous} needs to know about the group. */
export interface RendezvousPlace {
  rank: number;
  worldSize: number;
  backend: string;
  masterAddr: string;
  masterPort: number;
  /** A FileStore on this path instead of TCP. */
  storePath?: string;
  /** The launcher (torchrun's agent) serves the store. */
  externalStore?: boolean;
  /** The bound on the whole rendezvous (ms). */
  timeoutMs: number;
  /** Receives a progress line every {@link PROGRESS_EVERY_MS} while waiting. */
  onProgress: (message: string) => void;
}

/** What each rank announces when it joins. */
interface JoinRecord {
  worldSize: number;
  backend: string;
  host: string;
  pid: number;
}

/** `0-3, 5, 7-8`: a sorted list of ranks with runs collapsed. */
export function rankList(ranks: readonly number[]): string {
  const out: string[] = [];
  const s = [...ranks].sort((a, b) => a - b);
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return out.join(', ');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The first line of an error's message, without libtorch's C++ location noise. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

/** Calls `tick(elapsedMs)` every {@link PROGRESS_EVERY_MS} while `work` runs. */
async function withProgress<T>(work: Promise<T>, tick: (elapsedMs: number) => void): Promise<T> {
  const t0 = performance.now();
  const timer = setInterval(() => tick(performance.now() - t0), PROGRESS_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Connects `g`'s store, joins every rank through it, then connects the backend; see the module doc. */
export async function rendezvous(g: NativeDistGroup, p: RendezvousPlace): Promise<void> {
  const me = `rank ${p.rank} of ${p.worldSize}`;
  const where = p.storePath ? `the file store ${p.storePath}` : `${p.masterAddr}:${p.masterPort}`;
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  const serves = !p.storePath && !p.externalStore && p.rank === 0;

  // 1. The store.
  try {
    await withProgress(g.connectStore(), (ms) =>
      p.onProgress(`${me}: waiting for the rendezvous store at ${where} (${p.externalStore ? 'the launcher serves it' : 'rank 0 serves it'}): ${seconds(ms)} of ${seconds(p.timeoutMs)}`),
    );
  } catch (err) {
    const msg = firstLine(err);
    if (serves && /address already in use|EADDRINUSE|errno: 98\b/i.test(msg)) {
      throw new Error(
        `distributed: ${me} cannot serve the rendezvous store on port ${p.masterPort}: the port is in use (another job, or an earlier run still ending); ` +
          `choose another MASTER_PORT (ecacface launch --master-port) [${msg}]`,
      );
    }
    const when = elapsed() < 1000 ? 'at once' : `after ${seconds(elapsed())}`;
    throw new Error(
      serves
        ? `distributed: ${me} cannot serve the rendezvous store at ${where} (failed ${when}) [${msg}]`
        : `distributed: ${me} could not reach the rendezvous store at ${where} (gave up ${when}; the bound is ${p.timeoutMs} ms): ` +
          `is rank 0 running, with the same MASTER_ADDR and MASTER_PORT as this rank? [${msg}]`,
    );
  }

  // 2. Every rank joins.
  const mine: JoinRecord = { worldSize: p.worldSize, backend: p.backend, host: hostname(), pid: process.pid };
  const key = (r: number) => `ecf/join/${r}`;
  const keys = Array.from({ length: p.worldSize }, (_, r) => key(r));
  await g.storeSet(key(p.rank), JSON.stringify(mine));
  const joined = new Map<number, JoinRecord>();
  let nextReport = PROGRESS_EVERY_MS;
  const store = async <T>(op: Promise<T>): Promise<T> => {
    try {
      return await op;
    } catch (err) {
      throw new Error(`distributed: ${me} lost the rendezvous store at ${where} while the ranks joined${serves ? '' : ' (rank 0 serves it: has it exited?)'} [${firstLine(err)}]`);
    }
  };
  for (;;) {
    const have = await store(g.storeCheck(keys));
    for (let r = 0; r < p.worldSize; r++) {
      if (!have[r] || joined.has(r)) continue;
      const rec = JSON.parse(await store(g.storeGet(key(r)))) as JoinRecord;
      joined.set(r, rec);
      const differs = rec.worldSize !== mine.worldSize ? 'world size' : rec.backend !== mine.backend ? 'backend' : null;
      if (differs) {
        // the others must read this rank's record too before the store's server exits
        await g.storeSet(`ecf/join/read/${p.rank}`, '1').catch(() => undefined);
        if (serves) await lingerFor(g, [...joined.keys()].filter((q) => q !== p.rank).map((q) => `ecf/join/read/${q}`));
        throw new Error(
          `distributed: the ranks disagree about the ${differs}: rank ${r} (${rec.host}, pid ${rec.pid}) has ${differs === 'world size' ? `WORLD_SIZE=${rec.worldSize}` : rec.backend}, ` +
            `rank ${p.rank} (${mine.host}, pid ${mine.pid}) has ${differs === 'world size' ? `WORLD_SIZE=${mine.worldSize}` : mine.backend}; every rank must be started with the same world`,
        );
      }
    }
    if (joined.size === p.worldSize) break;
    const missing = keys.map((_, r) => r).filter((r) => !joined.has(r));
    const status = `${joined.size} of ${p.worldSize} ranks joined (${rankList([...joined.keys()])}); waiting for rank${missing.length > 1 ? 's' : ''} ${rankList(missing)}`;
    if (elapsed() > p.timeoutMs) {
      throw new Error(
        `distributed: ${me}: the rendezvous at ${where} timed out after ${p.timeoutMs} ms (ECACFACE_DIST_TIMEOUT_MS): ${status}. ` +
          'Were they started, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE?',
      );
    }
    if (elapsed() >= nextReport) {
      p.onProgress(`${me}: rendezvous at ${where}: ${status} (${seconds(elapsed())} of ${seconds(p.timeoutMs)})`);
      nextReport += PROGRESS_EVERY_MS;
    }
    await sleep(POLL_MS);
  }

  // 3. The backend.
  try {
    await g.connectBackend();
  } catch (err) {
    throw new Error(`distributed: ${me}: every rank joined at ${where}, but the ${p.backend} backend could not connect [${firstLine(err)}]`);
  }
}
