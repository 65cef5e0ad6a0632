/**
 * Reading a user's file: only regular files. A FIFO would block the read forever and a directory
 * gives an unhelpful error (or, natively, a huge allocation); both are refused by name first.
 */
import { readFileSync, statSync } from 'node:fs';

/** Throws unless `path` is a regular file (following symbolic links); `what` names it in errors. */
export function assertRegularFile(path: string, what = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${what} '${path}' does not exist` : `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : 'a device';
    throw new Error(`${what} '${path}' is ${kind}, not a regular file`);
  }
}

/** `readFileSync` of a regular file only (see {@link assertRegularFile}). */
export function readRegularFile(path: string, what?: string): Buffer;
export function readRegularFile(path: string, what: string | undefined, encoding: BufferEncoding): string;
export function readRegularFile(path: string, what = 'file', encoding?: BufferEncoding): Buffer | string {
  assertRegularFile(path, what);
  return encoding ? readFileSync(path, encoding) : readFileSync(path);
}
