/**
 * The ranks compare what must be the same on all of them (a fingerprint: config, model, data,
 * world) through the store, before any collective depends on it. Ranks that run different
 * configs would otherwise meet in collectives of different sizes, which Gloo answers by aborting
 * the process from its own thread, or hang until the collective timeout.
 *
 * Each rank writes its entries (key → JSON value) under `ecf/agree/<n>/<rank>` and reads every
 * other rank's; all of them then find the same first key whose values differ and fail with an
 * error naming it and each rank's value. A rank that failed before it could compare (its data
 * did not open, say) writes its error there instead, and the others fail at once naming it. The
 * wait is bounded by the group's timeout; it reports progress every 10 s and notices a waited-for
 * rank whose heartbeat stopped. When the exchange ends in an error, the rank that serves the store
 * (rank 0) stays until every rank has read what it needs ({@link LINGER_MS} at most), so that all of
 * them report the difference rather than a lost store.
 */
import type { NativeDistGroup } from '../native.js';
import { firstLine, LINGER_MS, lingerFor, PROGRESS_EVERY_MS, rankList, sleep } from './rendezvous.js';

/** A fingerprint: names → JSON-serialisable values that must be equal on every rank. */
export type Fingerprint = Record<string, unknown>;

/** Thrown on every rank when the ranks' fingerprints differ. */
export class SetupMismatchError extends Error {
  constructor(
    /** The first key (in the order of rank 0's fingerprint) whose values differ. */
    readonly key: string,
    /** Each rank's value (JSON text; undefined where the rank has no such key). */
    readonly values: (string | undefined)[],
    what: string,
  ) {
    super(`distributed: the ranks' ${what} differ${key ? ` at '${key}'` : ''}: ${describeValues(values)}`);
    this.name = 'SetupMismatchError';
  }
}

const MAX_SHOWN = 200;
const show = (v: string | undefined) => (v === undefined ? '(none)' : v.length > MAX_SHOWN ? `${v.slice(0, MAX_SHOWN)}…` : v);

/** `rank 0: 512, rank 1: 32`, or grouped by value for more than 8 ranks: `512 (ranks 0, 2-9), 32 (rank 1)`. */
function describeValues(values: (string | undefined)[]): string {
  if (values.length <= 8) return values.map((v, r) => `rank ${r}: ${show(v)}`).join(', ');
  const by = new Map<string | undefined, number[]>();
  values.forEach((v, r) => by.set(v, [...(by.get(v) ?? []), r]));
  return [...by].map(([v, rs]) => `${show(v)} (rank${rs.length > 1 ? 's' : ''} ${rankList(rs)})`).join(', ');
}

/** What a rank writes: its fingerprint, or why it could not get there. */
type Entry = { entries: Fingerprint } | { failed: string };

/** Where {@link agree} runs. */
export interface AgreePlace {
  rank: number;
  worldSize: number;
  /** This rank serves the store (its exit ends it). */
  servesStore: boolean;
  /** Bound on the wait for the other ranks (ms). */
  timeoutMs: number;
  onProgress: (message: string) => void;
}

/** The first key whose JSON differs between the ranks ('' when all agree). */
function firstDifference(all: Fingerprint[]): { key: string; values: (string | undefined)[] } | null {
  const keys = [...new Set(all.flatMap((f) => Object.keys(f)))];
  for (const key of keys) {
    const values = all.map((f) => (key in f ? JSON.stringify(f[key]) : undefined));
    if (values.some((v) => v !== values[0])) return { key, values };
  }
  return null;
}

