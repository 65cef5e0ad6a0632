/**
 * Write errors that name their file. Node's `write` errors do not ("ENOSPC: no space left on
 * device, write"): on a full disk or a read-only folder the user must learn which file of a run
 * could not be written.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** `err` (an fs error) as an Error whose message names `path` and what was being done; code, errno and syscall kept. */
export function writeError(err: unknown, path: string, doing: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (!(e instanceof Error)) return new Error(`${doing} ${path} failed: ${String(err)}`);
  const hint = e.code === 'ENOSPC' ? ' (the disk is full)' : e.code === 'EROFS' ? ' (a read-only file system)' : e.code === 'EACCES' || e.code === 'EPERM' ? ' (no permission to write there)' : '';
  const out: NodeJS.ErrnoException = new Error(`${doing} ${path} failed: ${e.message}${hint}`, { cause: e });
  if (e.code !== undefined) out.code = e.code;
  if (e.errno !== undefined) out.errno = e.errno;
  if (e.syscall !== undefined) out.syscall = e.syscall;
  out.path = path;
  return out;
}

/** Runs `write` (a synchronous fs write of `path`), rethrowing its error through {@link writeError}. */
export function namingFile<T>(path: string, doing: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw writeError(err, path, doing);
  }
}

/**
 * `mkdirSync(path, { recursive: true })` whose error names the real cause: Node's recursive
 * mkdir reports a folder on a read-only file system as ENOENT, so on failure the first missing
 * folder is made alone, which fails with the true code (EROFS, EACCES…). `what` names the folder.
 */
export function makeDirectory(path: string, what: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    let first = path;
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    let cause = err;
    try {
      mkdirSync(first);
    } catch (e) {
      cause = e;
    }
    throw writeError(cause, path, `creating ${what}`);
  }
}
