/**
 * Run directories are never clobbered: a run starts only in a new or empty directory. An existing
 * non-empty one is refused unless the run resumes it (`--resume`: continue from its checkpoint) or
 * replaces it (`--overwrite`: what an earlier run wrote there is removed first; other files stay).
 * The default name is a time stamp, so unnamed runs never meet.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The default run name: the time as an ISO-8601 stamp fit for a folder name (`2024-05-01T12-30-05-123Z`). */
export function runTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** What a training run writes into its directory (what `overwrite` removes). */
export const RUN_ENTRIES = [
  'config.json',
  'metrics.jsonl',
  'training.log',
  'checkpoint.safetensors',
  'model-best',
  'model-last',
  'plots',
  'tensorboard',
  'report.md',
] as const;

/** Thrown when a run would start in a directory that already holds something. */
export class RunExistsError extends Error {
  constructor(
    readonly runDir: string,
    readonly entries: string[],
  ) {
    const shown = entries.slice(0, 6).join(', ') + (entries.length > 6 ? ', …' : '');
    super(
      `run directory ${runDir} is not empty (${shown}): a new run would overwrite it. ` +
        `Resume it (CLI --resume ${runDir}, or train(config, { resume: true })), replace it (--overwrite / { overwrite: true }), ` +
        `or pick another name (config 'name').`,
    );
    this.name = 'RunExistsError';
  }
}

/** How {@link prepareRunDir} treats an existing directory. */
export interface RunDirMode {
  /** The run continues the directory's checkpoint. */
  resume?: boolean;
  /** Remove what an earlier run wrote, then start afresh. */
  overwrite?: boolean;
}

/**
 * Makes `runDir` ready for a run: creates it, or checks an existing one as the module doc says.
 * Throws {@link RunExistsError} for a non-empty directory without `resume` or `overwrite`.
 */
export function prepareRunDir(runDir: string, mode: RunDirMode = {}): void {
  if (mode.resume && mode.overwrite) throw new Error('train: resume and overwrite exclude each other (resume continues the run, overwrite replaces it)');
  if (existsSync(runDir)) {
    if (!statSync(runDir).isDirectory()) throw new Error(`run directory ${runDir} exists and is not a directory`);
    const entries = readdirSync(runDir).sort();
    if (entries.length && !mode.resume) {
      if (!mode.overwrite) throw new RunExistsError(runDir, entries);
      const ours = new Set<string>(RUN_ENTRIES);
      for (const e of entries) {
        // atomic writes' leftovers (lib/io/atomic.ts: .<name>.tmp-<pid>-<time>) go too
        if (ours.has(e) || /^\..+\.tmp-\d+-\d+$/.test(e)) rmSync(join(runDir, e), { recursive: true, force: true });
      }
    }
  }
  mkdirSync(runDir, { recursive: true });
}
