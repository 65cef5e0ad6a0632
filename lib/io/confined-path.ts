/**
 * File names that come from inside a file (a landmarks list, a model card) are joined to a folder
 * only through {@link confinedPath}: an absolute name, a NUL byte, or a name whose `..` segments
 * leave the folder is refused with an error naming the file it came from. (A symbolic link that
 * already exists inside the folder is the folder owner's choice and is followed.)
 */
import { isAbsolute, relative, resolve, sep, win32 } from 'node:path';

/** A file name from a file that would leave its folder. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/**
 * `root/name`, resolved, after checking that `name` (read from `source`) stays inside `root`.
 * @param what what the name is, for the error ("image", "output file", "weights file").
 */
export function confinedPath(root: string, name: string, source: string, what = 'file'): string {
  if (typeof name !== 'string' || name.length === 0) throw new UnsafePathError(`${source}: empty ${what} name`);
  if (name.includes('\0')) throw new UnsafePathError(`${source}: ${what} name ${JSON.stringify(name)} contains a NUL byte`);
  if (isAbsolute(name) || win32.isAbsolute(name)) {
    throw new UnsafePathError(`${source}: ${what} name ${JSON.stringify(name)} is absolute; names in this file must be relative to ${root}`);
  }
  const base = resolve(root);
  const full = resolve(base, name);
  const rel = relative(base, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UnsafePathError(`${source}: ${what} name ${JSON.stringify(name)} leaves ${root}; refusing it`);
  }
  return full;
}
