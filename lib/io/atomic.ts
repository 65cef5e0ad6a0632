/** Atomic file writes: a temporary file in the same folder, fsync, rename, fsync of the folder. */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { namingFile, writeError } from './write-error.js';

/** The temporary file name of a write to `path` by process `pid`. */
function tempName(path: string, pid: number): string {
  return join(dirname(path), `.${basename(path)}.tmp-${pid}-${Date.now()}`);
}
const TEMP = /^\..+\.tmp-(\d+)-\d+$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // writes are synchronous: none of ours is in flight now
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that {@link writeFileAtomic} left in `dir` when its process was
 * killed mid-write (their writer is no longer running); returns their paths. A missing folder
 * has none.
 */
export function removeStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** Writes `chunks` to `path` atomically: readers see the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, chunks: Uint8Array[]): void {
  const dir = dirname(path);
  const tmp = tempName(path, process.pid);
  const fd = namingFile(path, 'writing', () => openSync(tmp, 'w'));
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw writeError(err, path, 'writing');
  }
  closeSync(fd);
  namingFile(path, 'writing', () => renameSync(tmp, path));
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some filesystems cannot fsync a directory; the rename is still atomic */
  }
}
