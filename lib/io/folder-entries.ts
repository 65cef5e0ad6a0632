/**
 * Listing a user's folder (an image folder to pack, photos to align): regular files and
 * sub-folders, with symbolic links followed only while they stay inside the folder given (the
 * root). A link that leads out of the root, a broken link, a link back to a folder being listed
 * (a cycle), and anything that is not a regular file or a folder (a FIFO named `x.jpg`) are not
 * listed but reported, so that the command's summary can count them.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** An entry left out of a listing, and why. */
export interface SkippedEntry {
  /** The path as found (root joined with the entry's relative path). */
  path: string;
  reason: string;
}

/** Which entries {@link FolderLister.list} lists (and reports when it cannot). */
export interface ListOptions {
  /** Resolved paths of the folder listed and the folders above it (for cycles). */
  chain?: readonly string[];
  /** Files to list, by name (default: all). */
  file?: (name: string) => boolean;
  /** Whether sub-folders are listed (default true). */
  folders?: boolean;
}

/** The entries of one folder of a {@link FolderLister}. */
export interface FolderEntries {
  /** Names of regular files (or links to them inside the root), sorted by code unit. */
  files: string[];
  /** Names of folders (or links to them inside the root), sorted by code unit. */
  dirs: string[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Lists the folders under one root; collects what it skipped in {@link FolderLister.skipped}. */
export class FolderLister {
  /** Entries left out so far, in the order met. */
  readonly skipped: SkippedEntry[] = [];
  readonly #realRoot: string;

  /** @param root the input folder (throws the file system's error if it does not exist). */
  constructor(readonly root: string) {
    this.#realRoot = realpathSync(root);
  }

  /** Whether a resolved path lies inside the root (or is the root). */
  #inside(real: string): boolean {
    const r = relative(this.#realRoot, real);
    return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !r.startsWith(sep));
  }

  /**
   * The files and folders of `rel` (a folder under the root, '' for the root itself). Only the
   * entries the caller would use are listed or reported: files whose name `options.file` accepts
   * (default: all), folders unless `options.folders` is false. `options.chain` holds the resolved
   * paths of `rel` and the folders above it, to refuse a link back to one of them.
   */
  list(rel: string, options: ListOptions = {}): FolderEntries {
    const dir = join(this.root, rel);
    const out: FolderEntries = { files: [], dirs: [] };
    const o = { chain: options.chain ?? [], file: options.file ?? ((): boolean => true), folders: options.folders ?? true };
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile()) {
        if (o.file(e.name)) out.files.push(e.name);
      } else if (e.isDirectory()) {
        if (o.folders) out.dirs.push(e.name);
      } else if (e.isSymbolicLink()) this.#link(join(dir, e.name), e.name, o, out);
      else if (o.file(e.name)) this.skipped.push({ path: join(dir, e.name), reason: 'not a regular file' });
    }
    out.files.sort(byName);
    out.dirs.sort(byName);
    return out;
  }

  /**
   * Throws unless `path` (a path under the root) resolves inside the root: a name may not reach
   * out through a symbolic link. A path that does not exist passes (reading it will say so).
   */
  assertInside(path: string): void {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return;
    }
    if (!this.#inside(real)) throw new Error(`'${path}' leads out of ${this.root} through a symbolic link`);
  }

  /** The resolved path of a folder under the root (for `chain`). */
  realPath(rel: string): string {
    return realpathSync(join(this.root, rel));
  }

  /** A link is listed as what it leads to, inside the root; else reported if it would have been used. */
  #link(path: string, name: string, o: Required<ListOptions>, out: FolderEntries): void {
    let real: string;
    let isDir = false;
    let isFile = false;
    try {
      real = realpathSync(path);
      const st = statSync(real);
      isDir = st.isDirectory();
      isFile = st.isFile();
    } catch {
      if (o.file(name)) this.skipped.push({ path, reason: 'a broken symbolic link' });
      return;
    }
    if (isDir ? !o.folders : !o.file(name)) return; // an entry this listing would not use anyway
    if (!this.#inside(real)) this.skipped.push({ path, reason: `a symbolic link that leads out of ${this.root}` });
    else if (isFile) out.files.push(name);
    else if (!isDir) this.skipped.push({ path, reason: 'a symbolic link to something that is not a regular file' });
    else if (real === this.#realRoot || o.chain.includes(real)) this.skipped.push({ path, reason: 'a symbolic link back to a folder that contains it (a cycle)' });
    else out.dirs.push(name);
  }
}

/** One line for a command's summary: how many entries were skipped, and the first few. */
export function describeSkipped(skipped: readonly SkippedEntry[], what: string): string {
  const shown = skipped.slice(0, 5).map((s) => `${s.path} (${s.reason})`);
  return `${what}: skipped ${skipped.length} entr${skipped.length === 1 ? 'y' : 'ies'} that ${skipped.length === 1 ? 'is' : 'are'} not a regular file or folder inside the input folder: ${shown.join(', ')}${skipped.length > 5 ? ', …' : ''}`;
}