/** The store operations of one exchange; a failure of the store itself becomes an Error saying so. */
function exchange(g: NativeDistGroup, p: AgreePlace, seq: number, what: string) {
  const guard = async <T>(op: Promise<T>): Promise<T> => {
    try {
      return await op;
    } catch (err) {
      throw new Error(
        `distributed: rank ${p.rank} of ${p.worldSize} lost the rendezvous store while comparing the ${what}` +
          `${p.servesStore ? '' : ': the rank serving it (rank 0) has probably exited'} [${firstLine(err)}]`,
      );
    }
  };
  const entryKey = (r: number) => `ecf/agree/${seq}/${r}`;
  const ranks = Array.from({ length: p.worldSize }, (_, r) => r);
  return {
    ranks,
    publish: (e: Entry) => guard(g.storeSet(entryKey(p.rank), JSON.stringify(e))),
    present: () => guard(g.storeCheck(ranks.map(entryKey))),
    entry: async (r: number) => JSON.parse(await guard(g.storeGet(entryKey(r)))) as Entry,
    heartbeat: (r: number) => guard(g.storeGet(`ecf/hb/${r}`)),
    /** Marks that this rank has read what it needs (best effort). */
    markRead: () => g.storeSet(`ecf/agree/${seq}/read/${p.rank}`, '1').catch(() => undefined),
    /** Waits (at most LINGER_MS) until the other ranks have marked so. */
    othersRead: () => lingerFor(g, ranks.filter((r) => r !== p.rank).map((r) => `ecf/agree/${seq}/read/${r}`)),
  };
}

/** Waits for every rank's entry; resolves to the error the exchange ends with, or null when all agree. */
async function collect(x: ReturnType<typeof exchange>, p: AgreePlace, what: string): Promise<Error | null> {
  const got = new Map<number, Fingerprint>();
  const t0 = performance.now();
  let nextReport = PROGRESS_EVERY_MS;
  let beats = new Map<number, string>();
  for (;;) {
    const have = await x.present();
    for (const r of x.ranks) {
      if (!have[r] || got.has(r)) continue;
      const e = await x.entry(r);
      if ('failed' in e) return new Error(`distributed: rank ${r} failed before the ranks compared their ${what}: ${e.failed}`);
      got.set(r, e.entries);
    }
    if (got.size === p.worldSize) break;
    const missing = x.ranks.filter((r) => !got.has(r));
    const waited = performance.now() - t0;
    const waiting = `rank${missing.length > 1 ? 's' : ''} ${rankList(missing)}`;
    if (waited > p.timeoutMs) throw new Error(`distributed: rank ${p.rank}: ${waiting} did not compare the ${what} within ${p.timeoutMs} ms`);
    if (waited >= nextReport) {
      nextReport += PROGRESS_EVERY_MS;
      // a waited-for rank whose heartbeat did not move since the last report has exited or hangs
      const now = new Map<number, string>();
      for (const r of missing) now.set(r, await x.heartbeat(r));
      const dead = missing.filter((r) => beats.has(r) && beats.get(r) === now.get(r));
      if (dead.length) {
        throw new Error(`distributed: rank ${rankList(dead)} stopped responding (no heartbeat for ${PROGRESS_EVERY_MS / 1000} s) before the ranks compared their ${what}`);
      }
      beats = now;
      p.onProgress(`rank ${p.rank} of ${p.worldSize}: waiting for ${waiting} to compare the ${what} (${Math.round(waited / 1000)} s)`);
    }
    await sleep(200);
  }
  const d = firstDifference(x.ranks.map((r) => got.get(r)!));
  return d ? new SetupMismatchError(d.key, d.values, what) : null;
}

/**
 * Exchange number `seq` (every rank calls the same sequence): publishes `mine` and waits for every
 * rank's; throws {@link SetupMismatchError} when they differ, or an Error naming a rank that failed
 * or stopped. `what` names the fingerprint in errors (e.g. 'training configs').
 */
export async function agree(g: NativeDistGroup, p: AgreePlace, seq: number, mine: Entry, what: string): Promise<void> {
  const x = exchange(g, p, seq, what);
  await x.publish(mine);
  const outcome = 'failed' in mine ? null : await collect(x, p, what);
  if (outcome || 'failed' in mine) {
    // the exchange ends the run: the store must outlive it until every rank has read it
    await x.markRead();
    if (p.servesStore) await x.othersRead();
  }
  if (outcome) throw outcome;
}
