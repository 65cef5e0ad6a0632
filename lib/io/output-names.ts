/**
 * Output file names that never collide within one command: `x.jpg` and `x.png` aligned into one
 * folder would both become `x.png`, and `a/x.jpg`, `b/x.jpg` drawn into one folder both `x.png`.
 * {@link OutputNames.claim} hands out each name once; a name already handed out gets `-2`, `-3`, …
 * before its extension, and the renames are kept for the command's summary.
 */
import { extname } from 'node:path';

/** A name that was taken, and the one given instead. */
export interface RenamedOutput {
  wanted: string;
  given: string;
  /** What the output was made from (for the summary). */
  from: string;
}

/** The names handed out by one command. */
export class OutputNames {
  readonly #taken = new Set<string>();
  /** Outputs that got another name than the one they wanted, in order. */
  readonly renamed: RenamedOutput[] = [];

  // Case-insensitive file systems (macOS, Windows) store `X.png` and `x.png` as one file.
  static #key(name: string): string {
    return name.normalize('NFC').toLowerCase();
  }

  /** A name for an output that wants `name` (a relative path), made from `from`: `name` if still free. */
  claim(name: string, from: string): string {
    let given = name;
    if (this.#taken.has(OutputNames.#key(name))) {
      const ext = extname(name);
      const stem = name.slice(0, name.length - ext.length);
      for (let k = 2; this.#taken.has(OutputNames.#key((given = `${stem}-${k}${ext}`))); k++);
      this.renamed.push({ wanted: name, given, from });
    }
    this.#taken.add(OutputNames.#key(given));
    return given;
  }

  /** How many names were handed out. */
  get size(): number {
    return this.#taken.size;
  }
}

/** One line for a command's summary about renamed outputs (empty when none was). */
export function describeRenamed(renamed: readonly RenamedOutput[], what: string): string {
  if (renamed.length === 0) return '';
  const shown = renamed.slice(0, 5).map((r) => `${r.from} → ${r.given}`);
  return `${what}: ${renamed.length} output name${renamed.length === 1 ? ' was' : 's were'} already taken by another output and got a -N suffix: ${shown.join(', ')}${renamed.length > 5 ? ', …' : ''}`;
}
