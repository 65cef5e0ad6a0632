/**
 * Reading a user's file: only regular files. A FIFO would block the read forever and a directory
 * gives an unhelpful error (or, natively, a huge allocation); both are refused by name first.
 *
 * Every reader of a path that comes from a user goes through {@link openRegularFile} (or the
 * helpers built on it): the file is opened without blocking (`O_NONBLOCK`: opening a FIFO does
 * not wait for a writer) and the *opened* descriptor is checked with `fstat`, so a file swapped
 * for a FIFO between a check and the read cannot block us either.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';

/** The most bytes one whole-file read returns: a Buffer's limit (sync) and `FileHandle.readFile`'s 2 GiB (async). */
const MAX_SYNC_READ = bufferConstants.MAX_LENGTH;
const MAX_ASYNC_READ = 2 ** 31 - 1;

/** Refuses a file too large for one read by name (Node's own error names neither the file nor the limit). */
function checkFitsOneRead(size: number, path: string, what: string, limit: number): void {
  if (size > limit) throw new Error(`${what} '${path}' is ${size} bytes, more than one read can hold (${limit})`);
}

/** What a non-regular file is, for messages. */
function kindOf(st: Stats): string {
  return st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : 'a device';
}

/** An error of opening `path`, naming it (its errno `code` kept). */
function openError(e: unknown, path: string, what: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const err: NodeJS.ErrnoException = new Error(code === 'ENOENT' ? `${what} '${path}' does not exist` : `cannot read ${what} '${path}': ${(e as Error).message}`);
  if (code !== undefined) err.code = code;
  return err;
}

/** Refuses `st` unless it is a regular file of at most `maxBytes` bytes. */
function check(st: Stats, path: string, what: string, maxBytes: number | undefined): void {
  if (!st.isFile()) throw new Error(`${what} '${path}' is ${kindOf(st)}, not a regular file`);
  if (maxBytes !== undefined && st.size > maxBytes) {
    throw new Error(`${what} '${path}' is ${st.size} bytes, more than the ${maxBytes} allowed for it`);
  }
}

/** Options of the readers below. */
export interface RegularFileOptions {
  /** Refuse a file larger than this many bytes (checked before reading anything). */
  maxBytes?: number;
}

const NONBLOCKING_READ = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens a regular file for reading and returns its descriptor and size (close it with
 * `closeSync`); a FIFO, directory, socket or device is refused by name without blocking.
 */
export function openRegularFile(path: string, what = 'file', options: RegularFileOptions = {}): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, NONBLOCKING_READ);
  } catch (e) {
    throw openError(e, path, what);
  }
  try {
    const st = fstatSync(fd);
    check(st, path, what, options.maxBytes);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Throws unless `path` is a regular file (following symbolic links); `what` names it in errors. */
export function assertRegularFile(path: string, what = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw openError(e, path, what);
  }
  check(st, path, what, undefined);
}

/** The whole content of a regular file (see {@link openRegularFile}). */
export function readRegularFile(path: string, what?: string, encoding?: undefined, options?: RegularFileOptions): Buffer;
export function readRegularFile(path: string, what: string | undefined, encoding: BufferEncoding, options?: RegularFileOptions): string;
export function readRegularFile(path: string, what = 'file', encoding?: BufferEncoding, options: RegularFileOptions = {}): Buffer | string {
  const { fd, size } = openRegularFile(path, what, options);
  try {
    checkFitsOneRead(size, path, what, MAX_SYNC_READ);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const data = got === size ? buf : buf.subarray(0, got); // the file shrank while we read it
    return encoding ? data.toString(encoding) : data;
  } finally {
    closeSync(fd);
  }
}

/** {@link readRegularFile} without blocking the event loop. */
export async function readRegularFileAsync(path: string, what = 'file', options: RegularFileOptions = {}): Promise<Buffer> {
  let h;
  try {
    h = await open(path, NONBLOCKING_READ);
  } catch (e) {
    throw openError(e, path, what);
  }
  try {
    const st = await h.stat();
    check(st, path, what, options.maxBytes);
    checkFitsOneRead(st.size, path, what, MAX_ASYNC_READ);
    return await h.readFile();
  } finally {
    await h.close();
  }
}
