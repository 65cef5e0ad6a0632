/**
 * `training.log` of a run directory: the plain lines the console shows (lib/train/progress.ts),
 * each prefixed with an ISO-8601 UTC time stamp, appended as the run goes (a resumed run continues
 * the same file after a `resuming in …` line).
 */
import { appendFileSync } from 'node:fs';
import { namingFile } from '../io/write-error.js';
import { ProgressFormatter } from './progress.js';
import type { ProgressEvent } from './types.js';

/** Appends time-stamped lines to a log file. */
export class RunLog {
  private readonly fmt: ProgressFormatter;

  constructor(
    readonly path: string,
    private readonly date: () => Date = () => new Date(),
  ) {
    this.fmt = new ProgressFormatter({ gateDetail: true });
  }

  /** Appends one line (a multi-line text becomes several stamped lines). */
  write(text: string): void {
    const stamp = this.date().toISOString();
    namingFile(this.path, 'appending to', () => appendFileSync(this.path, text.split('\n').map((l) => `${stamp} ${l}\n`).join('')));
  }

  /** Writes the lines of a progress event (use as, or inside, `onProgress`). */
  onProgress = (e: ProgressEvent): void => {
    const lines = this.fmt.lines(e);
    if (lines.length) this.write(lines.join('\n'));
  };
}
