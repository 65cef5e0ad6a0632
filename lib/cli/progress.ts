/**
 * Progress of counted work on the console (images evaluated, faces generated, records packed):
 * one line rewritten in place on a terminal, plain lines off a terminal (at most one per 10 % plus
 * the last), both with elapsed time and ETA. Training has its own reporter (lib/train/progress.ts).
 */
import { EtaClock, formatDuration } from '../train/progress.js';

/** Options of {@link countProgress}. */
export interface CountProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Plain lines even on a terminal. */
  plain?: boolean;
  /** Clock in seconds (tests). */
  now?: () => number;
}

/** A `(label, done, total)` callback; the clock restarts when the label changes. */
export interface CountProgress {
  (label: string, done: number, total: number): void;
  /** Ends an unfinished terminal line (call when the work stops before `done === total`). */
  end(): void;
}

/** Makes a {@link CountProgress} writing to `stream` (default stderr). */
export function countProgress(options: CountProgressOptions = {}): CountProgress {
  const stream = options.stream ?? process.stderr;
  const tty = !options.plain && stream.isTTY === true;
  let label: string | null = null;
  let clock = new EtaClock(options.now);
  let lastTenth = -1;
  let open = false; // a \r line without its newline
  const report = (l: string, done: number, total: number): void => {
    if (l !== label) {
      if (open) stream.write('\n');
      open = false;
      label = l;
      clock = new EtaClock(options.now);
      clock.start(0);
      lastTenth = -1;
    }
    const { elapsed, eta } = clock.at(done, total);
    const line = `${l}: ${done}/${total}  [${formatDuration(elapsed)} elapsed, ETA ${done >= total ? '0:00' : formatDuration(eta)}]`;
    if (tty) {
      stream.write(`\r${line}${done >= total ? '\n' : ''}`);
      open = done < total;
      return;
    }
    const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
    if (done >= total || tenth > lastTenth) {
      lastTenth = tenth;
      stream.write(line + '\n');
    }
  };
  return Object.assign(report, {
    end(): void {
      if (open) stream.write('\n');
      open = false;
    },
  });
}
